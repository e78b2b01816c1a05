// Which VirtualService and clusters a namespace's sidecars take to a Service port, row by row
// (docs/semantics.md §3.9).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { routedAnywhere, routeViews, routingOf } from '../../../src/core/mesh/routes.js';
import { buildIndex, portAt } from '../../helpers/engine.js';

interface VsRow {
  name: string;
  namespace?: string;
  created?: string;
  gateways?: string[];
  exportTo?: string[];
  [field: string]: unknown;
}
interface RoutingRow {
  from: string;
  to: string;
  none?: boolean;
  vs?: string;
  clusters?: string[];
}
interface Row {
  name: string;
  vs: VsRow[];
  routing: RoutingRow[];
  anywhere?: boolean;
  views?: string[];
}

const fx = parse(readFileSync('test/fixtures/core/units/routes.yaml', 'utf8')) as { mesh: string; rows: Row[] };

/** A row's VirtualServices as manifests: name, namespace and age in metadata, the rest as the spec. */
function manifests(vses: readonly VsRow[]): string {
  return vses
    .map(({ name, namespace, created, ...spec }) =>
      stringify({
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name, namespace: namespace ?? 'shop', ...(created ? { creationTimestamp: created } : {}) },
        spec,
      }),
    )
    .join('---\n');
}

for (const row of fx.rows) {
  t.test(row.name, async (t) => {
    const idx = await buildIndex({ rule: row.name, base: 'examples/mesh-current', add: `${fx.mesh}\n---\n${manifests(row.vs)}` });
    for (const q of row.routing) {
      const { svc, port } = portAt(idx, q.to);
      const r = routingOf(idx, q.from, svc, port);
      const got = r && { vs: `${r.vs.namespace}/${r.vs.name}`, clusters: r.to.map((c) => `${c.subset ?? '-'}@${c.port.port}`) };
      t.same(got, q.none ? null : { vs: q.vs, clusters: q.clusters }, `${q.from} to ${q.to}`);
      t.equal(routingOf(idx, q.from, svc, port), r, `${q.from} to ${q.to}: asked again, the same answer`);
    }
    if (row.anywhere !== undefined) t.equal(routedAnywhere(idx, portAt(idx, 'shop/web:80').svc), row.anywhere, 'routedAnywhere shop/web');
    if (row.views) t.same([...routeViews(idx)].sort(), row.views, 'routeViews');
  });
}
