// Authenticating the caller: the real kube-apiserver, started with an admission configuration that
// names a kubeconfig for webhooks, presents a client certificate; `serve --client-ca` judges its
// calls and refuses everyone else's with 401.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { request } from 'node:https';
import { installCrds, startCluster, type Cluster } from '../../tools/cluster/controlplane.js';
import { startWebhook } from '../../tools/cluster/webhook.js';
import { generateCa, generateClient } from '../../src/tls/certs.js';
import type { Running } from '../../src/cli/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-client-auth-'));
let cluster: Cluster;
let webhook: Running;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

t.before(async () => {
  const clientCa = await generateCa(new Date(), 'API server client CA');
  const client = await generateClient(clientCa, 'kube-apiserver', new Date());
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  // The API server picks the user entry named after the webhook's host:port, or `*`.
  writeFileSync(
    join(dir, 'webhook.kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      users: [{ name: '*', user: { 'client-certificate-data': b64(client.certPem), 'client-key-data': b64(client.keyPem) } }],
    }),
  );
  writeFileSync(
    join(dir, 'admission.yaml'),
    `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: ${join(dir, 'webhook.kubeconfig')}
`,
  );
  cluster = await startCluster(dir, { apiServerArgs: [`--admission-control-config-file=${join(dir, 'admission.yaml')}`] });
  await installCrds(cluster);
  webhook = await startWebhook(cluster, [
    '--cluster',
    'examples/mesh-current',
    '--cluster',
    'examples/webhook-demo',
    '--telemetry',
    'examples/telemetry/legacy-plaintext.prom',
    '--client-ca',
    join(dir, 'client-ca.crt'),
  ]);
  for (const ns of ['foo', 'bar', 'legacy']) await cluster.kubectl(['create', 'namespace', ns]);
});

t.teardown(async () => {
  await webhook?.shutdown('test');
  await cluster?.stop();
});

t.test('the API server presents its client certificate, and its calls are judged', async (t) => {
  const r = await cluster.kubectl(
    ['apply', '-f', '-'],
    'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: foo}\nspec: {mtls: {mode: STRICT}}\n',
  );
  t.equal(r.code, 1, 'kubectl exits 1');
  t.match(
    r.stderr,
    'admission webhook "validate.mtls-guard.io" denied the request: CREATE PeerAuthentication foo/default (STRICT) would break 1 connection',
  );
});

t.test('anyone else is refused with 401, and the refusal is counted', async (t) => {
  const u = new URL(webhook.url);
  const status = await new Promise<number>((resolve, reject) => {
    const r = request(
      {
        host: u.hostname,
        port: u.port,
        path: '/validate',
        method: 'POST',
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    r.on('error', reject);
    r.end('{}');
  });
  t.equal(status, 401);
  const m = (await webhook.app.inject({ url: '/metrics' })).body;
  t.match(m, 'mtls_guard_http_responses_total{route="/validate",code="401"} 1');
  t.match(m, /mtls_guard_http_responses_total\{route="\/validate",code="200"\} [1-9]/, "the API server's calls were answered");
});
