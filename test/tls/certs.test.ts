// Certificates as the API server needs them: SANs, SHA-256, real serials and subjects, and a real
// HTTPS round trip verified the way Go's TLS client does it (SAN only, no SHA-1).
import t from 'tap';
import https from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import forge from 'node-forge';
import { generateKeyPairSync } from 'node:crypto';
import { BACKDATE_MS, CA_VALIDITY_DAYS, generateCa, generateServing, LEAF_VALIDITY_DAYS, type KeyPair } from '../../src/tls/certs.js';
import { CERT_FILES, writeCerts } from '../../src/tls/files.js';
import { startServer } from '../../src/cli/serve.js';
import { parseServeArgs } from '../../src/config/serve.js';

const NOW = new Date('2031-03-04T05:06:07Z');
const DAY = 86_400_000;
const SHA256_RSA = '1.2.840.113549.1.1.11';
const future = await generateCa(NOW);
const leaf = await generateServing(future, { service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'] }, NOW);
// Live connections need certificates valid today.
const ca = await generateCa(new Date());

t.test('the CA and the serving certificate', async (t) => {
  const c = forge.pki.certificateFromPem(future.certPem);
  const l = forge.pki.certificateFromPem(leaf.certPem);
  t.equal(c.validity.notBefore.getTime(), NOW.getTime() - BACKDATE_MS, 'CA notBefore is backdated');
  t.equal(c.validity.notAfter.getTime(), NOW.getTime() + CA_VALIDITY_DAYS * DAY, 'CA valid 10 years');
  t.equal(l.validity.notAfter.getTime(), NOW.getTime() + LEAF_VALIDITY_DAYS * DAY, 'leaf valid 1 year');
  t.equal(c.siginfo.algorithmOid, SHA256_RSA, 'CA signed with SHA-256');
  t.equal(l.siginfo.algorithmOid, SHA256_RSA, 'leaf signed with SHA-256');
  t.ok(c.verify(l), 'leaf verifies against the CA');
  const sans = (l.getExtension('subjectAltName') as { altNames: { type: number; value?: string; ip?: string }[] }).altNames;
  t.same(
    sans.filter((a) => a.type === 2).map((a) => a.value),
    ['mtls-guard', 'mtls-guard.mtls-guard', 'mtls-guard.mtls-guard.svc', 'mtls-guard.mtls-guard.svc.cluster.local'],
  );
  t.same(
    sans.filter((a) => a.type === 7).map((a) => a.ip),
    ['127.0.0.1'],
  );
  t.equal(l.subject.getField('CN').value, 'mtls-guard.mtls-guard.svc');
  t.equal(l.subject.getField('O').value, 'mtls-guard');
  const other = await generateServing(future, { service: 'mtls-guard', namespace: 'mtls-guard' }, NOW);
  t.not(forge.pki.certificateFromPem(other.certPem).serialNumber, l.serialNumber, 'serials are random');
  t.ok(l.serialNumber.length >= 30, 'serials are long, never 01');
});

/** Verifies a peer certificate the way the API server (Go's crypto/tls) does. */
function goLikeIdentity(host: string, cert: PeerCertificate): Error | undefined {
  if (!cert.subjectaltname) return new Error('x509: certificate relies on legacy Common Name field, use SANs instead');
  const parsed = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(cert.raw.toString('binary'))));
  if (parsed.siginfo.algorithmOid !== SHA256_RSA) return new Error('x509: cannot verify signature: insecure algorithm SHA1-RSA');
  return checkServerIdentity(host, cert);
}

function get(
  port: number,
  caPem: string,
  path = '/healthz',
  agent?: https.Agent,
  servername = 'mtls-guard.mtls-guard.svc',
): Promise<number> {
  return new Promise((resolve, reject) => {
    // An agent carries its own TLS options: per-request checkServerIdentity would stop socket reuse.
    const tlsOpts = agent ? { agent } : { ca: caPem, servername, checkServerIdentity: goLikeIdentity };
    const req = https.request({ host: '127.0.0.1', port, path, ...tlsOpts }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serveWith(pair: KeyPair, caPair: KeyPair) {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-tls-'));
  await writeCerts(dir, caPair, pair);
  const cfg = parseServeArgs(
    [
      '--listen',
      '127.0.0.1:0',
      '--cluster',
      'examples/mesh-current',
      '--tls-cert',
      join(dir, CERT_FILES.cert),
      '--tls-key',
      join(dir, CERT_FILES.key),
      '--drain-seconds',
      '0.3',
      '--log-level',
      'silent',
    ],
    {},
  );
  const running = await startServer(cfg, { out: () => {}, err: () => {} });
  return { running, dir, port: Number(new URL(running.url).port) };
}

t.test('HTTPS round trip verified like the API server: SAN checked, SHA-256 accepted', async (t) => {
  const now = await generateServing(ca, { service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'] }, new Date());
  const { running, port } = await serveWith(now, ca);
  t.teardown(() => running.shutdown('test'));
  t.equal(await get(port, ca.certPem), 200, 'verified against the generated CA');
  await t.rejects(
    get(port, ca.certPem, '/healthz', undefined, 'other.example.com'),
    /does not match|altnames/i,
    'a name not in the SANs is refused',
  );
});

t.test('the Go-like client refuses SHA-1 signatures and certificates without SANs', async (t) => {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  const keys = { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
  const make = (sha1: boolean, san: boolean): KeyPair => {
    const c = forge.pki.createCertificate();
    c.publicKey = keys.publicKey;
    c.serialNumber = '5a5a5a5a';
    c.validity.notBefore = new Date(Date.now() - DAY);
    c.validity.notAfter = new Date(Date.now() + DAY);
    const subject = [{ name: 'commonName', value: 'mtls-guard.mtls-guard.svc' }];
    c.setSubject(subject);
    c.setIssuer(subject);
    c.setExtensions([
      { name: 'basicConstraints', cA: true },
      ...(san
        ? [
            {
              name: 'subjectAltName',
              altNames: [
                { type: 2, value: 'mtls-guard.mtls-guard.svc' },
                { type: 7, ip: '127.0.0.1' },
              ],
            },
          ]
        : []),
    ]);
    if (sha1) c.sign(keys.privateKey);
    else c.sign(keys.privateKey, forge.md.sha256.create());
    const pem = forge.pki.certificateToPem(c);
    return { certPem: pem, keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
  };
  for (const [name, pair, err] of [
    ['SHA-1 (node-forge default)', make(true, true), /SHA1|insecure|signature|md/i],
    ['no SAN (Common Name only)', make(false, false), /Common Name|SANs/i],
  ] as const) {
    const { running, port } = await serveWith(pair, pair);
    t.teardown(() => running.shutdown('test'));
    await t.rejects(get(port, pair.certPem), err, `refused: ${name}`);
  }
});

t.test('the server reloads its certificate without dropping open keep-alive connections', async (t) => {
  const first = await generateServing(ca, { service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'] }, new Date());
  const { running, dir, port } = await serveWith(first, ca);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 1,
    ca: ca.certPem,
    servername: 'mtls-guard.mtls-guard.svc',
    checkServerIdentity: goLikeIdentity,
  });
  t.teardown(async () => {
    agent.destroy();
    await running.shutdown('test');
  });
  t.equal(await get(port, ca.certPem, '/healthz', agent), 200, 'first request on a keep-alive connection');
  // The socket returns to the agent's free list just after the response ends.
  await new Promise((r) => setTimeout(r, 50));
  const [socket] = Object.values(agent.freeSockets).flat();
  t.ok(socket, 'the connection is kept open');
  const ca2 = await generateCa(new Date(), 'mtls-guard CA 2');
  const second = await generateServing(ca2, { service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'] }, new Date());
  writeFileSync(join(dir, CERT_FILES.cert), second.certPem);
  writeFileSync(join(dir, CERT_FILES.key), second.keyPem);
  t.ok(await running.reloader.check(), 'the new pair is picked up');
  t.equal(await get(port, ca.certPem, '/healthz', agent), 200, 'the open connection still works');
  t.equal(Object.values(agent.freeSockets).flat()[0], socket, 'on the same socket');
  t.equal(await get(port, ca2.certPem), 200, 'a new connection gets the new certificate');
  await t.rejects(get(port, ca.certPem), /self.signed|unable to verify|certificate/i, 'and the old CA no longer verifies new connections');
});

t.test('graceful shutdown: not ready during the drain, then closed', async (t) => {
  const pair = await generateServing(ca, { service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'] }, new Date());
  const { running, port } = await serveWith(pair, ca);
  t.equal(await get(port, ca.certPem, '/readyz'), 200, 'ready before');
  const done = running.shutdown('SIGTERM');
  t.equal(await get(port, ca.certPem, '/readyz'), 503, 'not ready while draining, still serving');
  t.equal(await get(port, ca.certPem, '/healthz'), 200, 'still live while draining');
  await done;
  await t.rejects(get(port, ca.certPem), /ECONNREFUSED/, 'closed after the drain');
});
