// `npm run bench:snapshot`: 10k Pods (and their Services) in a real kube-apiserver; the live
// snapshot's initial sync time, retained heap per Pod, and admission latency on that snapshot.
// Run with --expose-gc (the npm script does) so that heap numbers are after a full collection.
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClusterSnapshot } from '../../src/snapshot/cluster.js';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { NO_AUTHORIZER } from '../../src/admission/authorize.js';
import { NO_EVENTS } from '../../src/admission/events.js';
import { evaluateChange } from '../../src/core/evaluate.js';
import type { IstioObject } from '../../src/core/model/model.js';
import { loadKubeConfig } from '../../src/snapshot/kubeconfig.js';
import { spentFixBudget, webhookFixBudget } from '../engine/fix-budget.js';
import { NAMESPACES, pool, startBenchCluster } from './cluster.js';

const PODS = Number(process.env['BENCH_PODS'] ?? 10_000);
const SERVICES = Math.round(PODS / 5);
const REQUESTS = 200;
// Judged as the webhook judges: fixes proven within the request's fix budget; `none` judges
// without trying them, as builds did before fixes were proven (`npm run bench:compare-snapshot`).
const FIXES = process.env['BENCH_FIXES'] === 'none' ? spentFixBudget : webhookFixBudget;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Child mode: sync a snapshot from the given kubeconfig and print its numbers as JSON. */
async function child(kubeconfig: string): Promise<void> {
  // As `serve` loads it: requests share one connection pool.
  const kc = loadKubeConfig(kubeconfig);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t = performance.now();
  const snap = new ClusterSnapshot(kc, { istioVersion: '1.28.0', debounceMs: 50 });
  await snap.start();
  while (!(snap.ready() && snap.index() && snap.index()!.allWorkloads().length > 0)) await new Promise((r) => setTimeout(r, 10));
  const syncS = +((performance.now() - t) / 1000).toFixed(2);
  gc();
  gc();
  const perPod = (process.memoryUsage().heapUsed - heap0) / PODS;
  // Requests fill per-snapshot lookups (callers, outcomes, represented lists) and compile the
  // engine: what a serving webhook holds once it has judged a change in every namespace and one
  // mesh-wide change.
  const idx = snap.index()!;
  const pa = (namespace: string, name: string): IstioObject => ({
    kind: 'PeerAuthentication',
    name,
    namespace,
    created: '',
    apiVersion: 'security.istio.io/v1',
    annotations: {},
    selector: null,
    mode: 'STRICT',
    portLevel: {},
  });
  for (let n = 0; n < NAMESPACES; n++) evaluateChange(idx, { operation: 'CREATE', object: pa(`ns-${n}`, 'bench') }, undefined, FIXES());
  evaluateChange(idx, { operation: 'CREATE', object: pa(idx.root, 'default') }, undefined, FIXES());
  gc();
  gc();
  const servedPerPod = (process.memoryUsage().heapUsed - heap0) / PODS;
  const rebuilds: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r0 = performance.now();
    snap.rebuild();
    rebuilds.push(performance.now() - r0);
  }
  rebuilds.sort((a, b) => a - b);
  snap.stop();
  await kc.close();
  console.log(
    JSON.stringify({
      syncS,
      perPod,
      servedPerPod,
      totalBytes: perPod * PODS,
      workloads: snap.index()!.allWorkloads().length,
      rebuildMs: +rebuilds[2]!.toFixed(1),
    }),
  );
  process.exit(0);
}

const childKubeconfig = process.env['BENCH_SNAPSHOT_CHILD'];
if (childKubeconfig) await child(childKubeconfig);

const { cluster, kc, api, services, pods } = await startBenchCluster(PODS);
try {
  // Heap is measured in a fresh process that holds nothing but the snapshot, so that what this
  // process allocated for loading cannot blur the difference. It is measured twice, with half and
  // with all of the Pods (the second half owned by other Services, as the first), so that the
  // marginal cost of a Pod is known apart from what the process holds whatever the cluster's size.
  const measure = (): { syncS: number; perPod: number; servedPerPod: number; totalBytes: number; workloads: number; rebuildMs: number } => {
    const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_SNAPSHOT_CHILD: cluster.kubeconfig, BENCH_PODS: String(PODS) },
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (child.status !== 0) throw new Error(`the measuring process failed: ${child.stderr}`);
    return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
  };
  const half = SERVICES / 2;
  const t0 = performance.now();
  await pool([...services.slice(0, half), ...pods.filter((_, p) => p % SERVICES < half)], 32, (o) => api.create(o));
  const halfway = measure();
  await pool([...services.slice(half), ...pods.filter((_, p) => p % SERVICES >= half)], 32, (o) => api.create(o));
  const loadS = (performance.now() - t0) / 1000;
  console.log(`created ${SERVICES} Services and ${PODS} Pods in ${loadS.toFixed(1)} s`);
  const measured = measure();
  const marginal = (measured.totalBytes - halfway.totalBytes) / (PODS / 2);
  const syncS = measured.syncS;
  const perPod = measured.perPod;
  const snap = new ClusterSnapshot(kc, { istioVersion: '1.28.0', debounceMs: 50 });
  await snap.start();
  while (!(snap.ready() && snap.index() && snap.index()!.allWorkloads().length > 0)) await new Promise((r) => setTimeout(r, 10));
  const idx = snap.index()!;
  const app = buildApp({
    snapshot: () => snap.index(),
    ready: () => ({ ok: true, reasons: [] }),
    options: { defaultMode: 'enforce', denyOn: 'declared', authorizer: NO_AUTHORIZER, rolePrefix: 'mtls-guard' },
    metrics: createMetrics({ snapshotAgeSeconds: () => 0, certNotAfterMs: () => null, nowMs: () => Date.now() }),
    events: NO_EVENTS,
    clock: () => performance.now(),
  });
  const times: number[] = [];
  // Untimed rounds first (other namespaces' names, same shape), so that timed ones run compiled code.
  const WARMUP = 30;
  for (let i = -WARMUP; i < REQUESTS; i++) {
    const ns = `ns-${(i + NAMESPACES) % NAMESPACES}`;
    const body = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: `u${i}`,
        kind: { group: 'security.istio.io', version: 'v1', kind: 'PeerAuthentication' },
        namespace: ns,
        name: `b${i}`,
        operation: 'CREATE',
        userInfo: { username: 'bench' },
        object: {
          apiVersion: 'security.istio.io/v1',
          kind: 'PeerAuthentication',
          metadata: { name: `b${i}`, namespace: ns },
          spec: { mtls: { mode: 'STRICT' } },
        },
      },
    };
    const s = performance.now();
    const r = await app.inject({ method: 'POST', url: '/validate', payload: body });
    if (i >= 0) times.push(performance.now() - s);
    if (r.statusCode !== 200) throw new Error(`request failed: ${r.body}`);
  }
  times.sort((a, b) => a - b);
  const p = (q: number): number => +times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3);
  snap.stop();
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    pods: PODS,
    services: SERVICES,
    namespaces: NAMESPACES,
    workloads: idx.allWorkloads().length,
    load_seconds: +loadS.toFixed(1),
    initial_sync_seconds: +syncS.toFixed(2),
    retained_heap_bytes_per_pod: Math.round(perPod),
    marginal_heap_bytes_per_pod: Math.round(marginal),
    retained_heap_bytes_per_pod_after_requests: Math.round(measured.servedPerPod),
    background_rebuild_ms_median: measured.rebuildMs,
    admission_namespace_strict_ms: { p50: p(0.5), p99: p(0.99), requests: REQUESTS },
  };
  console.log(
    `initial sync ${report.initial_sync_seconds} s (target ≤ ${PODS > 10_000 ? 60 : 10} s); retained heap ${report.retained_heap_bytes_per_pod} B per Pod all told, ${report.marginal_heap_bytes_per_pod} B per added Pod (target ≤ 1024, snapshot and indexes together), ${report.retained_heap_bytes_per_pod_after_requests} B per Pod all told after a change judged in every namespace and one mesh-wide; admission p50 ${report.admission_namespace_strict_ms.p50} ms, p99 ${report.admission_namespace_strict_ms.p99} ms; background rebuild after a change ${report.background_rebuild_ms_median} ms`,
  );
  mkdirSync(join('bench', 'results'), { recursive: true });
  // The 10,000-Pod run is the reference; other sizes (BENCH_PODS) keep a file of their own.
  const file = PODS === 10_000 ? 'snapshot.json' : `snapshot-${PODS}.json`;
  writeFileSync(join('bench', 'results', file), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote bench/results/${file}`);
} finally {
  await cluster.stop();
}
