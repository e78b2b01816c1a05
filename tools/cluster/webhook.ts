// Registers the webhook on a control plane the way the chart will, and starts it in-process for tests.
import { join } from 'node:path';
import { freePort, type Cluster } from './controlplane.js';
import { makeCerts } from '../../src/cli/certs.js';
import { startServer, type Running } from '../../src/cli/serve.js';
import { parseServeArgs } from '../../src/config/serve.js';

/** The ValidatingWebhookConfiguration rules the chart uses. */
export function webhookConfiguration(url: string, caBundle: string, failurePolicy = 'Fail'): string {
  return `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: mtls-guard}
webhooks:
- name: validate.mtls-guard.io
  clientConfig: {url: "${url}", caBundle: "${caBundle}"}
  rules:
  - {apiGroups: [security.istio.io], apiVersions: ["*"], operations: [CREATE, UPDATE, DELETE], resources: [peerauthentications], scope: Namespaced}
  - {apiGroups: [networking.istio.io], apiVersions: ["*"], operations: [CREATE, UPDATE, DELETE], resources: [destinationrules], scope: Namespaced}
  - {apiGroups: [authentication.istio.io], apiVersions: ["*"], operations: [CREATE, UPDATE, DELETE], resources: [policies], scope: Namespaced}
  - {apiGroups: [authentication.istio.io], apiVersions: ["*"], operations: [CREATE, UPDATE, DELETE], resources: [meshpolicies], scope: Cluster}
  matchPolicy: Equivalent
  sideEffects: NoneOnDryRun
  admissionReviewVersions: [v1]
  timeoutSeconds: 5
  failurePolicy: ${failurePolicy}
`;
}

/** Starts `serve` in-process on a free port (live cluster unless `serveArgs` names files) and registers it. */
export async function startWebhook(cluster: Cluster, serveArgs: string[]): Promise<Running> {
  const certs = join(cluster.dir, 'webhook-certs');
  const caBundle = await makeCerts({ out: certs, service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'], dnsNames: [] }, new Date());
  const port = await freePort();
  const running = await startServer(parseServeArgs(['--listen', `127.0.0.1:${port}`, '--tls-cert', join(certs, 'tls.crt'), '--tls-key', join(certs, 'tls.key'),
    '--log-level', 'silent', '--drain-seconds', '0', ...serveArgs], {}), { out: () => {}, err: () => {} });
  const r = await cluster.kubectl(['apply', '-f', '-'], webhookConfiguration(`https://127.0.0.1:${port}/validate`, caBundle));
  if (r.code !== 0) throw new Error(r.stderr);
  return running;
}
