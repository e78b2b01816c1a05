// `npm run bench:https`: POST /validate over HTTPS with 10 keep-alive connections (autocannon), to
// `mtls-guard serve` on the example mesh and to a no-op Fastify HTTPS handler with the same TLS,
// server options and Node (bench/https/noop.ts), each in a process of its own, alternated round
// by round, for an allowed and a denied review. Targets (issue 19): at least 0.8x the no-op's
// requests per second, and a p99 at most 2x. Writes bench/results/https.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import autocannon from 'autocannon';
import { makeCerts } from '../../src/cli/certs.js';

const ROUNDS = Number(process.env['BENCH_HTTPS_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['BENCH_HTTPS_SECONDS'] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-https-'));
await makeCerts({ out: dir, service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'], dnsNames: [] }, new Date());
const cert = join(dir, 'tls.crt');
const key = join(dir, 'tls.key');

/** Starts a server process and waits for its URL on stdout (the no-op) or stderr (serve). */
function start(args: string[], urlOn: 'stdout' | 'stderr'): Promise<{ p: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, {
      stdio: ['ignore', urlOn === 'stdout' ? 'pipe' : 'ignore', urlOn === 'stderr' ? 'pipe' : 'ignore'],
    });
    const stream = urlOn === 'stdout' ? p.stdout! : p.stderr!;
    let text = '';
    stream.on('data', (d: Buffer) => {
      text += d;
      const m = /https:\/\/127\.0\.0\.1:\d+/.exec(text);
      if (m) {
        stream.removeAllListeners('data');
        stream.resume();
        resolve({ p, url: m[0] });
      }
    });
    p.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${text}`)));
  });
}

const body = (name: string): string => readFileSync(join('examples', 'reviews', `${name}.json`), 'utf8');
const reviews = { allowed: body('allowed'), denied: body('strict-denied') };
const servers = {
  noop: await start(['dist/bench/https/noop.js', cert, key], 'stdout'),
  // serve logs one JSON line per request to its stdout, as in a pod; here it goes nowhere.
  serve: await start(
    [
      'dist/src/cli/main.js',
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--cluster',
      'examples/mesh-current',
      '--cluster',
      'examples/webhook-demo',
      '--telemetry',
      'examples/telemetry/legacy-plaintext.prom',
      '--drain-seconds',
      '0',
    ],
    'stderr',
  ),
};

interface Sample {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
}
async function load(url: string, payload: string): Promise<Sample> {
  const r = await autocannon({
    url: `${url}/validate`,
    method: 'POST',
    body: payload,
    headers: { 'content-type': 'application/json' },
    connections: 10,
    duration: SECONDS,
    tlsOptions: { rejectUnauthorized: false },
  } as autocannon.Options);
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

const results: Record<string, Record<string, Sample[]>> = { allowed: { noop: [], serve: [] }, denied: { noop: [], serve: [] } };
// A short untimed round each, so that both are warm.
for (const s of Object.values(servers))
  await autocannon({
    url: `${s.url}/validate`,
    method: 'POST',
    body: reviews.denied,
    connections: 10,
    duration: 2,
    tlsOptions: { rejectUnauthorized: false },
  } as autocannon.Options);
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, payload] of Object.entries(reviews)) {
    for (const target of r % 2 ? (['serve', 'noop'] as const) : (['noop', 'serve'] as const)) {
      results[name]![target]!.push(await load(servers[target].url, payload));
    }
  }
}
for (const s of Object.values(servers)) s.p.kill('SIGKILL');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const report = {
  date: new Date().toISOString(),
  node: process.version,
  rounds: ROUNDS,
  seconds_per_round: SECONDS,
  connections: 10,
  reviews: Object.fromEntries(
    Object.entries(results).map(([name, r]) => {
      const [noop, serve] = [r['noop']!, r['serve']!];
      const rps = { noop: Math.round(median(noop.map((x) => x.rps))), serve: Math.round(median(serve.map((x) => x.rps))) };
      const p99 = { noop: median(noop.map((x) => x.p99)), serve: median(serve.map((x) => x.p99)) };
      return [
        name,
        {
          rps,
          p99_ms: p99,
          rps_ratio: Math.round((rps.serve / rps.noop) * 100) / 100,
          p99_ratio: Math.round((p99.serve / p99.noop) * 100) / 100,
          errors: serve.reduce((n, x) => n + x.errors + x.non2xx, 0),
        },
      ];
    }),
  ),
  targets: { rps_ratio_at_least: 0.8, p99_ratio_at_most: 2 },
};
console.log(JSON.stringify(report, null, 2));
mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(join('bench', 'results', 'https.json'), `${JSON.stringify(report, null, 2)}\n`);
