// `npm run bench:scale`: the engine at 1,000, 10,000 and 100,000 pods (services and namespaces in
// the proportions of bench/engine), each size in a process of its own (`--size N`), so that heap
// figures are that size's alone: index build and prepare time, retained heap per pod, and the p50
// and p99 of a workload, namespace and mesh-wide change. Writes bench/results/scale.json and the
// plot docs/performance-scale.svg (bench/scale/plot.ts). Targets at 100,000 pods (issue 19):
// scoped p99 ≤ 1 ms, mesh-wide p99 ≤ 50 ms.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Change, IstioObject } from '../../src/core/model/model.js';
import { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { evaluateChange, prepare } from '../../src/core/evaluate.js';
import { generateMesh, rng, type MeshSize } from '../engine/generate.js';
import { writePlot } from './plot.js';
import { spentFixBudget, webhookFixBudget } from '../engine/fix-budget.js';
import { meshIstioMutual, meshStrict, namespaceStrict, workloadStrict } from '../engine/changes.js';

const SIZES = (process.env['BENCH_SCALE_SIZES'] ?? '1000,10000,100000').split(',').map(Number);
const SEED = 20261122;

/** The proportions of bench/engine's 10,000-pod mesh, at `pods`. */
function sizeFor(pods: number): MeshSize {
  return { pods, services: Math.round(pods / 5), namespaces: Math.max(10, Math.round(pods / 50)), noSidecar: 0.3 };
}

interface Timing {
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly rounds: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** One size, measured in this process (run with --expose-gc). */
function measure(pods: number): Record<string, unknown> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const size = sizeFor(pods);
  const data = generateMesh(SEED, size);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  const built = MeshIndex.build(data);
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const t1 = process.hrtime.bigint();
  const idx = prepare(built);
  const prepareMs = Number(process.hrtime.bigint() - t1) / 1e6;
  gc();
  const heapPerPod = (process.memoryUsage().heapUsed - heap0) / pods;
  const r = rng(SEED + 1);
  const scenarios: { name: string; rounds: number; make: (i: number) => IstioObject }[] = [
    {
      name: 'workload',
      rounds: 500,
      make: (i) => {
        const s = Math.floor(r() * size.services);
        return workloadStrict(`bench-${i}`, `ns-${s % size.namespaces}`, `svc-${s}`);
      },
    },
    { name: 'namespace', rounds: 500, make: (i) => namespaceStrict(`bench-ns-${i}`, `ns-${Math.floor(r() * size.namespaces)}`) },
    { name: 'mesh-wide policy', rounds: 200, make: meshStrict },
    { name: 'mesh-wide rule', rounds: 200, make: meshIstioMutual },
  ];
  // Untimed rounds on an index of their own, as bench/engine does.
  const warm = prepare(MeshIndex.build(data));
  for (let i = 1; i <= 50; i++)
    for (const s of scenarios) evaluateChange(warm, { operation: 'CREATE', object: s.make(-i) }, undefined, webhookFixBudget());
  // Each change is timed twice: judged alone (no fix tried), and as the webhook answers it, with
  // its fixes proven within the request's fix budget (src/admission/budget.ts).
  const time = (s: (typeof scenarios)[number], from: number, fixBudget: () => () => boolean): Timing => {
    const times: number[] = [];
    for (let i = from; i < from + s.rounds; i++) {
      const object = s.make(i);
      const change: Change = { operation: idx.find(object) ? 'UPDATE' : 'CREATE', object };
      const start = process.hrtime.bigint();
      evaluateChange(idx, change, undefined, fixBudget());
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    return { p50_ms: +percentile(times, 0.5).toFixed(3), p99_ms: +percentile(times, 0.99).toFixed(3), rounds: s.rounds };
  };
  const results: Record<string, Timing> = {};
  const requests: Record<string, Timing> = {};
  for (const s of scenarios) {
    results[s.name] = time(s, 0, spentFixBudget);
    requests[s.name] = time(s, 100_000, webhookFixBudget);
  }
  return {
    pods,
    size,
    index_build_ms: +buildMs.toFixed(1),
    index_prepare_ms: +prepareMs.toFixed(1),
    heap_bytes_per_pod: Math.round(heapPerPod),
    changes: results,
    requests,
  };
}

const one = process.argv.indexOf('--size');
if (one >= 0) {
  console.log(JSON.stringify(measure(Number(process.argv[one + 1]))));
} else {
  const points = SIZES.map((pods) => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', process.argv[1]!, '--size', String(pods)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`size ${pods} failed`);
    const p = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, any> & {
      pods: number;
      changes: Record<string, { p50_ms: number; p99_ms: number }>;
    };
    const line = (m: Record<string, { p50_ms: number; p99_ms: number }>): string =>
      Object.entries(m)
        .map(([k, v]) => `${k} p50 ${v.p50_ms} p99 ${v.p99_ms} ms`)
        .join('; ');
    console.log(
      `${String(pods).padStart(7)} pods: build ${p['index_build_ms']} ms, prepare ${p['index_prepare_ms']} ms, ${p['heap_bytes_per_pod']} B/pod\n` +
        `          judged: ${line(p.changes)}\n          with fixes (webhook budget): ${line(p['requests'])}`,
    );
    return p;
  });
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    seed: SEED,
    cpus: readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown',
    points,
  };
  mkdirSync(join('bench', 'results'), { recursive: true });
  writeFileSync(join('bench', 'results', 'scale.json'), `${JSON.stringify(report, null, 2)}\n`);
  writePlot(report, join('docs', 'performance-scale.svg'));
  console.log('wrote bench/results/scale.json and docs/performance-scale.svg');
}
