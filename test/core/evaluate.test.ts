// simulate and simulateSize with filters, and describeChange, row by row (src/core/evaluate.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { describeChange, simulate, simulateSize, type SimulateFilter } from '../../src/core/evaluate.js';
import type { Change } from '../../src/core/model/model.js';
import { parseIstioObject } from '../../src/core/model/objects.js';
import { buildIndex } from '../helpers/engine.js';

interface Row {
  name: string;
  /** Manifests added to the demo mesh for this row, and the Istio version they assume. */
  add?: string;
  version?: string;
  client?: string[];
  service?: string[];
  size: number;
  lines: string[];
}
const rows = parse(readFileSync('test/fixtures/core/units/simulate.yaml', 'utf8')) as Row[];

t.test('simulate filters', async (t) => {
  for (const r of rows) {
    const idx = await buildIndex({
      rule: r.name,
      base: 'examples/mesh-current',
      ...(r.add ? { add: r.add } : {}),
      ...(r.version ? { version: r.version } : {}),
    });
    const f: SimulateFilter = {
      ...(r.client ? { client: (c: string) => r.client!.includes(c) } : {}),
      ...(r.service ? { service: (s: string, p: number) => r.service!.includes(`${s}:${p}`) } : {}),
    };
    t.equal(simulateSize(idx, f), r.size, `${r.name}: size`);
    t.same(
      simulate(idx, f).map((c) => `${c.client} to ${c.service}:${c.port} ${c.outcome.code}`),
      r.lines,
      `${r.name}: connections`,
    );
  }
});

t.test('describeChange', async (t) => {
  const described = parse(readFileSync('test/fixtures/core/units/describe-change.yaml', 'utf8')) as {
    operation: Change['operation'];
    object: Record<string, unknown>;
    want: string;
  }[];
  for (const r of described) t.equal(describeChange({ operation: r.operation, object: parseIstioObject(r.object) }), r.want, r.want);
});
