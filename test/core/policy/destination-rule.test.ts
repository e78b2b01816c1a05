// A subset's policy at a port, row by row (docs/semantics.md §3.9).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { parseIstioObject } from '../../../src/core/model/objects.js';
import { subsetPolicy } from '../../../src/core/policy/destination-rule.js';
import type { DestinationRule } from '../../../src/core/model/model.js';

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
    // The rule goes through the parser, as a user's would.
    const dr = parseIstioObject({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        host: 'web',
        ...(r.rule ? { trafficPolicy: r.rule } : {}),
        subsets: [{ name: 'v1', labels: { version: 'v1' }, ...(r.subset ? { trafficPolicy: r.subset } : {}) }],
      },
    }) as DestinationRule;
    const p = subsetPolicy(dr.trafficPolicy, dr.subsets![0]!, r.port);
    t.same(
      { tls: p.tls?.mode ?? null, passthrough: p.passthrough, inferPassthrough: p.inferPassthrough, endpointMode: p.endpointMode },
      r.want,
    );
  });
}
