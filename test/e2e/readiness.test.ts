// Readiness published from inside the cluster, on a real kube-apiserver: PolicyReports appear,
// change in place and disappear as the mesh changes, a second replica writes the same reports
// without duplicating them, the writer does nothing where the CRD is absent, and /metrics has the
// readiness gauges.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { freePort, installCrds, startCluster, type Cluster } from '../../tools/cluster/controlplane.js';
import { demoMesh } from '../../tools/cluster/demo-mesh.js';
import { untilReady, loopbackTls } from '../../tools/cluster/webhook.js';
import { makeCerts } from '../../src/cli/certs.js';
import { startServer, type Running } from '../../src/cli/serve.js';
import { parseServeArgs } from '../../src/config/serve.js';
import { PolicyReportWriter } from '../../src/readiness/writer.js';
import { policyReports } from '../../src/readiness/policy-report.js';

const POLICY_REPORT_CRDS = resolve('tools', 'cluster', 'policy-report-crds.yaml');
const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-readiness-'));
let cluster: Cluster;
let guard: Running | undefined;
const logs: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok = async (args: string[], input?: string): Promise<string> => {
  const r = await cluster.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

interface Report {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; managedFields?: { manager: string }[] };
  summary: Record<string, number>;
  results: { rule: string; result: string; category: string; properties: Record<string, string> }[];
}

/** Every PolicyReport in the cluster, by namespace (a namespace with two would throw). */
async function reports(): Promise<Map<string, Report>> {
  const list = JSON.parse(await ok(['get', 'policyreports.wgpolicyk8s.io', '-A', '--show-managed-fields', '-o', 'json'])) as {
    items: Report[];
  };
  const out = new Map<string, Report>();
  for (const r of list.items) {
    if (out.has(r.metadata.namespace)) throw new Error(`two PolicyReports in ${r.metadata.namespace}`);
    out.set(r.metadata.namespace, r);
  }
  return out;
}

/** Polls until `cond` holds on the cluster's reports; returns the last ones seen. */
async function until(cond: (r: Map<string, Report>) => boolean, ms = 30_000): Promise<Map<string, Report>> {
  const end = Date.now() + ms;
  let last = await reports();
  while (!cond(last) && Date.now() < end) {
    await sleep(200);
    last = await reports();
  }
  return last;
}

async function startGuard(port: number): Promise<Running> {
  const certs = join(dir, 'certs');
  await makeCerts({ out: certs, service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'], dnsNames: [] }, new Date());
  const r = await startServer(
    parseServeArgs(
      [
        ...loopbackTls(port, certs),
        '--kubeconfig',
        cluster.kubeconfig,
        '--telemetry',
        'examples/telemetry/legacy-plaintext.prom',
        '--istio-version',
        '1.28.0',
        '--log-format',
        'human',
        '--drain-seconds',
        '0',
      ],
      {},
    ),
    { out: () => {}, err: (s) => void logs.push(s) },
  );
  await untilReady(r);
  return r;
}

const metrics = async (r: Running): Promise<string> => (await r.app.inject({ url: '/metrics' })).body;
const DR = (name: string, host: string) =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}, namespace: legacy}\nspec: {host: ${host}.legacy.svc.cluster.local, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}\n`;

t.before(async () => {
  cluster = await startCluster(dir);
  await installCrds(cluster);
  await ok(['apply', '-f', '-'], demoMesh());
  await ok(['create', 'namespace', 'istio-system']);
});

t.teardown(async () => {
  await guard?.shutdown('test');
  await cluster?.stop();
});

t.test('without the PolicyReport CRD the writer writes nothing and says so once; once it is installed it writes', async (t) => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const said: string[] = [];
  const writer = new PolicyReportWriter(kc, { log: (_l, m) => said.push(m), rediscoverMs: 0 });
  const desired = policyReports({
    namespaces: [],
    broken: new Map([
      [
        'legacy',
        [
          {
            client: 'a.b',
            clientKind: 'sidecar',
            service: 'c.legacy',
            port: 80,
            outcome: { code: '503', reason: 'r', tlsMode: 'ISTIO_MUTUAL' },
          },
        ],
      ],
    ]),
  });
  for (let i = 0; i < 3; i++) t.match(await writer.sync(desired), { served: false, applied: [], failed: [] }, `sync ${i + 1}: not served`);
  t.equal(said.length, 1, 'said once');
  t.match(said[0], 'wgpolicyk8s.io/v1alpha2 is not served by this cluster');

  await ok(['apply', '-f', POLICY_REPORT_CRDS]);
  await ok(['wait', '--for=condition=Established', '--timeout=60s', 'crd/policyreports.wgpolicyk8s.io']);
  // Right after the CRD is established the API server may answer 429 while its storage starts:
  // a failed sync is tried again.
  let r = await writer.sync(desired);
  for (let i = 0; i < 50 && r.failed.length; i++) {
    await sleep(200);
    r = await writer.sync(desired);
  }
  t.same(
    r.failed.map((e) => e.message),
    [],
    'no failure in the end',
  );
  t.match(r, { served: true, applied: ['legacy'] }, 'written once the CRD is served');
  t.ok(
    said.some((m) => m.includes('is served now')),
    'says the CRD is served now',
  );
  t.same([...(await reports()).keys()], ['legacy']);
  t.match(await writer.sync(new Map()), { deleted: ['legacy'] }, 'and deleted when no longer called for');
  t.same([...(await reports()).keys()], []);
});

t.test('serve publishes a PolicyReport per namespace with results, and the readiness gauges', async (t) => {
  guard = await startGuard(await freePort());
  t.ok(await guard.readiness.current(), 'the snapshot is judged');
  const r = await until((m) => m.has('foo') && m.has('bar'));
  t.same([...r.keys()], ['bar', 'foo'], 'reports where STRICT would break something; none in legacy');
  const foo = r.get('foo')!;
  t.equal(foo.metadata.name, 'mtls-guard');
  t.ok(
    foo.metadata.managedFields?.some((f) => f.manager === 'mtls-guard'),
    'written by server-side apply as field manager mtls-guard',
  );
  t.match(foo.summary, { fail: 1 });
  t.match(foo.results[0], {
    rule: 'MG101',
    result: 'fail',
    category: 'STRICT readiness',
    properties: { client: 'sleep.legacy', service: 'httpbin.foo', port: '8000', evidence: 'observed' },
  });
  const m = await metrics(guard);
  for (const line of [
    'mtls_guard_strict_ready{namespace="foo"} 0',
    'mtls_guard_strict_ready{namespace="bar"} 0',
    'mtls_guard_strict_ready{namespace="legacy"} 1',
    'mtls_guard_strict_blocking_connections{namespace="foo"} 1',
    'mtls_guard_broken_connections{namespace="legacy"} 0',
    'mtls_guard_mesh_strict_ready 0',
    'mtls_guard_mesh_strict_blocking_connections 2',
    'mtls_guard_strict_namespaces{ready="false"} 2',
  ])
    t.ok(m.split('\n').includes(line), line);
  t.match(m, /^mtls_guard_policy_report_writes_total\{operation="apply",outcome="ok"\} [1-9]/m);
});

t.test('a DestinationRule ISTIO_MUTUAL to a host without a sidecar: the report appears, changes in place, and disappears', async (t) => {
  await ok(['apply', '-f', '-'], DR('httpbin-mtls', 'httpbin'));
  let r = await until((m) => m.has('legacy'));
  const first = r.get('legacy');
  t.ok(first, 'a report appears in legacy');
  t.match(first?.summary, { fail: 4 });
  t.ok(
    first?.results.every(
      (x) => x.rule === 'MG103' && x.category === 'Current configuration' && x.properties['service'] === 'httpbin.legacy',
    ),
    'one fail result per sidecar client, each MG103 into httpbin.legacy',
  );
  t.match(await metrics(guard!), 'mtls_guard_broken_connections{namespace="legacy"} 4');

  await ok(['apply', '-f', '-'], DR('sleep-mtls', 'sleep'));
  r = await until((m) => (m.get('legacy')?.summary['fail'] ?? 0) === 8);
  const changed = r.get('legacy')!;
  t.equal(changed.summary['fail'], 8, 'the report changes as the second rule breaks sleep.legacy too');
  t.equal(changed.metadata.uid, first?.metadata.uid, 'the same object, updated in place');
  t.not(changed.metadata.resourceVersion, first?.metadata.resourceVersion);

  await ok(['delete', 'destinationrules.networking.istio.io', '-n', 'legacy', 'httpbin-mtls', 'sleep-mtls']);
  r = await until((m) => !m.has('legacy'));
  t.notOk(r.has('legacy'), 'the report is deleted once nothing fails there');
  t.same([...r.keys()], ['bar', 'foo'], 'the others stay');
  t.match(await metrics(guard!), 'mtls_guard_broken_connections{namespace="legacy"} 0');
});

t.test('a second replica writes the same reports: no duplicate, no conflict', async (t) => {
  const before = await reports();
  const second = await startGuard(await freePort());
  try {
    t.ok(await second.readiness.current(), 'the second replica judged the snapshot');
    const m = await metrics(second);
    t.match(m, /^mtls_guard_policy_report_writes_total\{operation="apply",outcome="ok"\} [1-9]/m, 'its writes succeed');
    t.notMatch(m, /outcome="error"/, 'none fails');
    const after = await reports();
    t.same([...after.keys()], [...before.keys()], 'still one report per namespace');
    for (const [ns, r] of after) t.equal(r.metadata.uid, before.get(ns)?.metadata.uid, `${ns}: the same object`);
  } finally {
    await second.shutdown('test');
  }
  t.notOk(
    logs.some((l) => /PolicyReports: .*failed/.test(l)),
    'no write failed',
    { logs: logs.filter((l) => l.includes('PolicyReports')) },
  );
});
