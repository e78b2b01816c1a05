// The live snapshot (src/snapshot/cluster.ts) against a real kube-apiserver.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { compactEtcd, installCrds, startCluster, type Cluster } from '../../tools/cluster/controlplane.js';
import { demoMesh, pod } from '../../tools/cluster/demo-mesh.js';
import { ClusterSnapshot } from '../../src/snapshot/cluster.js';
import { simulate } from '../../src/core/evaluate.js';
import { makeCerts } from '../../src/cli/certs.js';
import { startServer } from '../../src/cli/serve.js';
import { parseServeArgs } from '../../src/config/serve.js';
import { loopbackTls } from '../../tools/cluster/webhook.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-snap-'));
let cluster: Cluster;
let snap: ClusterSnapshot;
const relists: string[] = [];
let bare: { missing: string[]; ready: boolean; workloads: number; warnings: string[] };

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.before(async () => {
  // Without the watch cache, watches go to etcd, whose compacted history answers 410 Gone (the
  // cache would replay its whole store to a watch from an old resourceVersion instead).
  cluster = await startCluster(dir, { apiServerArgs: ['--watch-cache=false'] });
  // First, a cluster without Istio: the snapshot must still come up, and say what is missing.
  const kc0 = new k8s.KubeConfig();
  kc0.loadFromFile(cluster.kubeconfig);
  const s0 = new ClusterSnapshot(kc0, { debounceMs: 10 });
  await s0.start();
  await until('the bare snapshot', () => s0.ready() && s0.index() !== null);
  s0.stop();
  // And `serve` on that cluster: it serves, and allows with one clear warning.
  const certs = join(dir, 'certs');
  await makeCerts({ out: certs, service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'], dnsNames: [] }, new Date());
  const server = await startServer(
    parseServeArgs(['--kubeconfig', cluster.kubeconfig, ...loopbackTls(0, certs), '--log-level', 'silent', '--drain-seconds', '0'], {}),
    { out: () => {}, err: () => {} },
  );
  while ((await server.app.inject({ url: '/readyz' })).statusCode !== 200) await new Promise((r) => setTimeout(r, 50));
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'bare',
      operation: 'CREATE',
      namespace: 'default',
      name: 'd',
      kind: { group: 'security.istio.io', version: 'v1', kind: 'PeerAuthentication' },
      userInfo: { username: 'u' },
      object: {
        apiVersion: 'security.istio.io/v1',
        kind: 'PeerAuthentication',
        metadata: { name: 'd', namespace: 'default' },
        spec: { mtls: { mode: 'STRICT' } },
      },
    },
  };
  const res = (await server.app.inject({ method: 'POST', url: '/validate', payload: review })).json();
  await server.shutdown('test');
  bare = {
    missing: [...s0.missing],
    ready: s0.ready(),
    workloads: s0.index()!.allWorkloads().length,
    warnings: res.response.allowed ? (res.response.warnings ?? []) : ['denied'],
  };
  await installCrds(cluster);
  const r = await cluster.kubectl(['apply', '-f', '-'], demoMesh());
  if (r.code !== 0) throw new Error(r.stderr);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  snap = new ClusterSnapshot(kc, {
    pageSize: 2,
    debounceMs: 50,
    istioVersion: '1.28.0',
    onRelist: (kind, why) => relists.push(`${kind}: ${why}`),
  });
  await snap.start();
});

t.teardown(async () => {
  snap?.stop();
  await cluster?.stop();
});

t.test('without Istio CRDs the snapshot is ready and names every missing kind', async (t) => {
  t.ok(bare.ready, 'ready');
  t.match(
    bare.warnings,
    [
      /^MG303 Istio's CRDs are not served by this cluster \(destinationrules\.networking\.istio\.io, peerauthentications\.security\.istio\.io\)/,
    ],
    'serve allows, with one clear warning',
  );
  t.same(
    bare.missing.sort(),
    [
      'authorizationpolicies.security.istio.io',
      'destinationrules.networking.istio.io',
      'gateways.gateway.networking.k8s.io',
      'httproutes.gateway.networking.k8s.io',
      'meshpolicies.authentication.istio.io',
      'peerauthentications.security.istio.io',
      'podmonitors.monitoring.coreos.com',
      'policies.authentication.istio.io',
      'serviceentries.networking.istio.io',
      'servicemonitors.monitoring.coreos.com',
      'sidecars.networking.istio.io',
      'virtualservices.networking.istio.io',
    ],
    'Istio, Gateway API and Prometheus Operator kinds',
  );
});

t.test('the first lists make the snapshot ready, with projections of every kind', async (t) => {
  await until('ready', () => snap.ready() && snap.index() !== null);
  const idx = snap.index()!;
  t.same(
    idx
      .allWorkloads()
      .map((w) => `${w.name}.${w.namespace}:${w.mesh}`)
      .sort(),
    ['httpbin.bar:sidecar', 'httpbin.foo:sidecar', 'httpbin.legacy:none', 'sleep.bar:sidecar', 'sleep.foo:sidecar', 'sleep.legacy:none'],
    'pods, paginated by 2, with their mesh membership',
  );
  t.ok(
    idx.allServices().some((s) => s.name === 'kubernetes' && s.namespace === 'default'),
    'the kubernetes Service',
  );
  t.same(
    snap.missing.filter((m) => m.includes('istio.io')),
    [],
    'every Istio kind is served (shared or minimal CRDs)',
  );
});

t.test('a PeerAuthentication applied with kubectl reaches the engine through the watch', async (t) => {
  const counts = snap.updateCounts();
  const r = await cluster.kubectl(
    ['apply', '-f', '-'],
    'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: foo}\nspec: {mtls: {mode: STRICT}}\n',
  );
  t.equal(r.code, 0, r.stderr);
  await until('the policy', () => (snap.index()?.peerAuthentications('foo').length ?? 0) === 1);
  // Nothing else changes in this cluster (no controllers run), so any rebuild would be this one's.
  t.equal(snap.updateCounts().inPlace, counts.inPlace + 1, 'applied to the index in place');
  t.equal(snap.updateCounts().rebuilds, counts.rebuilds, 'without rebuilding the index');
  const line = simulate(snap.index()!).find((c) => c.client === 'sleep.legacy' && c.service === 'httpbin.foo');
  t.equal(line?.outcome.code, '000', 'sleep.legacy to httpbin.foo:8000: 000');
  await cluster.kubectl(['delete', 'peerauthentications.security.istio.io', 'default', '-n', 'foo']);
  await until('the delete', () => (snap.index()?.peerAuthentications('foo').length ?? 1) === 0);
  t.pass('a delete is seen too');
});

t.test('a Pod created later is in the snapshot within seconds', async (t) => {
  const r = await cluster.kubectl(['apply', '-f', '-'], pod('legacy', 'late', false));
  t.equal(r.code, 0, r.stderr);
  await until(
    'the new pod',
    () =>
      snap
        .index()
        ?.workloads('legacy')
        .some((w) => w.name === 'late') ?? false,
    10_000,
  );
  t.pass('late.legacy appeared');
  const ages = snap.kindAges();
  t.ok((ages.get('Pod') ?? -1) >= 0, 'the time since the last Pod event is known');
});

/** A Pod owned by a ReplicaSet (none exists: no controllers run here, and nothing collects it). */
function replica(name: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: legacy
  labels: {app: web, pod-template-hash: 5f7c9}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5f7c9, uid: 6f1c2d2e-0000-4000-8000-000000000001, controller: true}]
spec:
  containers:
  - {name: app, image: example/web:1, ports: [{containerPort: 8080}]}
`;
}

t.test('events that change nothing the engine reads leave the index as it is', async (t) => {
  const first = await cluster.kubectl(['apply', '-f', '-'], replica('web-5f7c9-aaaaa'));
  t.equal(first.code, 0, first.stderr);
  await until(
    'the first replica',
    () =>
      snap
        .index()
        ?.workloads('legacy')
        .some((w) => w.name === 'web') ?? false,
    10_000,
  );
  const counts = snap.updateCounts();
  const idx = snap.index();
  const second = await cluster.kubectl(['apply', '-f', '-'], replica('web-5f7c9-bbbbb'));
  t.equal(second.code, 0, second.stderr);
  const note = await cluster.kubectl(['annotate', 'pod', 'web-5f7c9-aaaaa', '-n', 'legacy', 'example.com/note=kept-out']);
  t.equal(note.code, 0, note.stderr);
  await until('both events', () => snap.updateCounts().unchanged >= counts.unchanged + 2, 10_000);
  // A rebuild would have waited for the debounce; give it the time to show if it were coming.
  await new Promise((r) => setTimeout(r, 500));
  t.equal(
    snap.updateCounts().rebuilds,
    counts.rebuilds,
    'no rebuild for a second replica of the same shape, nor for an annotation the engine does not read',
  );
  t.equal(snap.index(), idx, 'the same index serves');
  const del = await cluster.kubectl(['delete', 'pod', 'web-5f7c9-bbbbb', '-n', 'legacy', '--wait=false']);
  t.equal(del.code, 0, del.stderr);
  await until('the delete', () => snap.updateCounts().unchanged >= counts.unchanged + 3, 10_000);
  t.equal(snap.updateCounts().rebuilds, counts.rebuilds, 'nor for deleting one of two replicas');
  await cluster.kubectl(['delete', 'pod', 'web-5f7c9-aaaaa', '-n', 'legacy', '--wait=false']);
  await until(
    'the last replica gone',
    () =>
      !(
        snap
          .index()
          ?.workloads('legacy')
          .some((w) => w.name === 'web') ?? true
      ),
    10_000,
  );
  t.ok(snap.updateCounts().rebuilds > counts.rebuilds, 'deleting the last replica rebuilds: the workload is gone');
});

t.test('projections keep what the engine reads and drop the rest', async (t) => {
  const idx = snap.index()!;
  const w = idx.workloads('foo').find((x) => x.name === 'httpbin')!;
  t.equal(w.labels['security.istio.io/tlsMode'], 'istio');
  t.same(
    w.ports.map((p) => p.port),
    [80],
  );
  t.equal(w.meshSignal, 'istio-proxy container');
});

t.test('a watch that cannot resume (410 Gone from the real API server) lists again and catches up', async (t) => {
  // White box: point the Pod watch at a resourceVersion the API server has long forgotten, the state
  // a snapshot is in after a long disconnection, and end the current watch so the next one uses it.
  const pods = (snap as unknown as { kinds: { spec: { kind: string }; resourceVersion: string; abort?: AbortController }[] }).kinds.find(
    (k) => k.spec.kind === 'Pod',
  )!;
  const before = snap.relistCounts().get('Pod') ?? 0;
  const created = await cluster.kubectl([
    'run',
    'late-comer',
    '-n',
    'bar',
    '--image=busybox',
    '--restart=Never',
    '--labels=app=late-comer',
  ]);
  t.equal(created.code, 0, created.stderr);
  // Compacted history: resourceVersion 1 is gone from etcd, so the watch gets 410 Gone.
  await compactEtcd(cluster);
  pods.resourceVersion = '1';
  pods.abort?.abort();
  await until('the relist', () => (snap.relistCounts().get('Pod') ?? 0) > before);
  t.match(
    relists.join('\n'),
    /Pod: 410 Gone at resourceVersion 1 \(The resourceVersion for the provided watch is too old\)/,
    'the 410 is the reason',
  );
  await until(
    'the late pod',
    () =>
      snap
        .index()
        ?.allWorkloads()
        .some((w) => w.name === 'late-comer') ?? false,
  );
  t.ok(
    snap
      .index()!
      .allWorkloads()
      .some((w) => w.name === 'late-comer' && w.namespace === 'bar'),
    'what happened meanwhile is in the snapshot',
  );
  await until('a new watch', () => /^\d+$/.test(pods.resourceVersion) && pods.resourceVersion !== '1');
  t.pass("watching again from the new list's resourceVersion");
});
