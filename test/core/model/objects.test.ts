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
  /** The field the error names. */
  error?: string;
  /** The words of the problem, where the field can fail in more than one way. */
  words?: string;
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
      const named = `${r.error}${r.words ? `: ${r.words}` : ''}`;
      t.throws(read, { message: new RegExp(named.replace(/[.[\]]/g, '\\$&')) }, `names ${named}`);
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
