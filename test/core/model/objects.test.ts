// VirtualServices as the snapshot reads them, and the clear error a bad one gets (docs/semantics.md §3.9).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { parseVirtualService } from '../../../src/core/model/objects.js';
import { InvalidObjectError } from '../../../src/core/model/errors.js';

interface Row {
  name: string;
  spec: unknown;
  routes?: unknown[];
  error?: string;
}

const rows = parse(readFileSync('test/fixtures/core/units/virtual-services.yaml', 'utf8')) as Row[];

for (const r of rows) {
  t.test(r.name, async (t) => {
    const read = () =>
      parseVirtualService({
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'web', namespace: 'shop' },
        spec: r.spec,
      });
    if (r.error) {
      t.throws(read, InvalidObjectError, 'an InvalidObjectError');
      t.throws(read, { message: new RegExp(r.error.replace(/[.[\]]/g, '\\$&')) }, `names ${r.error}`);
    } else t.same(read().routes, r.routes);
  });
}
