// The webhook's TLS settings on a real listening server: 1.2 at least, and in 1.2 only ECDHE with
// AEAD ciphers; with a client CA, /validate needs a client certificate and probes do not.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { connect, type ConnectionOptions } from 'node:tls';
import { request } from 'node:https';
import { parse } from 'yaml';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { generateCa, generateClient, generateServing, type KeyPair } from '../../src/tls/certs.js';
import { NO_EVENTS } from '../../src/admission/events.js';
import { fakeAuthorizer, review } from '../helpers/app.js';

interface Case {
  name: string;
  minVersion?: string;
  maxVersion?: string;
  ciphers?: string;
  expect: 'ok' | 'refused';
}

const ca = await generateCa(new Date());
const serving = await generateServing(ca, { service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'] }, new Date());

async function listen(clientCa?: KeyPair) {
  const app = buildApp({
    snapshot: () => null,
    ready: () => ({ ok: true, reasons: [] }),
    options: { defaultMode: 'enforce', denyOn: 'declared', authorizer: fakeAuthorizer(), rolePrefix: 'mtls-guard' },
    metrics: createMetrics({ snapshotAgeSeconds: () => 0, certNotAfterMs: () => null, nowMs: () => 0 }),
    events: NO_EVENTS,
    clock: () => 0,
    https: { key: serving.keyPem, cert: serving.certPem, minVersion: 'TLSv1.2', ...(clientCa ? { clientCa: clientCa.certPem } : {}) },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  return { app, port: typeof a === 'object' && a ? a.port : 0 };
}

function handshake(port: number, o: ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, ca: ca.certPem, servername: 'mtls-guard', ...o }, () => {
      const p = s.getProtocol() ?? '';
      s.end();
      resolve(`ok ${p}`);
    });
    s.on('error', (e) => resolve(`refused ${e.message}`));
  });
}

const { app, port } = await listen();
t.teardown(() => app.close());
for (const c of parse(readFileSync('test/fixtures/http/tls.yaml', 'utf8')) as Case[]) {
  t.test(c.name, async (t) => {
    const o = {
      ...(c.minVersion ? { minVersion: c.minVersion } : {}),
      ...(c.maxVersion ? { maxVersion: c.maxVersion } : {}),
      ...(c.ciphers ? { ciphers: c.ciphers } : {}),
    } as ConnectionOptions;
    const got = await handshake(port, o);
    t.equal(got.split(' ')[0], c.expect, got);
  });
}

function post(port: number, path: string, body: string, client?: KeyPair): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: path === '/validate' ? 'POST' : 'GET',
        ca: ca.certPem,
        servername: 'mtls-guard',
        headers: { 'content-type': 'application/json' },
        ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    r.on('error', reject);
    r.end(path === '/validate' ? body : undefined);
  });
}

t.test('with --client-ca, /validate needs a client certificate that CA signed; probes and /metrics do not', async (t) => {
  const apiServerCa = await generateCa(new Date(), 'kube-apiserver client CA');
  const apiServer = await generateClient(apiServerCa, 'kube-apiserver', new Date());
  const stranger = await generateClient(await generateCa(new Date(), 'someone else'), 'kube-apiserver', new Date());
  const s = await listen(apiServerCa);
  t.teardown(() => s.app.close());
  const body = JSON.stringify(review('allowed'));
  t.equal(await post(s.port, '/validate', body), 401, 'no client certificate: 401');
  t.equal(await post(s.port, '/validate', body, stranger), 401, 'a certificate from another CA: 401');
  t.equal(await post(s.port, '/validate', body, apiServer), 200, "the API server's certificate: judged");
  t.equal(await post(s.port, '/healthz', ''), 200, '/healthz without a certificate');
  t.equal(await post(s.port, '/readyz', ''), 200, '/readyz without a certificate');
  t.equal(await post(s.port, '/metrics', ''), 200, '/metrics without a certificate');
});
