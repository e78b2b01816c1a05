// Registers the webhook on a control plane exactly as the chart does, and starts it in-process for tests.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { freePort, helmPath, type Cluster } from './controlplane.js';
import { makeCerts } from '../../src/cli/certs.js';
import { startServer, type Running } from '../../src/cli/serve.js';
import { parseServeArgs } from '../../src/config/serve.js';

const CHART = resolve('charts', 'mtls-guard');

/**
 * The chart's ValidatingWebhookConfiguration (`helm template`, legacy kinds on), with each webhook's
 * clientConfig pointed at `url` instead of the in-cluster Service: the same rules, namespace
 * selector and match conditions users get, so tests and `npm run cluster` see the guard as they will.
 */
export function webhookConfiguration(url: string, caBundle: string, failurePolicy = 'Fail'): string {
  const r = spawnSync(
    helmPath(),
    [
      'template',
      'mtls-guard',
      CHART,
      '-n',
      'mtls-guard',
      '--set',
      'webhook.legacy.enabled=true',
      '--set',
      `webhook.failurePolicy=${failurePolicy}`,
      '--show-only',
      'templates/webhook.yaml',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  const cfg = parse(r.stdout) as { webhooks: { clientConfig: unknown }[] };
  for (const w of cfg.webhooks) w.clientConfig = { url, caBundle };
  return JSON.stringify(cfg);
}

/** The chart's RBAC objects that users bind: the two ClusterRoles granting `weaken` and `acknowledge`. */
export function chartClusterRoles(): string {
  const r = spawnSync(helmPath(), ['template', 'mtls-guard', CHART, '-n', 'mtls-guard', '--show-only', 'templates/rbac.yaml'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  const docs = r.stdout.split(/^---$/m).map((d) => parse(d) as { kind?: string; metadata?: { name?: string } } | null);
  const items = docs.filter((d) => d?.kind === 'ClusterRole' && /-(weaken-mode|acknowledge-breakage)$/.test(d.metadata?.name ?? ''));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/** The flags that make `serve` listen on loopback `port` (0: any) with the certificates `makeCerts` wrote to `certs`. */
export function loopbackTls(port: number, certs: string): string[] {
  return ['--listen', `127.0.0.1:${port}`, '--tls-cert', join(certs, 'tls.crt'), '--tls-key', join(certs, 'tls.key')];
}

/** Starts `serve` in-process on a free port (live cluster unless `serveArgs` names files) and registers it. */
export async function startWebhook(cluster: Cluster, serveArgs: string[]): Promise<Running> {
  const certs = join(cluster.dir, 'webhook-certs');
  const caBundle = await makeCerts(
    { out: certs, service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'], dnsNames: [] },
    new Date(),
  );
  const port = await freePort();
  const running = await startServer(
    parseServeArgs([...loopbackTls(port, certs), '--log-level', 'silent', '--drain-seconds', '0', ...serveArgs], {}),
    { out: () => {}, err: () => {} },
  );
  const r = await cluster.kubectl(['apply', '-f', '-'], webhookConfiguration(`https://127.0.0.1:${port}/validate`, caBundle));
  if (r.code !== 0) throw new Error(r.stderr);
  return running;
}

/** Waits up to `ms` (10 s unless given) for the webhook's first snapshot: true once `/readyz` answers 200. */
export async function untilReady(running: Running, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    if ((await running.app.inject({ url: '/readyz' })).statusCode === 200) return true;
  }
  return false;
}
