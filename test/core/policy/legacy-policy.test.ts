// The legacy v1alpha1 policy for a Service port, and the mode of a port no Service reaches,
// row by row (docs/semantics.md §2.3, §2.5).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { objectRef } from '../../../src/core/model/model.js';
import { legacyPolicyFor, serverMode } from '../../../src/core/policy/peer-auth.js';
import { buildIndex, portAt } from '../../helpers/engine.js';

interface PolicyRow {
  kind?: 'Policy' | 'MeshPolicy';
  name: string;
  namespace?: string;
  targets?: unknown[];
  mode: string;
}
interface Row {
  name: string;
  policies: PolicyRow[];
  ports: Record<string, string | null>;
  modes?: Record<string, string>;
}

const fx = parse(readFileSync('test/fixtures/core/units/legacy-policy.yaml', 'utf8')) as { mesh: string; rows: Row[] };

function manifests(policies: readonly PolicyRow[]): string {
  return policies
    .map(({ kind = 'Policy', name, namespace = 'shop', targets, mode }) =>
      stringify({
        apiVersion: 'authentication.istio.io/v1alpha1',
        kind,
        metadata: kind === 'MeshPolicy' ? { name } : { name, namespace },
        spec: { ...(targets ? { targets } : {}), peers: [{ mtls: { mode } }] },
      }),
    )
    .join('---\n');
}

for (const row of fx.rows) {
  t.test(row.name, async (t) => {
    const add = row.policies.length ? `${fx.mesh}\n---\n${manifests(row.policies)}` : fx.mesh;
    const idx = await buildIndex({ rule: row.name, add, version: '1.4' });
    for (const [at, want] of Object.entries(row.ports)) {
      const { svc, port } = portAt(idx, at);
      const p = legacyPolicyFor(idx, svc, port);
      t.equal(p ? objectRef(p) : null, want, at);
    }
    for (const [version, want] of Object.entries(row.modes ?? {})) {
      const vidx = await buildIndex({ rule: row.name, add, version });
      const w = vidx.data.workloads.find((x) => x.name === 'web')!;
      t.equal(serverMode(vidx, w, 8080).mode, want, `Istio ${version}, port 8080 without a Service port`);
    }
  });
}
