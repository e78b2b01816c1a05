// `npm run bench`: p50/p99 of `check` evaluation on a seeded synthetic mesh (issue: engine performance).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Change, IstioObject } from '../../src/core/model/model.js';
import { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { evaluateChange, prepare } from '../../src/core/evaluate.js';
import { decide } from '../../src/core/verdict/decision.js';
import { DEFAULT_SIZE, generateMesh, rng } from './generate.js';
import { spentFixBudget, webhookFixBudget } from './fix-budget.js';
import { meshIstioMutual, meshStrict, namespaceStrict, workloadStrict } from './changes.js';

const SEED = 20261122;
const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 1000);

interface Scenario {
  readonly name: string;
  readonly make: (i: number) => IstioObject;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const data = generateMesh(SEED, DEFAULT_SIZE);
const t0 = process.hrtime.bigint();
const idx = MeshIndex.build(data);
const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
// What `serve` does after each build, in the background.
const t1 = process.hrtime.bigint();
prepare(idx);
const prepareMs = Number(process.hrtime.bigint() - t1) / 1e6;
const r = rng(SEED + 1);
const ns = (): string => `ns-${Math.floor(r() * DEFAULT_SIZE.namespaces)}`;
const scenarios: Scenario[] = [
  {
    name: 'workload-scoped (PeerAuthentication STRICT with a selector)',
    make: (i) => {
      const s = Math.floor(r() * DEFAULT_SIZE.services);
      return workloadStrict(`bench-${i}`, `ns-${s % DEFAULT_SIZE.namespaces}`, `svc-${s}`);
    },
  },
  { name: 'namespace-scoped (PeerAuthentication STRICT for a namespace)', make: (i) => namespaceStrict(`bench-ns-${i}`, ns()) },
  { name: 'mesh-scoped (root PeerAuthentication STRICT)', make: meshStrict },
  { name: 'mesh-scoped (DestinationRule *.local ISTIO_MUTUAL)', make: meshIstioMutual },
];

// Untimed rounds first, so that the timed ones run code compiled with settled type feedback, as in
// a webhook that has served a while. They run on an index of their own, dropped afterwards: the
// timed index holds only what `prepare` put there, as after a fresh snapshot, so no timed change
// finds its answers memoised by a warm-up round.
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 300);
{
  const warm = prepare(MeshIndex.build(data));
  for (let i = 1; i <= WARMUP; i++)
    for (const s of scenarios) evaluateChange(warm, { operation: 'CREATE', object: s.make(-i) }, undefined, webhookFixBudget());
}

/** p50 and p99 of one scenario, each round judged with a fresh fix budget, and the findings per round. */
function time(s: Scenario, from: number, fixBudget: () => () => boolean): { p50: number; p99: number; findings: number } {
  const times: number[] = [];
  let findings = 0;
  for (let i = from; i < from + ITERATIONS; i++) {
    const object = s.make(i);
    const change: Change = { operation: idx.find(object) ? 'UPDATE' : 'CREATE', object };
    const start = process.hrtime.bigint();
    const ev = evaluateChange(idx, change, undefined, fixBudget());
    const v = decide(ev.findings, 'enforce', 'declared');
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    findings += v.findings.length;
  }
  times.sort((a, b) => a - b);
  return { p50: +percentile(times, 0.5).toFixed(3), p99: +percentile(times, 0.99).toFixed(3), findings: Math.round(findings / ITERATIONS) };
}

// Judged alone (the engine's own cost), then as the webhook answers: with each finding's fixes
// proven within the request's fix budget (src/admission/budget.ts).
const results = scenarios.map((s) => {
  const judged = time(s, 0, spentFixBudget);
  const withFixes = time(s, 1_000_000, webhookFixBudget);
  return {
    scenario: s.name,
    iterations: ITERATIONS,
    p50_ms: judged.p50,
    p99_ms: judged.p99,
    with_fixes_p50_ms: withFixes.p50,
    with_fixes_p99_ms: withFixes.p99,
    mean_findings: judged.findings,
  };
});

const report = {
  date: new Date().toISOString(),
  node: process.version,
  seed: SEED,
  mesh: {
    ...DEFAULT_SIZE,
    workloads: data.workloads.length,
    peerAuthentications: data.peerAuthentications.length,
    destinationRules: data.destinationRules.length,
  },
  index_build_ms: +buildMs.toFixed(1),
  index_prepare_ms: +prepareMs.toFixed(1),
  results,
};
console.log(
  `mesh: ${DEFAULT_SIZE.pods} pods in ${data.workloads.length} workloads, ${data.services.length} services, ${DEFAULT_SIZE.namespaces} namespaces; index built in ${buildMs.toFixed(1)} ms, prepared in ${prepareMs.toFixed(1)} ms`,
);
console.log(
  'scenario'.padEnd(62),
  'p50 ms'.padStart(9),
  'p99 ms'.padStart(9),
  '+fixes p50'.padStart(11),
  '+fixes p99'.padStart(11),
  'findings'.padStart(9),
);
for (const x of results)
  console.log(
    x.scenario.padEnd(62),
    String(x.p50_ms).padStart(9),
    String(x.p99_ms).padStart(9),
    String(x.with_fixes_p50_ms).padStart(11),
    String(x.with_fixes_p99_ms).padStart(11),
    String(x.mean_findings).padStart(9),
  );
const dir = join(process.cwd(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'engine.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log('wrote bench/results/engine.json');
