// The mode a PeerAuthentication gives, row by row (src/core/policy/peer-auth.ts): a workload port's
// mode and its source, the namespace mode auto mTLS reads, and a namespace's base.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { namespaceBase, namespaceMode, serverMode } from '../../../src/core/policy/peer-auth.js';
import { buildIndex, portAt, workloadAt } from '../../helpers/engine.js';

interface Row {
  name: string;
  version?: string;
  policies?: string;
  server?: { at: string; via?: string; mode: string; source: string }[];
  namespace?: Record<string, string | null>;
  base?: Record<string, string>;
}

const fx = parse(readFileSync('test/fixtures/core/units/peer-auth.yaml', 'utf8')) as { mesh: string; rows: Row[] };

for (const row of fx.rows) {
  t.test(row.name, async (t) => {
    const idx = await buildIndex({
      rule: row.name,
      add: [fx.mesh, row.policies ?? ''].join('\n---\n'),
      ...(row.version ? { version: row.version } : {}),
    });
    for (const q of row.server ?? []) {
      const colon = q.at.lastIndexOf(':');
      const w = workloadAt(idx, q.at.slice(0, colon));
      const port = q.at.slice(colon + 1);
      const via = q.via ? portAt(idx, q.via) : undefined;
      const got = serverMode(idx, w, Number(port), via?.svc, via?.port);
      t.equal(got.mode, q.mode, `${q.at}${q.via ? ` via ${q.via}` : ''}: mode`);
      t.match(got.source, q.source, `${q.at}: source`);
      t.equal(serverMode(idx, w, Number(port), via?.svc, via?.port), got, `${q.at}: asked again, the same answer`);
    }
    for (const [ns, want] of Object.entries(row.namespace ?? {}))
      t.equal(namespaceMode(idx, ns)?.mode ?? null, want, `namespaceMode ${ns}`);
    for (const [ns, want] of Object.entries(row.base ?? {})) t.equal(namespaceBase(idx, ns).mode, want, `namespaceBase ${ns}`);
  });
}
