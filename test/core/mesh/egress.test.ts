// Which Sidecar applies to a workload, and which Services its egress imports, row by row
// (docs/semantics.md §3.7; src/core/mesh/egress.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { egressBypass, importsService, sidecarScopeOf } from '../../../src/core/mesh/egress.js';
import type { SidecarScope } from '../../../src/core/model/model.js';
import { buildIndex } from '../../helpers/engine.js';

interface SidecarRow {
  name: string;
  namespace: string;
  created?: string;
  selector?: Record<string, string>;
}
const fx = parse(readFileSync('test/fixtures/core/units/egress.yaml', 'utf8')) as {
  mesh: string;
  scopes: { name: string; sidecars: SidecarRow[]; want: Record<string, string | null> }[];
  imports: [string[] | null, string, string, string, boolean][];
};

const manifests = (rows: readonly SidecarRow[]): string =>
  rows
    .map(({ name, namespace, created, selector }) =>
      stringify({
        apiVersion: 'networking.istio.io/v1',
        kind: 'Sidecar',
        metadata: { name, namespace, ...(created ? { creationTimestamp: created } : {}) },
        spec: { ...(selector ? { workloadSelector: { labels: selector } } : {}), egress: [{ hosts: ['./*'] }] },
      }),
    )
    .join('---\n');

for (const row of fx.scopes) {
  t.test(`sidecarScopeOf: ${row.name}`, async (t) => {
    const idx = await buildIndex({ rule: row.name, add: row.sidecars.length ? `${fx.mesh}\n---\n${manifests(row.sidecars)}` : fx.mesh });
    for (const [at, want] of Object.entries(row.want)) {
      const w = idx.allWorkloads().find((x) => `${x.namespace}/${x.labels['app']}` === at)!;
      const s = sidecarScopeOf(idx, w);
      t.equal(s && `${s.namespace}/${s.name}`, want, at);
    }
  });
}

t.test('importsService', async (t) => {
  for (const [hosts, workloadNs, svcNs, fqdn, want] of fx.imports) {
    const scope: SidecarScope = { name: 's', namespace: 'x', created: '', workloadSelector: null, egressHosts: hosts };
    const what = `${JSON.stringify(hosts)} from ${workloadNs} to ${fqdn}`;
    t.equal(importsService(scope, workloadNs, svcNs, fqdn), want, what);
    // A scope that leaves a Service out says which Sidecar and which host.
    const why = egressBypass(scope, workloadNs, svcNs, fqdn);
    if (want) t.equal(why, null, `${what}: no bypass`);
    else t.match(why, `its Sidecar x/s does not import ${fqdn}`, `${what}: says why`);
  }
});
