// How istiod files DestinationRules for one host and which one a client takes, row by row
// (docs/semantics.md §3.6). test/fixtures/core/units/consolidated-rules.yaml holds the rows.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import type { DestinationRule, Labels } from '../../../src/core/model/model.js';
import { type Filed, fileRules, filingOrder, mostSpecificHost, ruleForClient } from '../../../src/core/policy/consolidated-rules.js';

interface RuleRow {
  name: string;
  exportTo?: string[];
  selector?: Labels;
  tls?: boolean;
  created?: string;
  /** Names of its subsets (each selects `version: <name>`). */
  subsets?: string[];
}
interface Row {
  name: string;
  keepApart?: boolean;
  rules: RuleRow[];
  filed: string[];
  /** The subsets of each consolidated rule after merging, by the name of its first rule. */
  subsets?: Record<string, string[]>;
  clients: { ns: string; labels?: Labels; takes: string | null }[];
}

const HOST = 'web.legacy.svc.cluster.local';
const rows = parse(readFileSync('test/fixtures/core/units/consolidated-rules.yaml', 'utf8')) as Row[];

function filed(r: RuleRow, i: number): Filed {
  const rule: DestinationRule = {
    kind: 'DestinationRule',
    apiVersion: 'networking.istio.io/v1',
    name: r.name,
    namespace: 'foo',
    created: r.created ?? new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
    annotations: {},
    host: HOST,
    exportTo: r.exportTo ?? null,
    workloadSelector: r.selector ?? null,
    trafficPolicy: r.tls ? { tls: { mode: 'ISTIO_MUTUAL' }, portLevel: [] } : null,
    ...(r.subsets ? { subsets: r.subsets.map((name) => ({ name, labels: { version: name }, trafficPolicy: null })) } : {}),
  };
  return { rule, host: HOST, exportTo: new Set(r.selector ? ['.'] : (r.exportTo ?? [])), selector: r.selector ?? null };
}

for (const row of rows) {
  t.test(row.name, async (t) => {
    const rules = row.rules.map(filed).sort(filingOrder);
    const pool = fileRules(rules, row.keepApart ?? true);
    const list = pool.byHost.get(HOST) ?? [];
    t.same(
      list.map((c) => (c.policyFrom ? `${c.first.name}<-${c.policyFrom.name}` : c.first.name)),
      row.filed,
      'filed as',
    );
    if (row.subsets)
      t.same(Object.fromEntries(list.map((c) => [c.first.name, c.subsets.map((x) => x.name)])), row.subsets, 'subsets after merging');
    for (const c of row.clients) {
      t.equal(ruleForClient(list, c.ns, c.labels ?? {})?.name ?? null, c.takes, `a client in ${c.ns} ${JSON.stringify(c.labels ?? {})}`);
    }
  });
}

interface HostRow {
  name: string;
  hosts: string[];
  asks: Record<string, string | null>;
}
const hostRows = parse(readFileSync('test/fixtures/core/units/most-specific-host.yaml', 'utf8')) as HostRow[];

for (const row of hostRows) {
  t.test(`most specific host: ${row.name}`, async (t) => {
    const rules = row.hosts.map((host, i) => ({ ...filed({ name: `r${i}` }, i), host }));
    const pool = fileRules(rules, true);
    for (const [fqdn, host] of Object.entries(row.asks)) t.equal(mostSpecificHost(pool, fqdn) ?? null, host, fqdn);
  });
}
