// An index after changes answers as an index built from scratch with them: the memo layers a
// derived index shares with its parent never hold a stale answer (src/core/mesh/mesh-index.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { simulate } from '../../../src/core/evaluate.js';
import { MeshIndex, objectKey } from '../../../src/core/mesh/mesh-index.js';
import { serviceLabel, type Change, type Workload } from '../../../src/core/model/model.js';
import { parseIstioObject } from '../../../src/core/model/objects.js';
import { enrolled } from '../../../src/core/verdict/prove.js';
import { buildIndex } from '../../helpers/engine.js';

interface Row {
  name: string;
  changes: { operation: Change['operation']; manifest: string }[];
}
const fx = parse(readFileSync('test/fixtures/core/units/apply.yaml', 'utf8')) as {
  base: string;
  objects: string;
  rows: Row[];
  moves: Record<string, 'sidecar' | 'ambient'>[];
};

/** Every connection's outcome, one line each. */
function outcomes(idx: MeshIndex): string[] {
  return simulate(idx).map((c) => `${c.client} -> ${c.service}:${c.port} ${c.outcome.code} ${c.outcome.tlsMode}: ${c.outcome.reason}`);
}

const docs = (text: string): Record<string, unknown>[] =>
  text
    .split(/^---$/m)
    .map((d) => parse(d) as Record<string, unknown>)
    .filter(Boolean);
const keyOf = (d: Record<string, unknown>): string => objectKey(parseIstioObject(d));

for (const row of fx.rows) {
  t.test(row.name, async (t) => {
    let idx = await buildIndex({ rule: row.name, base: fx.base, add: fx.objects });
    // Warm every layer first: a stale answer can only come from a layer filled before the change.
    outcomes(idx);
    let objects = docs(fx.objects);
    for (const c of row.changes) {
      const [d] = docs(c.manifest);
      idx = idx.apply({ operation: c.operation, object: parseIstioObject(d!) });
      objects = objects.filter((o) => keyOf(o) !== keyOf(d!));
      if (c.operation !== 'DELETE') objects.push(d!);
      const fresh = await buildIndex({ rule: row.name, base: fx.base, add: objects.map((o) => stringify(o)).join('---\n') });
      t.same(outcomes(idx), outcomes(fresh), `after ${c.operation} ${keyOf(d!)}`);
    }
  });
}

for (const m of fx.moves) {
  t.test(`withWorkloads: ${JSON.stringify(m)}`, async (t) => {
    const idx = await buildIndex({ rule: 'moves', base: fx.base, add: fx.objects });
    outcomes(idx);
    const moved = new Map<Workload, Workload>();
    for (const w of idx.allWorkloads()) {
      const to = m[`${w.namespace}/${w.name}`];
      if (to) moved.set(w, enrolled(w, to));
    }
    t.equal(moved.size, Object.keys(m).length, 'every workload named is in the snapshot');
    const fresh = MeshIndex.build({ ...idx.data, workloads: idx.data.workloads.map((w) => moved.get(w) ?? w) });
    const after = idx.withWorkloads(moved);
    t.same(outcomes(after), outcomes(fresh), 'every connection');
    const behind = (x: MeshIndex) =>
      x.allWorkloads().map((w) => `${w.namespace}/${w.name}: ${x.servicesOf(w).map(serviceLabel).join(', ')}`);
    t.same(behind(after), behind(fresh), 'the Services each workload is behind');
  });
}
