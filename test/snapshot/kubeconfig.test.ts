// The kubeconfig that `serve` loads: its requests share one connection to the API server.
import t from 'tap';
import type { TapTest } from '../helpers/tap.js';
import https from 'node:https';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { generateCa, generateServing } from '../../src/tls/certs.js';
import { loadKubeConfig } from '../../src/snapshot/kubeconfig.js';
import { PooledKubeConfig } from '../../src/snapshot/kubeconfig.js';

interface Case {
  name: string;
  pooled: boolean;
  requests: number;
  connections: { min?: number; max: number };
  rotate?: number;
  closedAfterRotation?: number;
}
const cases = parse(readFileSync(new URL('../fixtures/snapshot/kubeconfig.yaml', import.meta.url), 'utf8')) as Case[];

const ca = await generateCa(new Date());
const leaf = await generateServing(ca, { service: 'kubernetes', namespace: 'default', ips: ['127.0.0.1'] }, new Date());

/** A TLS server that answers every request with an empty NamespaceList and counts connections. */
async function apiServer(t: TapTest): Promise<{ url: string; opened: () => number; closed: () => number }> {
  let opened = 0;
  let closed = 0;
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'NamespaceList', metadata: {}, items: [] }));
  });
  server.on('secureConnection', (s) => {
    opened++;
    s.on('close', () => closed++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, opened: () => opened, closed: () => closed };
}

function kubeconfigFile(url: string, caPem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-kc-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'test',
      clusters: [{ name: 'test', cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: 'test', user: { token: 'not-checked' } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
    }),
  );
  return file;
}

for (const c of cases) {
  t.test(c.name, async (t) => {
    const srv = await apiServer(t);
    const file = kubeconfigFile(srv.url, ca.certPem);
    let kc: k8s.KubeConfig;
    if (c.pooled) kc = loadKubeConfig(file);
    else {
      kc = new k8s.KubeConfig();
      kc.loadFromFile(file);
    }
    t.equal(kc instanceof PooledKubeConfig, c.pooled, c.pooled ? 'loadKubeConfig pools' : 'client-node alone does not');
    for (let i = 0; i < c.requests; i++) {
      if (i === c.rotate) {
        kc.loadFromOptions({
          ...kc,
          clusters: kc.clusters.map((cl) => ({ ...cl, caData: Buffer.from(ca.certPem + ca.certPem).toString('base64') })),
        });
      }
      const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespace();
      t.equal(list.kind, 'NamespaceList', `request ${i + 1} answered`);
    }
    const n = srv.opened();
    t.ok(
      n >= (c.connections.min ?? 1) && n <= c.connections.max,
      `${n} TLS connection(s) for ${c.requests} requests (${c.connections.min ?? 1} to ${c.connections.max})`,
    );
    if (c.closedAfterRotation !== undefined) {
      // The old pool closes once its requests have ended, which may be after the next request starts.
      for (let i = 0; i < 100 && srv.closed() < c.closedAfterRotation; i++) await new Promise((r) => setTimeout(r, 10));
      t.ok(srv.closed() >= c.closedAfterRotation, `the replaced pool's connections were closed (${srv.closed()})`);
    }
    if (kc instanceof PooledKubeConfig) {
      await kc.close();
      for (let i = 0; i < 100 && srv.closed() < srv.opened(); i++) await new Promise((r) => setTimeout(r, 10));
      t.equal(srv.closed(), srv.opened(), 'close() ends every pooled connection');
      const after = await kc.makeApiClient(k8s.CoreV1Api).listNamespace();
      t.equal(after.kind, 'NamespaceList', 'requests after close() still work, on their own connection');
    }
  });
}
