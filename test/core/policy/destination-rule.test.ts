// A subset's policy at a port, row by row (docs/semantics.md §3.9).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { subsetPolicy } from '../../../src/core/policy/destination-rule.js';
import { webRule } from '../../helpers/engine.js';

interface Row {
  name: string;
  rule: unknown;
  subset: unknown;
  port: number;
  want: { tls: string | null; passthrough: boolean; inferPassthrough: boolean; endpointMode: string | null };
}

const rows = parse(readFileSync('test/fixtures/core/units/subset-policy.yaml', 'utf8')) as Row[];

for (const r of rows) {
  t.test(r.name, async (t) => {
    const dr = webRule({
      ...(r.rule ? { trafficPolicy: r.rule } : {}),
      subsets: [{ name: 'v1', labels: { version: 'v1' }, ...(r.subset ? { trafficPolicy: r.subset } : {}) }],
    });
    const p = subsetPolicy(dr.trafficPolicy, dr.subsets![0]!, r.port);
    t.same(
      { tls: p.tls?.mode ?? null, passthrough: p.passthrough, inferPassthrough: p.inferPassthrough, endpointMode: p.endpointMode },
      r.want,
    );
  });
}
