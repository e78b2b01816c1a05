// The user's main story on a real control plane: `serve` watches the cluster, and kubectl apply is
// denied, warned or allowed as the live mesh and the configured telemetry say.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { freePort, installCrds, startCluster, type Cluster } from '../../tools/cluster/controlplane.js';
import { startServer } from '../../src/cli/serve.js';
import { parseServeArgs } from '../../src/config/serve.js';
import { demoMesh } from '../../tools/cluster/demo-mesh.js';
import { startWebhook, untilReady, loopbackTls } from '../../tools/cluster/webhook.js';
import type { Running } from '../../src/cli/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-live-'));
let cluster: Cluster;
let webhook: Running;

t.before(async () => {
  cluster = await startCluster(dir);
  await installCrds(cluster);
  const r = await cluster.kubectl(['apply', '-f', '-'], demoMesh());
  if (r.code !== 0) throw new Error(r.stderr);
  await cluster.kubectl(['create', 'namespace', 'istio-system']);
  webhook = await startWebhook(cluster, [
    '--kubeconfig',
    cluster.kubeconfig,
    '--telemetry',
    'examples/telemetry/legacy-plaintext.prom',
    '--istio-version',
    '1.28.0',
  ]);
  await untilReady(webhook);
});

t.teardown(async () => {
  await webhook?.shutdown('test');
  await cluster?.stop();
});

const apply = (yaml: string, ...flags: string[]) => cluster.kubectl(['apply', ...flags, '-f', '-'], yaml);
const STRICT_FOO =
  'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: foo}\nspec: {mtls: {mode: STRICT}}\n';
const MESH_MTLS =
  'apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: default, namespace: istio-system}\nspec: {host: "*.local", trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}\n';

async function mtlsGuardEvents(ns: string): Promise<string> {
  const r = await cluster.kubectl([
    'get',
    'events',
    '-n',
    ns,
    '--field-selector',
    'source=mtls-guard',
    '-o',
    'jsonpath={.items[*].reason}',
  ]);
  return r.stdout.trim();
}

t.test('/readyz is 200 once every kind is listed, and /metrics has the age of each kind', async (t) => {
  t.equal((await webhook.app.inject({ url: '/readyz' })).statusCode, 200);
  const m = (await webhook.app.inject({ url: '/metrics' })).body;
  for (const kind of ['Pod', 'Service', 'Namespace', 'PeerAuthentication', 'DestinationRule', 'MeshPolicy']) {
    t.match(m, new RegExp(`mtls_guard_snapshot_kind_age_seconds\\{kind="${kind}"\\} \\d`), kind);
  }
});

t.test('--dry-run=server of STRICT for foo is denied and writes no Event', async (t) => {
  const r = await apply(STRICT_FOO, '--dry-run=server');
  t.equal(r.code, 1);
  t.match(r.stderr, 'would break 1 connection (1 observed): sleep.legacy -> httpbin.foo:8000 (200 → 000)');
  await new Promise((r2) => setTimeout(r2, 500));
  t.equal(await mtlsGuardEvents('foo'), '', 'no Event');
});

t.test(
  'STRICT for foo with observed legacy plaintext is denied, naming sleep.legacy -> httpbin.foo:8000, and records an Event',
  async (t) => {
    const r = await apply(STRICT_FOO);
    t.equal(r.code, 1, 'kubectl exits 1');
    t.match(
      r.stderr,
      'denied the request: CREATE PeerAuthentication foo/default (STRICT) would break 1 connection (1 observed): sleep.legacy -> httpbin.foo:8000 (200 → 000)',
    );
    for (let i = 0; i < 50 && !(await mtlsGuardEvents('foo')); i++) await new Promise((r2) => setTimeout(r2, 100));
    t.equal(await mtlsGuardEvents('foo'), 'MtlsBreakageDenied', 'one Event');
  },
);

t.test('after labelling foo mtls-guard.io/mode=warn the same apply is created, with Warning: lines', async (t) => {
  await cluster.kubectl(['label', 'namespace', 'foo', 'mtls-guard.io/mode=warn']);
  // Right after the label, as a migration script would: the mode is read from the namespace as
  // the watch last saw it, not from the index, whose rebuild comes later.
  const r = await apply(STRICT_FOO);
  t.equal(r.code, 0, 'created on the first apply after the label', { stderr: r.stderr });
  t.match(r.stdout, 'peerauthentication.security.istio.io/default created');
  t.match(r.stderr, /^Warning: MG101 sleep\.legacy -> httpbin\.foo:8000 \(200 → 000\) \[observed\]/m);
  await cluster.kubectl(['delete', 'peerauthentications.security.istio.io', 'default', '-n', 'foo']);
  await cluster.kubectl(['label', 'namespace', 'foo', 'mtls-guard.io/mode-']);
});

t.test('*.local ISTIO_MUTUAL without a DISABLE rule for the API server is denied', async (t) => {
  const r = await apply(MESH_MTLS);
  t.equal(r.code, 1);
  t.match(r.stderr, /kubernetes\.default:443 \(200 → 000\)|httpbin\.legacy:8000 \(200 → 503\)/);
  t.match(r.stderr, 'certain');
});

t.test('with the DISABLE rules for the API server and legacy present, it is allowed', async (t) => {
  for (const doc of [
    'apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: api-server, namespace: istio-system}\nspec: {host: kubernetes.default.svc.cluster.local, trafficPolicy: {tls: {mode: DISABLE}}}\n',
    'apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: httpbin-legacy, namespace: legacy}\nspec: {host: httpbin.legacy.svc.cluster.local, trafficPolicy: {tls: {mode: DISABLE}}}\n',
    'apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: sleep-legacy, namespace: legacy}\nspec: {host: sleep.legacy.svc.cluster.local, trafficPolicy: {tls: {mode: DISABLE}}}\n',
  ]) {
    const r = await apply(doc);
    t.equal(r.code, 0, 'DISABLE rule created', { stderr: r.stderr });
  }
  let r = await apply(MESH_MTLS);
  for (let i = 0; i < 50 && r.code !== 0; i++) {
    await new Promise((r2) => setTimeout(r2, 100));
    r = await apply(MESH_MTLS);
  }
  t.equal(r.code, 0, '*.local ISTIO_MUTUAL created', { stderr: r.stderr });
});

t.test('DELETE of the httpbin-legacy DISABLE rule while *.local ISTIO_MUTUAL exists is denied', async (t) => {
  const del = (...flags: string[]) =>
    cluster.kubectl(['delete', ...flags, 'destinationrules.networking.istio.io', 'httpbin-legacy', '-n', 'legacy']);
  // The webhook sees the new *.local rule through its watch; a dry run (no side effects) waits for it.
  for (let i = 0; i < 50 && (await del('--dry-run=server')).code === 0; i++) await new Promise((r2) => setTimeout(r2, 100));
  const r = await del();
  t.equal(r.code, 1, 'kubectl delete exits 1', { stdout: r.stdout });
  t.match(r.stderr, 'denied the request: DELETE DestinationRule legacy/httpbin-legacy');
  t.match(r.stderr, 'httpbin.legacy:8000 (200 → 503)');
});

const SHOP = `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: web, version: v1}}
  template: {metadata: {labels: {app: web, version: v1}}, spec: {containers: [{name: web, image: web, ports: [{containerPort: 8080}]}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-v2, namespace: shop}
spec:
  selector: {matchLabels: {app: web, version: v2}}
  template:
    metadata: {labels: {app: web, version: v2}, annotations: {sidecar.istio.io/inject: "false"}}
    spec: {containers: [{name: web, image: web, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec: {hosts: [web], http: [{route: [{destination: {host: web, subset: v2}}]}]}
`;
const shopRule = (subsets: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: shop}
spec:
  host: web.shop.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets: [${subsets}]
`;
const V1 = '{name: v1, labels: {version: v1}}';
const V2 = '{name: v2, labels: {version: v2}, trafficPolicy: {tls: {mode: DISABLE}}}';

t.test(
  'a DestinationRule update that drops the subset a live VirtualService routes to is denied (MG109), with the subset kept as the fix',
  async (t) => {
    t.equal((await apply(SHOP)).code, 0, 'the shop namespace, its workloads and its VirtualService are created');
    const created = await apply(shopRule(`${V1}, ${V2}`));
    t.equal(created.code, 0, 'the rule with both subsets is created', { stderr: created.stderr });
    // The webhook sees the rule and the VirtualService through its watch; a dry run waits for them.
    for (let i = 0; i < 50 && (await apply(shopRule(V1), '--dry-run=server')).code === 0; i++)
      await new Promise((r2) => setTimeout(r2, 100));
    const r = await apply(shopRule(V1));
    t.equal(r.code, 1, 'kubectl exits 1', { stdout: r.stdout });
    t.match(r.stderr, 'denied the request: UPDATE DestinationRule shop/web');
    t.match(r.stderr, 'web.shop:80 (200 → 503)');
    t.match(r.stderr, 'VirtualService shop/web sends it to subset v2');
    t.match(r.stderr, 'keep subset v2 in DestinationRule shop/web');
  },
);

t.test('watch resilience: kube-apiserver stops and comes back; no wrong deny meanwhile, and new Pods arrive', async (t) => {
  const harmless = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'during-outage',
      kind: { group: 'networking.istio.io', version: 'v1', kind: 'DestinationRule' },
      namespace: 'bar',
      name: 'x',
      operation: 'CREATE',
      userInfo: { username: 'admin' },
      object: {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'x', namespace: 'bar' },
        spec: { host: 'httpbin', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
      },
    },
  };
  const judge = async () => (await webhook.app.inject({ method: 'POST', url: '/validate', payload: harmless })).json();
  await cluster.stopApiServer();
  for (let i = 0; i < 10; i++) {
    const r = await judge();
    t.equal(r.response.allowed, true, `request ${i + 1} during the outage is allowed from the last snapshot`);
    await new Promise((r2) => setTimeout(r2, 200));
  }
  t.ok(webhook.snapshot(), 'the last snapshot is still served');
  await cluster.startApiServer();
  const r = await cluster.kubectl(
    ['apply', '-f', '-'],
    'apiVersion: v1\nkind: Pod\nmetadata: {name: after-restart, namespace: legacy, labels: {app: after-restart}}\nspec: {containers: [{name: c, image: c}]}\n',
  );
  t.equal(r.code, 0, r.stderr);
  const start = Date.now();
  while (
    !webhook
      .snapshot()
      ?.workloads('legacy')
      .some((w) => w.name === 'after-restart') &&
    Date.now() - start < 30_000
  )
    await new Promise((r2) => setTimeout(r2, 100));
  const took = Date.now() - start;
  t.ok(
    webhook
      .snapshot()
      ?.workloads('legacy')
      .some((w) => w.name === 'after-restart'),
    `the Pod created after the restart is in the snapshot (after ${took} ms)`,
  );
  t.equal((await judge()).response.allowed, true, 'and the harmless change is still allowed');
});

t.test('an API server not reachable yet at start: serve stays up and not ready, retries, and is ready once it answers', async (t) => {
  await cluster.stopApiServer();
  const port = await freePort();
  const certs = join(cluster.dir, 'webhook-certs');
  const logs: string[] = [];
  const late = await startServer(
    parseServeArgs(
      [
        ...loopbackTls(port, certs),
        '--kubeconfig',
        cluster.kubeconfig,
        '--log-level',
        'silent',
        '--drain-seconds',
        '0',
        '--istio-version',
        '1.28.0',
      ],
      {},
    ),
    { out: () => {}, err: (s) => logs.push(s) },
  );
  t.teardown(() => late.shutdown('test'));
  const ready = async () => (await late.app.inject({ url: '/readyz' })).statusCode;
  t.equal(await ready(), 503, 'not ready while the API server is down');
  const judged = (
    await late.app.inject({
      method: 'POST',
      url: '/validate',
      payload: {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'early',
          operation: 'CREATE',
          kind: { group: 'security.istio.io', version: 'v1', kind: 'PeerAuthentication' },
          namespace: 'foo',
          name: 'default',
          userInfo: { username: 'admin' },
          object: {
            apiVersion: 'security.istio.io/v1',
            kind: 'PeerAuthentication',
            metadata: { name: 'default', namespace: 'foo' },
            spec: { mtls: { mode: 'STRICT' } },
          },
        },
      },
    })
  ).json();
  t.match(
    judged.response,
    { uid: 'early', allowed: true, warnings: ['MG303 mtls-guard has no mesh snapshot yet; the change was not evaluated'] },
    'answers, saying nothing was judged',
  );
  await new Promise((r) => setTimeout(r, 1500));
  await cluster.startApiServer();
  for (let i = 0; i < 300 && (await ready()) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  t.equal(await ready(), 200, 'ready once the API server answers');
  t.ok(late.snapshot(), 'with a snapshot');
});
