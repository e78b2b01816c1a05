// `npm run bench:fuzz`: POST /validate with 100,000 hostile requests (FUZZ_RUNS to change), larger
// than npm test's, against the demo snapshot. Prints how each was answered and writes
// bench/results/fuzz.json; exits 1 if any answer was a 5xx or not what the API server needs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { NO_EVENTS } from '../../src/admission/events.js';
import { loadIndex } from '../../src/cli/load.js';
import type { Authorizer } from '../../src/admission/authorize.js';
import { baseReviews, hostileRequest, LONG_SIZES, problemWith } from './reviews.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100_000);
/** Start at this request: with the same seed, a problem seen at request N is replayed alone with FUZZ_FROM=N. */
const FROM = Number(process.env['FUZZ_FROM'] ?? 1) - 1;
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261204);

const { idx } = await loadIndex(['examples/mesh-current', 'examples/webhook-demo'], {}, 'examples/telemetry/legacy-plaintext.prom');
// Half the permission checks allowed, half refused: both paths run.
let flip = 0;
const authorizer: Authorizer = { check: async () => ({ allowed: (flip++ & 1) === 0 }) };
const app = buildApp({
  snapshot: () => idx,
  ready: () => ({ ok: true, reasons: [] }),
  options: { defaultMode: 'enforce', denyOn: 'declared', authorizer, rolePrefix: 'mtls-guard' },
  metrics: createMetrics({ snapshotAgeSeconds: () => 0, certNotAfterMs: () => null, nowMs: () => Date.now() }),
  events: NO_EVENTS,
  clock: () => performance.now(),
});
const byStatus = new Map<number, number>();
const problems: string[] = [];
let bytes = 0;
const BATCH = 200;
const arb = hostileRequest(LONG_SIZES, baseReviews());
const start = performance.now();
let heapMax = 0;
let batch: ReturnType<typeof fc.sample<unknown>> = [];
for (let i = FROM - (FROM % BATCH); i < FROM + RUNS; i++) {
  // Generated a batch at a time: a whole run's bodies would not fit in memory.
  if (i % BATCH === 0) batch = fc.sample(arb, { seed: SEED + i / BATCH, numRuns: BATCH });
  if (i < FROM) continue;
  const sent = batch[i % BATCH] as Parameters<typeof problemWith>[0];
  bytes += sent.payload.length;
  const res = await app.inject({
    method: 'POST',
    url: `/validate${sent.query}`,
    payload: sent.payload,
    headers: { 'content-type': sent.contentType },
  });
  byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
  const p = problemWith(sent, res.statusCode, res.body);
  if (p) {
    problems.push(`${p} for ${sent.payload.slice(0, 200)}`);
    console.log(`problem at request ${i + 1}: ${p} (body ${sent.payload.length} bytes: ${sent.payload.slice(0, 300)})`);
  }
  if (i % 1000 === 0) heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
  if ((i + 1) % 10_000 === 0) console.log(`${i + 1} requests, ${problems.length} problems`);
}
const seconds = (performance.now() - start) / 1000;
const metricsBytes = (await app.inject({ method: 'GET', url: '/metrics' })).body.length;
const result = {
  date: new Date().toISOString(),
  node: process.version,
  seed: SEED,
  requests: RUNS,
  megabytes_sent: Math.round(bytes / 1e5) / 10,
  seconds: Math.round(seconds),
  by_status: Object.fromEntries([...byStatus].sort()),
  problems: problems.length,
  metrics_bytes_after: metricsBytes,
  heap_max_mb: Math.round(heapMax / 1e6),
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(join('bench', 'results', 'fuzz.json'), `${JSON.stringify(result, null, 2)}\n`);
process.exitCode = problems.length ? 1 : 0;
