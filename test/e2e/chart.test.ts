// The Helm chart on a real control plane: `helm install` is accepted, RBAC is least privilege
// (`kubectl auth can-i`), a local `serve` running as the chart's ServiceAccount manages its own
// certificates against the real API server, kubectl sees a denial through the installed
// configuration, a CA switch fails no admission call, and the pre-delete hook removes the webhook.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { connect } from 'node:tls';
import forge from 'node-forge';
import { parseAllDocuments } from 'yaml';
import { freePort, helmPath, installCrds, startCluster, type Cluster } from '../../tools/cluster/controlplane.js';
import { demoMesh } from '../../tools/cluster/demo-mesh.js';
import { untilReady } from '../../tools/cluster/webhook.js';
import { startServer, type Running } from '../../src/cli/serve.js';
import { parseServeArgs } from '../../src/config/serve.js';
import { main } from '../../src/cli/run.js';
import { generateCa, generateServing, DAY_MS } from '../../src/tls/certs.js';
import { secretData, SelfManagedCerts } from '../../src/tls/self-managed.js';
import { DEFAULT_ROTATION } from '../../src/tls/rotation.js';
import * as k8s from '@kubernetes/client-node';

const NS = 'mtls-guard';
const SA = `system:serviceaccount:${NS}:mtls-guard`;
const HOOK_SA = `system:serviceaccount:${NS}:mtls-guard-unregister`;
const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-chart-'));
const MESH_MTLS =
  'apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: default, namespace: istio-system}\nspec: {host: "*.local", trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}\n';
const DENIED = 'admission webhook "validate.mtls-guard.io" denied the request';
let cluster: Cluster;
let port: number;
let server: Running | undefined;

const helm = (...args: string[]) => spawnSync(helmPath(), [...args, '--kubeconfig', cluster.kubeconfig], { encoding: 'utf8' });
const ok = async (args: string[], input?: string): Promise<string> => {
  const r = await cluster.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const json = async (args: string[]): Promise<Record<string, any>> => JSON.parse(await ok([...args, '-o', 'json']));
const certCount = (b64: string): number =>
  (
    Buffer.from(b64, 'base64')
      .toString()
      .match(/BEGIN CERTIFICATE/g) ?? []
  ).length;
const bundle = async (): Promise<string> =>
  (await json(['get', 'validatingwebhookconfiguration', 'mtls-guard'])).webhooks[0].clientConfig.caBundle ?? '';
const secret = async (): Promise<Record<string, string>> => (await json(['get', 'secret', '-n', NS, 'mtls-guard-certs'])).data ?? {};
/** A JSON patch that sets one field of both of the chart's webhooks (Istio objects, namespace modes). */
const everyWebhook = (field: string, value: unknown) => [0, 1].map((i) => ({ op: 'replace', path: `/webhooks/${i}/${field}`, value }));

/** A kubeconfig that authenticates as a ServiceAccount with a short-lived token from the TokenRequest API. */
async function kubeconfigAs(sa: string): Promise<string> {
  const token = (await ok(['create', 'token', sa, '-n', NS, '--duration=1h'])).trim();
  const file = join(dir, `${sa}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'sa',
      clusters: [{ name: 'e2e', cluster: { server: cluster.server, 'certificate-authority': join(cluster.dir, 'pki', 'ca.crt') } }],
      users: [{ name: 'sa', user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'e2e', user: 'sa' } }],
    }),
  );
  return file;
}

/** `serve` as the chart runs it, but local: self-managed certificates, live cluster, the SA's identity. */
async function startGuard(kubeconfig: string, extra: string[] = []): Promise<Running> {
  const r = await startServer(
    parseServeArgs(
      [
        '--listen',
        `127.0.0.1:${port}`,
        '--kubeconfig',
        kubeconfig,
        '--cert-mode',
        'self-managed',
        '--namespace',
        NS,
        '--cert-secret',
        'mtls-guard-certs',
        '--service',
        'mtls-guard',
        '--webhook-configuration',
        'mtls-guard',
        '--cert-san',
        '127.0.0.1',
        '--cert-reload-seconds',
        '1',
        '--log-level',
        'silent',
        '--drain-seconds',
        '0',
        '--istio-version',
        '1.28.0',
        ...extra,
      ],
      {},
    ),
    { out: () => {}, err: () => {} },
  );
  await untilReady(r);
  return r;
}

/** The certificate the server presents right now. */
function servedCert(): Promise<forge.pki.Certificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const der = s.getPeerCertificate().raw;
      s.end();
      resolve(forge.pki.certificateFromAsn1(forge.asn1.fromDer(der.toString('binary'))));
    });
    s.on('error', reject);
  });
}

t.before(async () => {
  cluster = await startCluster(dir);
  await installCrds(cluster);
  await ok(['apply', '-f', '-'], demoMesh());
  for (const ns of ['istio-system', NS]) await ok(['create', 'namespace', ns]);
  port = await freePort();
});

t.teardown(async () => {
  await server?.shutdown('test');
  await cluster?.stop();
});

t.test('helm install into the real API server succeeds and prints the notes', async (t) => {
  const r = helm(
    'install',
    'mtls-guard',
    'charts/mtls-guard',
    '-n',
    NS,
    '--set',
    'webhook.failurePolicy=Fail',
    '--set',
    'webhook.legacy.enabled=true',
  );
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, 'STATUS: deployed');
  t.match(r.stdout, 'kubectl label namespace <ns> mtls-guard.io/mode=warn');
  t.match(r.stdout, 'kubectl delete validatingwebhookconfiguration mtls-guard');
  const cfg = await json(['get', 'validatingwebhookconfiguration', 'mtls-guard']);
  t.same(cfg.webhooks[0].clientConfig.service, { name: 'mtls-guard', namespace: NS, path: '/validate', port: 443 });
  t.equal(cfg.webhooks[0].matchConditions.length, 1, 'the API server kept the matchConditions');
  t.same(
    cfg.webhooks.map((w: { name: string }) => w.name),
    ['validate.mtls-guard.io', 'modes.mtls-guard.io'],
    'a second webhook judges namespace mode labels',
  );
  t.equal(cfg.webhooks[1].matchConditions[0].name, 'mode-label-changed', 'the API server accepted its CEL match condition');
  t.equal((await json(['get', 'deployment', '-n', NS, 'mtls-guard'])).spec.template.spec.securityContext.runAsUser, 65532);
  t.same(await secret(), {}, 'the certificate Secret starts empty');
});

t.test('RBAC: what serve needs is allowed, nothing more', async (t) => {
  const can = async (as: string, ...args: string[]) => (await cluster.kubectl(['auth', 'can-i', '--as', as, ...args])).stdout.trim();
  for (const args of [
    ['list', 'pods', '-A'],
    ['watch', 'peerauthentications.security.istio.io', '-A'],
    ['list', 'destinationrules.networking.istio.io', '-A'],
    ['watch', 'namespaces'],
    ['list', 'configmaps/istio', '-n', 'istio-system'],
    ['watch', 'configmaps/istio', '-A'],
    ['list', 'deployments.apps', '-A'],
    ['create', 'subjectaccessreviews.authorization.k8s.io'],
    ['list', 'meshpolicies.authentication.istio.io'],
    ['list', 'policies.authentication.istio.io', '-A'],
    ['create', 'events', '-n', 'foo'],
    ['get', 'secret/mtls-guard-certs', '-n', NS],
    ['update', 'secret/mtls-guard-certs', '-n', NS],
    ['get', 'validatingwebhookconfigurations/mtls-guard'],
    ['patch', 'validatingwebhookconfigurations/mtls-guard'],
    ['list', 'validatingwebhookconfigurations'],
    ['watch', 'mutatingwebhookconfigurations'],
    ['list', 'customresourcedefinitions.apiextensions.k8s.io'],
    ['list', 'apiservices.apiregistration.k8s.io'],
    ['watch', 'ingresses.networking.k8s.io', '-A'],
    ['list', 'ingressclasses.networking.k8s.io'],
  ])
    t.equal(await can(SA, ...args), 'yes', `may ${args.join(' ')}`);
  for (const args of [
    ['get', 'secrets', '-A'],
    ['list', 'secrets', '-n', NS],
    ['list', 'configmaps', '-A'],
    ['get', 'configmaps/other', '-n', 'istio-system'],
    ['weaken', 'modes.mtls-guard.io', '-n', 'foo'],
    ['acknowledge', 'breakages.mtls-guard.io', '-n', 'foo'],
    ['get', 'secret/other', '-n', NS],
    ['create', 'secrets', '-n', NS],
    ['create', 'pods', '-n', 'foo'],
    ['patch', 'validatingwebhookconfigurations/other'],
    ['delete', 'validatingwebhookconfigurations/mtls-guard'],
    ['update', 'peerauthentications.security.istio.io', '-n', 'foo'],
    ['create', 'clusterrolebindings'],
    ['update', 'ingresses.networking.k8s.io', '-n', 'foo'],
    ['delete', 'customresourcedefinitions.apiextensions.k8s.io'],
    ['patch', 'mutatingwebhookconfigurations/mtls-guard'],
  ])
    t.equal(await can(SA, ...args), 'no', `may not ${args.join(' ')}`);
  // kubectl auth can-i cannot name kinds whose CRDs are not installed: ask with a SubjectAccessReview.
  const sar = async (verb: string, group: string, resource: string): Promise<boolean> => {
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: SA, groups: ['system:serviceaccounts'], resourceAttributes: { verb, group, resource } },
    };
    return JSON.parse(await ok(['create', '-o', 'json', '-f', '-'], JSON.stringify(review))).status.allowed === true;
  };
  for (const [verb, group, resource] of [
    ['list', 'gateway.networking.k8s.io', 'gateways'],
    ['watch', 'gateway.networking.k8s.io', 'httproutes'],
    ['list', 'monitoring.coreos.com', 'servicemonitors'],
    ['watch', 'monitoring.coreos.com', 'podmonitors'],
    ['list', 'wgpolicyk8s.io', 'policyreports'],
    ['patch', 'wgpolicyk8s.io', 'policyreports'],
    ['delete', 'wgpolicyk8s.io', 'policyreports'],
  ] as const) {
    t.ok(await sar(verb, group, resource), `may ${verb} ${resource}.${group} (SubjectAccessReview)`);
  }
  t.notOk(await sar('delete', 'monitoring.coreos.com', 'servicemonitors'), 'may not delete servicemonitors (SubjectAccessReview)');
  t.notOk(await sar('delete', 'wgpolicyk8s.io', 'clusterpolicyreports'), 'may not delete clusterpolicyreports (SubjectAccessReview)');
});

t.test(
  "serve as the chart's ServiceAccount creates its certificates and caBundle; kubectl sees a denial through the installed configuration",
  async (t) => {
    // The envtest way: point the installed configuration at the local server instead of the Service.
    await ok([
      'patch',
      'validatingwebhookconfiguration',
      'mtls-guard',
      '--type=json',
      '-p',
      JSON.stringify(everyWebhook('clientConfig', { url: `https://127.0.0.1:${port}/validate` })),
    ]);
    server = await startGuard(await kubeconfigAs('mtls-guard'));
    const data = await secret();
    for (const k of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']) t.ok(data[k], `the Secret holds ${k}`);
    const ca = Buffer.from(data['ca.crt']!, 'base64').toString().trim();
    t.ok(
      Buffer.from(await bundle(), 'base64')
        .toString()
        .includes(ca),
      "the caBundle holds the Secret's CA",
    );
    const hooks = (await json(['get', 'validatingwebhookconfiguration', 'mtls-guard'])).webhooks as {
      clientConfig: { caBundle: string };
    }[];
    t.equal(hooks[1]!.clientConfig.caBundle, hooks[0]!.clientConfig.caBundle, 'both webhooks get the caBundle');
    t.ok(forge.pki.certificateFromPem(ca).verify(await servedCert()), 'the served certificate is signed by it');
    const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], MESH_MTLS);
    t.equal(r.code, 1, 'kubectl exits 1');
    t.match(r.stderr, DENIED);
    t.match(r.stderr, /kubernetes\.default:443 \(200 → 000\)/);
  },
);

/** A second replica's certificate manager, as the chart's ServiceAccount. */
async function replica(): Promise<SelfManagedCerts> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(await kubeconfigAs('mtls-guard'));
  return new SelfManagedCerts(
    kc,
    {
      namespace: NS,
      secretName: 'mtls-guard-certs',
      webhookConfigurations: ['mtls-guard'],
      policy: DEFAULT_ROTATION,
      spec: { service: 'mtls-guard', namespace: NS, ips: ['127.0.0.1'] },
    },
    () => Date.now(),
  );
}

t.test('a second replica reuses the Secret and writes nothing', async (t) => {
  const before = (await json(['get', 'secret', '-n', NS, 'mtls-guard-certs'])).metadata.resourceVersion;
  const cfgBefore = (await json(['get', 'validatingwebhookconfiguration', 'mtls-guard'])).metadata.resourceVersion;
  const r = await (await replica()).reconcile();
  t.same(r.steps, [], 'no steps');
  t.same(r.patched, [], 'no patch');
  t.equal((await json(['get', 'secret', '-n', NS, 'mtls-guard-certs'])).metadata.resourceVersion, before, 'Secret unchanged');
  t.equal(
    (await json(['get', 'validatingwebhookconfiguration', 'mtls-guard'])).metadata.resourceVersion,
    cfgBefore,
    'configuration unchanged',
  );
});

t.test('replicas that start together on an empty Secret agree on one CA', async (t) => {
  const s = await json(['get', 'secret', '-n', NS, 'mtls-guard-certs']);
  delete s['data'];
  await ok(['replace', '-f', '-'], JSON.stringify(s));
  const [a, b, c] = await Promise.all([replica(), replica(), replica()]);
  const results = await Promise.all([a!.reconcile(), b!.reconcile(), c!.reconcile()]);
  const cas = new Set(results.map((r) => r.state.ca!.certPem));
  t.equal(cas.size, 1, 'one CA for all');
  // The running server reconciles every second too, so it may be the one that wins.
  t.ok(results.filter((r) => r.steps.some((st) => st.kind === 'new-ca')).length <= 1, 'at most one of them made it; the others adopted it');
  const data = await secret();
  t.equal(Buffer.from(data['ca.crt']!, 'base64').toString(), [...cas][0], 'the Secret holds it');
  t.ok(
    Buffer.from(await bundle(), 'base64')
      .toString()
      .includes([...cas][0]!.trim()),
    'and the caBundle trusts it',
  );
});

t.test('a CA switch against the real API server: both CAs are trusted across it and no admission call fails', async (t) => {
  await server!.shutdown('restart with an ageing CA');
  server = undefined;
  // A CA with less than a third of its life left, as after years of service.
  const now = Date.now();
  const old = await generateCa(new Date(now - 100 * DAY_MS), 'mtls-guard CA (old)', 120 * DAY_MS);
  const leaf = await generateServing(
    old,
    { service: 'mtls-guard', namespace: NS, ips: ['127.0.0.1'] },
    new Date(now - DAY_MS),
    90 * DAY_MS,
  );
  const s = await json(['get', 'secret', '-n', NS, 'mtls-guard-certs']);
  await ok(['replace', '-f', '-'], JSON.stringify({ ...s, data: secretData({ ca: old, serving: leaf }) }));
  await ok([
    'patch',
    'validatingwebhookconfiguration',
    'mtls-guard',
    '--type=json',
    '-p',
    JSON.stringify(everyWebhook('clientConfig/caBundle', Buffer.from(old.certPem).toString('base64'))),
  ]);

  server = await startGuard(await kubeconfigAs('mtls-guard'), ['--ca-propagation', '4s']);
  const staged = await secret();
  t.ok(staged['ca-next.crt'], 'a next CA is staged');
  t.equal(certCount(await bundle()), 2, 'the bundle trusts the old and the staged CA');
  t.ok(forge.pki.certificateFromPem(old.certPem).verify(await servedCert()), 'the old CA still signs what is served');

  const results: { code: number; stderr: string }[] = [];
  let switched = false;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    results.push(await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], MESH_MTLS));
    if (!switched && (await secret())['ca-previous.crt']) switched = true;
    else if (switched && results.length > 3) {
      // Keep calling until the new pair has been served for a few requests.
      const d = await secret();
      const ca = forge.pki.certificateFromPem(Buffer.from(d['ca.crt']!, 'base64').toString());
      if (ca.verify(await servedCert())) {
        for (let i = 0; i < 3; i++) results.push(await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], MESH_MTLS));
        break;
      }
    }
  }
  t.ok(switched, 'the staged CA was promoted');
  const after = await secret();
  t.equal(Buffer.from(after['ca-previous.crt']!, 'base64').toString().trim(), old.certPem.trim(), 'the old CA is kept as previous');
  t.not(Buffer.from(after['ca.crt']!, 'base64').toString().trim(), old.certPem.trim(), 'a new CA signs');
  t.equal(certCount(await bundle()), 2, 'both CAs stay in the bundle after the switch');
  t.ok(
    forge.pki.certificateFromPem(Buffer.from(after['ca.crt']!, 'base64').toString()).verify(await servedCert()),
    'the served certificate is signed by the new CA',
  );
  t.ok(results.length >= 5, `${results.length} admission calls across the switch`);
  const failed = results.filter((r) => r.code !== 1 || !r.stderr.includes(DENIED));
  t.same(
    failed.map((r) => r.stderr.trim()),
    [],
    "every call got mtls-guard's verdict; none failed calling the webhook",
  );
});

t.test('helm upgrade keeps the certificates and the caBundle the server made', async (t) => {
  await server!.shutdown('upgrade');
  server = undefined;
  const caBundle = await bundle();
  const data = await secret();
  // Back to the Service form the chart renders, as in a real cluster.
  await ok([
    'patch',
    'validatingwebhookconfiguration',
    'mtls-guard',
    '--type=json',
    '-p',
    JSON.stringify(
      everyWebhook('clientConfig', { service: { name: 'mtls-guard', namespace: NS, path: '/validate', port: 443 }, caBundle }),
    ),
  ]);
  const r = helm('upgrade', 'mtls-guard', 'charts/mtls-guard', '-n', NS, '--reuse-values', '--set', 'logLevel=debug');
  t.equal(r.status, 0, r.stderr);
  t.same(await secret(), data, "the Secret's certificates survive the upgrade");
  t.equal(await bundle(), caBundle, 'the caBundle survives the upgrade');
  t.ok(
    (await json(['get', 'deployment', '-n', NS, 'mtls-guard'])).spec.template.spec.containers[0].args.includes('--log-level=debug'),
    'the upgrade applied',
  );
});

t.test('the pre-delete hook removes the webhook configuration, with only the rights to do that', async (t) => {
  const r = helm('template', 'mtls-guard', 'charts/mtls-guard', '-n', NS, '--show-only', 'templates/pre-delete.yaml');
  t.equal(r.status, 0, r.stderr);
  // No kubelet runs the Job here: create its RBAC and run its command with its identity.
  const rbac = parseAllDocuments(r.stdout)
    .map((d) => d.toJS())
    .filter((o) => o && o.kind !== 'Job');
  t.same(
    rbac.map((o) => o.kind),
    ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'],
  );
  await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
  const job = parseAllDocuments(r.stdout)
    .map((d) => d.toJS())
    .find((o) => o?.kind === 'Job');
  const args = job.spec.template.spec.containers[0].args as string[];
  const can = async (...a: string[]) => (await cluster.kubectl(['auth', 'can-i', '--as', HOOK_SA, ...a])).stdout.trim();
  t.equal(await can('delete', 'validatingwebhookconfigurations/mtls-guard'), 'yes');
  t.equal(await can('delete', 'validatingwebhookconfigurations/other'), 'no');
  t.equal(await can('get', 'secrets', '-n', NS), 'no');
  const kc = await kubeconfigAs('mtls-guard-unregister');
  let err = '';
  const io = {
    out: () => {},
    err: (s: string) => {
      err += s;
    },
  };
  t.equal(await main([...args, '--kubeconfig', kc], io), 0, err);
  t.match(err, 'deleted ValidatingWebhookConfiguration mtls-guard');
  const gone = await cluster.kubectl(['get', 'validatingwebhookconfiguration', 'mtls-guard']);
  t.match(gone.stderr, 'NotFound');
  err = '';
  t.equal(await main([...args, '--kubeconfig', kc], io), 0, 'a second run succeeds');
  t.match(err, 'already gone');
  const after = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], MESH_MTLS);
  t.equal(after.code, 0, 'Istio changes go through again');
  const un = helm('uninstall', 'mtls-guard', '-n', NS, '--no-hooks');
  t.equal(un.status, 0, un.stderr);
});
