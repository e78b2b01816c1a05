// simulate and simulateSize with filters, row by row (src/core/evaluate.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { simulate, simulateSize, type SimulateFilter } from '../../src/core/evaluate.js';
import { buildIndex } from '../helpers/engine.js';

interface Row {
  name: string;
  client?: string[];
  service?: string[];
  size: number;
  lines: string[];
}
const rows = parse(readFileSync('test/fixtures/core/units/simulate.yaml', 'utf8')) as Row[];

t.test('simulate filters', async (t) => {
  const idx = await buildIndex({ rule: 'simulate', base: 'examples/mesh-current' });
  for (const r of rows) {
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
