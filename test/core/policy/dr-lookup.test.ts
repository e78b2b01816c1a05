// Which DestinationRule a client uses, and the shortcuts the grouped engine reads from the same
// pools, row by row (docs/semantics.md §3.4 to §3.6).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, stringify } from 'yaml';
import type { DestinationRule } from '../../../src/core/model/model.js';
import {
  exportedForAll,
  lookupDestinationRule,
  namedExportNamespaces,
  ownNamespaceDecides,
  portPolicy,
  rootForAll,
  seesAllOwnRules,
} from '../../../src/core/policy/destination-rule.js';
import { buildIndex, webRule } from '../../helpers/engine.js';

interface RuleRow {
  name: string;
  namespace?: string;
  created?: string;
  host: string;
  exportTo?: string[];
  workloadSelector?: unknown;
  tls?: string;
}
type Ref = string | null;
interface Row {
  name: string;
  version?: string;
  meshConfig?: Record<string, unknown>;
  rules: RuleRow[];
  lookup: { from: string; labels?: Record<string, string>; to: string; rule: Ref }[];
  named?: string[];
  seesAll?: Record<string, boolean>;
  decides?: { ns: string; to: string; want: boolean }[];
  forAll?: { to: string; want: Ref | 'depends' }[];
  root?: { to: string; want: Ref | 'depends' }[];
}
interface PortRow {
  name: string;
  policy: unknown;
  port: number;
  want: { tls: string | null; passthrough: boolean; inferPassthrough: boolean; endpointMode: string | null };
}

const fx = parse(readFileSync('test/fixtures/core/units/dr-lookup.yaml', 'utf8')) as { mesh: string; rows: Row[]; ports: PortRow[] };

/** The Services a row can ask about, by short name. */
const SERVICES: Record<string, { fqdn: string; ns: string }> = {
  web: { fqdn: 'web.shop.svc.cluster.local', ns: 'shop' },
  db: { fqdn: 'db.b.svc.cluster.local', ns: 'b' },
};

function manifests(row: Row): string {
  const docs = row.rules.map(({ name, namespace, created, tls, ...spec }) => ({
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'DestinationRule',
    metadata: { name, namespace: namespace ?? 'shop', ...(created ? { creationTimestamp: created } : {}) },
    spec: { ...spec, ...(tls ? { trafficPolicy: { tls: { mode: tls } } } : {}) },
  }));
  if (row.meshConfig)
    docs.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: stringify(row.meshConfig) },
    } as never);
  return docs.map((d) => stringify(d)).join('---\n');
}

const ref = (dr: DestinationRule | null | undefined): Ref | 'depends' =>
  dr === undefined ? 'depends' : dr && `${dr.namespace}/${dr.name}`;

for (const row of fx.rows) {
  t.test(row.name, async (t) => {
    const add = row.rules.length || row.meshConfig ? `${fx.mesh}\n---\n${manifests(row)}` : fx.mesh;
    const idx = await buildIndex({ rule: row.name, add, ...(row.version ? { version: row.version } : {}) });
    for (const q of row.lookup) {
      const to = SERVICES[q.to]!;
      const got = lookupDestinationRule(idx, { namespace: q.from, labels: q.labels ?? {} }, to.fqdn, to.ns);
      t.equal(ref(got), q.rule, `${q.from}${q.labels ? ` ${JSON.stringify(q.labels)}` : ''} to ${q.to}`);
    }
    if (row.named) t.same([...namedExportNamespaces(idx)].sort(), row.named, 'namedExportNamespaces');
    for (const [ns, want] of Object.entries(row.seesAll ?? {})) t.equal(seesAllOwnRules(idx, ns), want, `seesAllOwnRules ${ns}`);
    for (const q of row.decides ?? [])
      t.equal(ownNamespaceDecides(idx, q.ns, SERVICES[q.to]!.fqdn), q.want, `ownNamespaceDecides ${q.ns} ${q.to}`);
    for (const q of row.forAll ?? []) {
      const to = SERVICES[q.to]!;
      t.equal(ref(exportedForAll(idx, to.fqdn, to.ns)), q.want, `exportedForAll ${q.to}`);
    }
    for (const q of row.root ?? []) t.equal(ref(rootForAll(idx, SERVICES[q.to]!.fqdn)), q.want, `rootForAll ${q.to}`);
  });
}

for (const r of fx.ports) {
  t.test(`portPolicy: ${r.name}`, async (t) => {
    const dr = webRule(r.policy ? { trafficPolicy: r.policy } : {});
    const p = portPolicy(dr.trafficPolicy, r.port);
    t.same(
      { tls: p.tls?.mode ?? null, passthrough: p.passthrough, inferPassthrough: p.inferPassthrough, endpointMode: p.endpointMode },
      r.want,
    );
  });
}
