// Known callers outside the mesh on a real control plane: a second, dummy webhook whose Service is
// backed by sidecar-shaped Pods. Namespace STRICT for its namespace is denied through kubectl, the
// message carries a ready-to-apply PERMISSIVE PeerAuthentication, and after applying it STRICT goes
// through.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { installCrds, startCluster, type Cluster } from '../../tools/cluster/controlplane.js';
import { demoMesh, pod } from '../../tools/cluster/demo-mesh.js';
import { startWebhook, untilReady } from '../../tools/cluster/webhook.js';
import type { Running } from '../../src/cli/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-callers-'));
let cluster: Cluster;
let webhook: Running;

const HOOKS = `apiVersion: v1
kind: Namespace
metadata: {name: hooks, labels: {istio-injection: enabled}}
---
${pod('hooks', 'policy-webhook', true, 9443).replace('ports: [{containerPort: 9443}]', 'ports: [{name: https, containerPort: 9443}]')}---
apiVersion: v1
kind: Service
metadata: {name: policy-webhook, namespace: hooks}
spec: {selector: {app: policy-webhook}, ports: [{name: https, port: 443, targetPort: https}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: policy-validating-webhook-cfg}
webhooks:
- name: validate.policy.example.com
  clientConfig: {service: {namespace: hooks, name: policy-webhook, path: /validate}}
  # Never called here: no such resource exists.
  rules: [{apiGroups: [example.com], apiVersions: [v1], operations: [CREATE], resources: [widgets]}]
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
`;
const STRICT =
  'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: hooks}\nspec: {mtls: {mode: STRICT}}\n';
const SNIPPET =
  /\{"apiVersion":"security\.istio\.io\/v1","kind":"PeerAuthentication","metadata":\{"name":"[a-z0-9-]+","namespace":"hooks"\},"spec":\{"selector":\{"matchLabels":\{[^}]*\}\},"portLevelMtls":\{"9443":\{"mode":"PERMISSIVE"\}\}\}\}/;

t.before(async () => {
  cluster = await startCluster(dir);
  await installCrds(cluster);
  for (const doc of [demoMesh(), HOOKS]) {
    const r = await cluster.kubectl(['apply', '-f', '-'], doc);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  await cluster.kubectl(['create', 'namespace', 'istio-system']);
  webhook = await startWebhook(cluster, ['--kubeconfig', cluster.kubeconfig, '--istio-version', '1.28.0']);
  await untilReady(webhook);
});

t.teardown(async () => {
  await webhook?.shutdown('test');
  await cluster?.stop();
});

let snippet = '';

t.test("namespace STRICT for the webhook's namespace is denied, naming the API server and the configuration", async (t) => {
  const r = await cluster.kubectl(['apply', '-f', '-'], STRICT);
  t.equal(r.code, 1, 'kubectl exits 1');
  t.match(r.stderr, 'admission webhook "validate.mtls-guard.io" denied the request');
  t.match(r.stderr, 'kube-apiserver -> policy-webhook.hooks:443');
  t.match(r.stderr, 'ValidatingWebhookConfiguration policy-validating-webhook-cfg → policy-webhook.hooks:443');
  t.match(r.stderr, '(1 declared)');
  snippet = SNIPPET.exec(r.stderr)?.[0] ?? '';
  t.ok(snippet, 'the message carries the PERMISSIVE PeerAuthentication', { stderr: r.stderr });
});

t.test('applying the snippet, then STRICT, is allowed', async (t) => {
  const a = await cluster.kubectl(['apply', '-f', '-'], snippet);
  t.equal(a.code, 0, a.stderr);
  t.match(a.stdout, /peerauthentication\.security\.istio\.io\/[a-z0-9-]+ created/);
  let r = await cluster.kubectl(['apply', '-f', '-'], STRICT);
  // The snapshot sees the new PeerAuthentication through its watch, a moment later.
  for (let i = 0; i < 50 && r.code !== 0; i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = await cluster.kubectl(['apply', '-f', '-'], STRICT);
  }
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, 'peerauthentication.security.istio.io/default created');
});
