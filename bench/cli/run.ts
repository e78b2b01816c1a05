// `npm run bench:cli`: the wall time of `check` and `simulate` on the example mesh as processes,
// against `node -e 0` on the same Node, alternated round by round so that the machine's noise
// falls on all alike. Target (issue 19): each within 5x of `node -e 0`. Writes bench/results/cli.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROUNDS = Number(process.env['BENCH_CLI_ROUNDS'] ?? 21);
const BIN = join('dist', 'src', 'cli', 'main.js');
const commands: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  simulate: [BIN, 'simulate', '-f', 'examples/mesh-current'],
  check: [
    BIN,
    'check',
    '-f',
    'examples/changes/strict-foo.yaml',
    '--cluster',
    'examples/mesh-current',
    '--telemetry',
    'examples/telemetry/legacy-plaintext.prom',
  ],
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
// One untimed round first: it fills Node's compile cache, as any earlier run on the machine has.
for (let round = -1; round < ROUNDS; round++) {
  for (const [name, args] of Object.entries(commands)) {
    const s = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - s;
    if (r.status !== 0 && !(name === 'check' && r.status === 1)) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
    if (round >= 0) times[name]!.push(ms);
  }
}
const base = median(times['node -e 0']!);
const result = {
  date: new Date().toISOString(),
  node: process.version,
  rounds: ROUNDS,
  median_ms: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(median(v))])),
  ratio_to_node: Object.fromEntries(
    Object.entries(times)
      .filter(([k]) => k !== 'node -e 0')
      .map(([k, v]) => [k, Math.round((median(v) / base) * 10) / 10]),
  ),
  target_ratio: 5,
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(join('bench', 'results', 'cli.json'), `${JSON.stringify(result, null, 2)}\n`);
