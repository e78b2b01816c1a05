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
  /** Other parts of what is read: hosts, gateways, exportTo. */
  fields?: Record<string, unknown>;
  /** The field the error names (a pattern, dots and brackets taken literally unless escaped). */
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
      t.throws(read, { message: new RegExp(r.error.includes('\\') ? r.error : r.error.replace(/[.[\]]/g, '\\$&')) }, `names ${r.error}`);
    } else {
      const vs = read() as unknown as Record<string, unknown>;
      t.same(vs['routes'], r.routes);
      for (const [k, v] of Object.entries(r.fields ?? {})) t.same(vs[k], v, k);
    }
  });
}

t.test('a VirtualService without a namespace is in the default namespace', async (t) => {
  const vs = parseVirtualService({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'web' }, spec: {} });
  t.same([vs.namespace, vs.name], ['default', 'web']);
});
