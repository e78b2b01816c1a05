// `npm run bench:compare -- <git ref>`: the engine bench with two builds in one process, the
// ref's (built by bench/compare.sh into a worktree) and this one, their rounds alternated so that
// the machine's pauses fall on both alike. Prints each scenario's p50 and p99 for both, the ratio
// now / before, and checks that both builds find as many findings. Each change is judged without
// proving fixes (a fix budget that is always spent): builds from before fixes were proven did no such
// work, so this is the judgement both do. BENCH_FIXES=webhook proves them within the webhook's budget.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Change, IstioObject } from '../../src/core/model/model.js';
import { spentFixBudget, webhookFixBudget } from './fix-budget.js';

const FIXES = process.env['BENCH_FIXES'] === 'webhook' ? webhookFixBudget : spentFixBudget;
import { meshIstioMutual, meshStrict, namespaceStrict, workloadStrict } from './changes.js';

const OLD = resolve(process.argv[2] ?? '');
const ROUNDS = Number(process.env['BENCH_ITERATIONS'] ?? 1000);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 300);
const SEED = 20261122;

interface Engine {
  build(): unknown;
  judge(idx: unknown, o: IstioObject): number;
}

/** Where a module is in a build: the layout by pipeline stage, or the flat one before it. */
function locate(root: string, ...paths: string[]): string {
  return pathToFileURL(join(root, paths.find((p) => existsSync(join(root, p))) ?? paths[0]!)).href;
}

async function engine(root: string): Promise<Engine> {
  const [{ MeshIndex }, { evaluateChange, prepare }, { decide }, gen] = await Promise.all([
    import(locate(root, 'src/core/mesh/mesh-index.js', 'src/core/index.js')),
    import(locate(root, 'src/core/evaluate.js')),
    import(locate(root, 'src/core/verdict/decision.js', 'src/core/decision.js')),
    import(locate(root, 'bench/engine/generate.js')),
  ]);
  const data = gen.generateMesh(SEED, gen.DEFAULT_SIZE);
  return {
    build: () => prepare(MeshIndex.build(data)),
    judge: (idx, object) => {
      const i = idx as { find(o: IstioObject): unknown };
      const change: Change = { operation: i.find(object) ? 'UPDATE' : 'CREATE', object };
      return decide(evaluateChange(idx, change, undefined, FIXES()).findings, 'enforce', 'declared').findings.length;
    },
  };
}

const scenarios: { name: string; make: (i: number) => IstioObject }[] = [
  { name: 'workload', make: (i) => workloadStrict(`b-${i}`, `ns-${(i * 7) % 200}`, `svc-${(i * 13) % 2001}`) },
  { name: 'namespace', make: (i) => namespaceStrict(`b-ns-${i}`, `ns-${(i * 11) % 200}`) },
  { name: 'mesh-wide policy', make: meshStrict },
  { name: 'mesh-wide rule', make: meshIstioMutual },
];

const builds = [await engine(OLD), await engine(resolve('dist'))];
for (const b of builds) {
  const warm = b.build();
  for (let i = 1; i <= WARMUP; i++) for (const s of scenarios) b.judge(warm, s.make(-i));
}
const idx = builds.map((b) => b.build());
const times = builds.map(() => scenarios.map(() => [] as number[]));
const counts = builds.map(() => scenarios.map(() => 0));
for (let r = 0; r < ROUNDS; r++) {
  for (let s = 0; s < scenarios.length; s++) {
    // Alternate which build goes first, so that neither always runs in the other's wake.
    for (const k of r % 2 ? [1, 0] : [0, 1]) {
      const object = scenarios[s]!.make(r);
      const t0 = process.hrtime.bigint();
      counts[k]![s]! += builds[k]!.judge(idx[k], object);
      times[k]![s]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
}
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
console.log(
  `${ROUNDS} rounds per scenario, alternated; fixes ${process.env['BENCH_FIXES'] === 'webhook' ? 'proven within the webhook budget' : 'not proven'}; before = ${OLD}`,
);
console.log(
  'scenario'.padEnd(18),
  'p50 before'.padStart(11),
  'p50 now'.padStart(9),
  'ratio'.padStart(7),
  'p99 before'.padStart(11),
  'p99 now'.padStart(9),
  'findings'.padStart(10),
);
let same = true;
scenarios.forEach((sc, s) => {
  const [a, b] = [pct(times[0]![s]!, 0.5), pct(times[1]![s]!, 0.5)];
  same &&= counts[0]![s] === counts[1]![s];
  console.log(
    sc.name.padEnd(18),
    a.toFixed(3).padStart(11),
    b.toFixed(3).padStart(9),
    (b / a).toFixed(2).padStart(7),
    pct(times[0]![s]!, 0.99).toFixed(3).padStart(11),
    pct(times[1]![s]!, 0.99).toFixed(3).padStart(9),
    `${counts[0]![s]}/${counts[1]![s]}`.padStart(10),
  );
});
if (!same) console.log('the builds found different numbers of findings');
