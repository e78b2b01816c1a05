// `npm run bench:compare-snapshot -- <git ref>`: the live snapshot benchmark with two builds
// against one cluster. The cluster of `npm run bench:snapshot` (bench/snapshot/cluster.ts) is loaded
// once; then each build's measuring process (its own bench/snapshot/run.js in child mode: sync,
// heap, a change judged in every namespace and one mesh-wide, background rebuilds) runs in turn,
// the order alternated round by round. Changes are judged without proving fixes, as builds from
// before fixes were proven did. Prints the median of each measure for both and the ratio now / before.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pool, startBenchCluster } from './cluster.js';

const OLD = resolve(process.argv[2] ?? '');
const PODS = Number(process.env['BENCH_PODS'] ?? 10_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

/** What one measuring process prints (bench/snapshot/run.ts, child mode). */
interface Measured {
  syncS: number;
  perPod: number;
  servedPerPod: number;
  rebuildMs: number;
}

const MEASURES: { key: keyof Measured; name: string }[] = [
  { key: 'syncS', name: 'initial sync (s)' },
  { key: 'perPod', name: 'heap per Pod, synced (B)' },
  { key: 'servedPerPod', name: 'heap per Pod, after changes (B)' },
  { key: 'rebuildMs', name: 'background rebuild (ms)' },
];

function measure(dist: string, kubeconfig: string): Measured {
  const child = spawnSync(process.execPath, ['--expose-gc', join(dist, 'bench', 'snapshot', 'run.js')], {
    env: { ...process.env, BENCH_SNAPSHOT_CHILD: kubeconfig, BENCH_PODS: String(PODS), BENCH_FIXES: 'none' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (child.status !== 0) throw new Error(`the measuring process of ${dist} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Measured;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const { cluster, api, services, pods } = await startBenchCluster(PODS);
try {
  await pool([...services, ...pods], 32, (o) => api.create(o));
  const builds = [OLD, resolve('dist')];
  const runs: Measured[][] = [[], []];
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of r % 2 ? [1, 0] : [0, 1]) runs[k]!.push(measure(builds[k]!, cluster.kubeconfig));
  }
  console.log(`${PODS} Pods, ${ROUNDS} rounds alternated; fixes not proven; before = ${OLD}`);
  console.log('measure'.padEnd(33), 'before'.padStart(9), 'now'.padStart(9), 'ratio'.padStart(7), '  runs now / before');
  for (const { key, name } of MEASURES) {
    const [a, b] = runs.map((rs) => median(rs.map((m) => m[key])));
    const each = runs[1]!.map((m, i) => (m[key] / runs[0]![i]![key]).toFixed(2)).join(' ');
    console.log(name.padEnd(33), a!.toFixed(2).padStart(9), b!.toFixed(2).padStart(9), (b! / a!).toFixed(2).padStart(7), ` ${each}`);
  }
} finally {
  await cluster.stop();
}
