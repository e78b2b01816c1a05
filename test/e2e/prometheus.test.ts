// Traffic evidence from a real Prometheus (Debian's package), scraping Istio-shaped counters from a
// small exporter, judged by `serve` on a real control plane through kubectl: observed plaintext
// denies STRICT, mTLS-only traffic does not, a stopped or hanging Prometheus degrades to `possible`
// without delaying the answer, and observed sidecar callers of a plaintext service deny *.local
// ISTIO_MUTUAL.
import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { installCrds, startCluster, type Cluster } from '../../tools/cluster/controlplane.js';
import { demoMesh } from '../../tools/cluster/demo-mesh.js';
import { startWebhook, untilReady } from '../../tools/cluster/webhook.js';
import { startExporter, startPrometheus, type Exporter, type Prometheus, type Series } from '../../tools/cluster/prometheus.js';
import { main } from '../../src/cli/run.js';
import type { Running } from '../../src/cli/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-prom-'));
let cluster: Cluster;
let webhook: Running;
let exporter: Exporter;
let prom: Prometheus;

const edge = (reporter: string, src: string, dst: string, csp: string, perSecond: number, name = 'istio_requests_total'): Series => {
  const [sw, sn] = src.split('.');
  const [dw, dn] = dst.split('.');
  return {
    name,
    perSecond,
    labels: {
      reporter,
      source_workload: sw!,
      source_workload_namespace: sn!,
      destination_workload: dw!,
      destination_workload_namespace: dn!,
      destination_service: `${dw}.${dn}.svc.cluster.local`,
      destination_service_name: dw!,
      destination_service_namespace: dn!,
      connection_security_policy: csp,
      response_code: '200',
    },
  };
};

const SERIES: Series[] = [
  // Something outside the mesh sends plaintext to httpbin.foo.
  edge('destination', 'unknown.unknown', 'httpbin.foo', 'none', 5),
  // Only mTLS reaches httpbin.bar.
  edge('destination', 'sleep.bar', 'httpbin.bar', 'mutual_tls', 5),
  edge('destination', 'sleep.foo', 'httpbin.bar', 'mutual_tls', 2, 'istio_tcp_connections_opened_total'),
  // Sidecar clients call httpbin.legacy, which has no sidecar.
  edge('source', 'sleep.foo', 'httpbin.legacy', 'unknown', 3),
  edge('source', 'sleep.bar', 'httpbin.legacy', 'unknown', 1),
];

const STRICT = (ns: string) =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: ${ns}}\nspec: {mtls: {mode: STRICT}}\n`;
const MESH_MTLS =
  'apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: default, namespace: istio-system}\nspec: {host: "*.local", trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}\n';
const API_DISABLE =
  'apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: api-server, namespace: istio-system}\nspec: {host: kubernetes.default.svc.cluster.local, trafficPolicy: {tls: {mode: DISABLE}}}\n';
const apply = (yaml: string) => cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], yaml);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Applies until `done` holds (evidence arrives in the background), or gives the last answer. */
async function applyUntil(yaml: string, done: (r: { code: number; stderr: string; stdout: string }) => boolean) {
  let r = await apply(yaml);
  for (let i = 0; i < 60 && !done(r); i++) {
    await sleep(500);
    r = await apply(yaml);
  }
  return r;
}

t.before(async () => {
  exporter = await startExporter(SERIES);
  prom = await startPrometheus(join(dir, 'prometheus'), [exporter.target]);
  // Wait until a rate exists: two scrapes at least.
  for (let i = 0; i < 100; i++) {
    const a = await prom.query('sum(rate(istio_requests_total[1m]))');
    if (Number(a.data.result[0]?.value[1] ?? 0) > 0) break;
    await sleep(300);
  }
  cluster = await startCluster(join(dir, 'cluster'));
  await installCrds(cluster);
  const r = await cluster.kubectl(['apply', '-f', '-'], demoMesh());
  if (r.code !== 0) throw new Error(r.stderr);
  await cluster.kubectl(['create', 'namespace', 'istio-system']);
  webhook = await startWebhook(cluster, [
    '--kubeconfig',
    cluster.kubeconfig,
    '--telemetry',
    prom.url,
    '--telemetry-window',
    '1m',
    '--telemetry-refresh',
    '1s',
    '--telemetry-timeout',
    '1s',
    '--telemetry-max-age',
    '5s',
    '--istio-version',
    '1.28.0',
  ]);
  await untilReady(webhook);
});

t.teardown(async () => {
  await webhook?.shutdown('test');
  await cluster?.stop();
  await prom?.stop();
  await exporter?.close();
});

t.test('plaintext into httpbin.foo from an unknown source: STRICT for foo is denied, citing the observed rate', async (t) => {
  const r = await applyUntil(STRICT('foo'), (x) => x.code === 1);
  t.equal(r.code, 1, 'kubectl exits 1');
  t.match(r.stderr, 'admission webhook "validate.mtls-guard.io" denied the request');
  t.match(r.stderr, /observed/);
  t.match(r.stderr, /connection_security_policy|plaintext/);
  t.match(r.stderr, new RegExp(`Prometheus ${prom.url.replace(/[.]/g, '\\.')} \\(rate over 1m\\)`), 'names the source and window');
  t.match(r.stderr, /= [0-9.]+\/s in Prometheus/, 'cites the rate');
});

t.test('only mTLS seen into httpbin.bar: STRICT for bar is allowed', async (t) => {
  const r = await apply(STRICT('bar'));
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /observed/, 'nothing observed against it');
});

t.test(
  'sidecar clients observed calling httpbin.legacy: *.local ISTIO_MUTUAL without a legacy DISABLE is denied, naming them',
  async (t) => {
    const created = await cluster.kubectl(['apply', '-f', '-'], API_DISABLE);
    t.equal(created.code, 0, created.stderr);
    const r = await applyUntil(MESH_MTLS, (x) => x.code === 1 && /sleep\.foo/.test(x.stderr));
    t.equal(r.code, 1, 'kubectl exits 1');
    t.match(r.stderr, /sleep\.foo -> httpbin\.legacy:8000 \(200 → 503\)/);
    t.match(r.stderr, /sleep\.bar -> httpbin\.legacy:8000 \(200 → 503\)|sleep\.bar/);
    t.match(r.stderr, /observed/);
  },
);

t.test('/metrics reports the evidence age, the query durations and the errors', async (t) => {
  const m = (await webhook.app.inject({ url: '/metrics' })).body;
  const age = Number(/^mtls_guard_evidence_age_seconds (\S+)$/m.exec(m)?.[1]);
  t.ok(age >= 0 && age < 5, `evidence age ${age}s`);
  t.match(m, /mtls_guard_evidence_query_duration_seconds_count\{outcome="ok"\} [1-9]/);
  t.match(m, /mtls_guard_evidence_errors_total 0/);
});

t.test('check --telemetry URL uses the same client', async (t) => {
  const file = join(dir, 'strict-foo.yaml');
  writeFileSync(file, STRICT('foo'));
  let out = '';
  const code = await main(
    ['check', '-f', file, '--cluster', 'examples/mesh-current', '--telemetry', prom.url, '--telemetry-window', '1m'],
    {
      out: (s) => {
        out += s;
      },
      err: (s) => {
        out += s;
      },
    },
  );
  t.equal(code, 1, 'denied on observed plaintext');
  t.match(out, 'DENIED');
  t.match(out, /MG101 +observed +2 workloads without a sidecar in unknown|observed/);
});

t.test('Prometheus stopped: the same STRICT is allowed with the fallback warning, and the answer comes at once', async (t) => {
  await prom.stop();
  const r = await applyUntil(STRICT('foo'), (x) => x.code === 0);
  t.equal(r.code, 0, 'allowed');
  t.match(r.stderr, /Warning: MG302 .*findings fall back to possible/);
  t.match(r.stderr, /ECONNREFUSED|failing/);
  t.notMatch(r.stderr, /deadline|timeout|failed calling webhook/i, 'the webhook answered; the API server did not time out');
});

t.test('Prometheus hanging: still allowed with the warning, never waiting for it', async (t) => {
  const held: Socket[] = [];
  const blackhole = createServer((s) => {
    held.push(s);
  });
  await new Promise<void>((r) => blackhole.listen(prom.port, '127.0.0.1', r));
  try {
    const r = await applyUntil(STRICT('foo'), (x) => x.code === 0 && /within|no answer/.test(x.stderr));
    t.equal(r.code, 0, 'allowed');
    t.match(r.stderr, /Warning: MG302 .*no answer within 1000 ms/, { stderr: r.stderr });
    t.notMatch(r.stderr, /deadline|failed calling webhook/i, 'the webhook answered');
    const m = (await webhook.app.inject({ url: '/metrics' })).body;
    t.match(m, /mtls_guard_evidence_errors_total [1-9]/, 'errors are counted');
  } finally {
    for (const s of held) s.destroy();
    await new Promise((r) => blackhole.close(r));
  }
});
