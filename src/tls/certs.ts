import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

/** How long the CA is valid. */
export const CA_VALIDITY_DAYS = 3650;
/** How long a serving certificate is valid. */
export const LEAF_VALIDITY_DAYS = 365;
/** notBefore is set this far in the past, for clocks that run a little behind. */
export const BACKDATE_MS = 60 * 60 * 1000;
/** RSA key size. */
export const KEY_BITS = 2048;

/** One day in milliseconds. */
export const DAY_MS = 24 * 60 * 60 * 1000;
const genKeyPair = promisify(generateKeyPair);

/** A PEM certificate and its PEM private key. */
export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a serving certificate is for. */
export interface ServingSpec {
  readonly service: string;
  readonly namespace: string;
  readonly ips?: readonly string[];
  readonly dnsNames?: readonly string[];
}

/** The DNS names the API server may dial: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`. */
export function serviceDnsNames(s: ServingSpec): string[] {
  const base = [
    s.service,
    `${s.service}.${s.namespace}`,
    `${s.service}.${s.namespace}.svc`,
    `${s.service}.${s.namespace}.svc.cluster.local`,
  ];
  return [...new Set([...base, ...(s.dnsNames ?? [])])];
}

/** A random positive serial of 128 bits (never 01). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  if (b[0] === 0) b[0] = 0x01;
  return b.toString('hex');
}

/** Generates an RSA key on libuv's thread pool, off the event loop, and hands it to forge. */
async function newKey(): Promise<{ pub: forge.pki.rsa.PublicKey; priv: forge.pki.rsa.PrivateKey; pem: string }> {
  const { privateKey } = await genKeyPair('rsa', {
    modulusLength: KEY_BITS,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { priv, pub: forge.pki.setRsaPublicKey(priv.n, priv.e), pem: privateKey };
}

function validity(cert: forge.pki.Certificate, now: Date, ms: number): void {
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + ms);
}

/** Signs with SHA-256; forge's default is SHA-1, which Go's TLS stack (the API server) refuses. */
function sign(cert: forge.pki.Certificate, key: forge.pki.rsa.PrivateKey): void {
  cert.sign(key, forge.md.sha256.create());
}

/** A self-signed CA, valid `validityMs` (default CA_VALIDITY_DAYS) from `now`. */
export async function generateCa(now: Date, commonName = 'mtls-guard CA', validityMs = CA_VALIDITY_DAYS * DAY_MS): Promise<KeyPair> {
  const k = await newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = k.pub;
  cert.serialNumber = serial();
  validity(cert, now, validityMs);
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'mtls-guard' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  sign(cert, k.priv);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.pem };
}

/** A leaf certificate signed by `ca`: for serving (with SANs) or for a client (with a name only). */
async function generateLeaf(
  ca: KeyPair,
  commonName: string,
  use: 'serverAuth' | 'clientAuth',
  altNames: object[],
  now: Date,
  validityMs: number,
): Promise<KeyPair> {
  const k = await newKey();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = k.pub;
  cert.serialNumber = serial();
  validity(cert, now, validityMs);
  cert.setSubject([
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'mtls-guard' },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', [use]: true },
    ...(altNames.length ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  sign(cert, caKey);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.pem };
}

/** A serving certificate for the webhook's Service, signed by `ca`, valid `validityMs` (default LEAF_VALIDITY_DAYS). */
export function generateServing(ca: KeyPair, spec: ServingSpec, now: Date, validityMs = LEAF_VALIDITY_DAYS * DAY_MS): Promise<KeyPair> {
  const altNames = [...serviceDnsNames(spec).map((value) => ({ type: 2, value })), ...(spec.ips ?? []).map((ip) => ({ type: 7, ip }))];
  return generateLeaf(ca, `${spec.service}.${spec.namespace}.svc`, 'serverAuth', altNames, now, validityMs);
}

/**
 * A client certificate signed by `ca`: what the API server presents to the webhook when its
 * admission configuration names a kubeconfig, and `serve --client-ca` checks.
 */
export function generateClient(ca: KeyPair, commonName: string, now: Date, validityMs = LEAF_VALIDITY_DAYS * DAY_MS): Promise<KeyPair> {
  return generateLeaf(ca, commonName, 'clientAuth', [], now, validityMs);
}

/** The notAfter of a PEM certificate, in ms since the epoch. */
export function notAfterMs(certPem: string): number {
  return forge.pki.certificateFromPem(certPem).validity.notAfter.getTime();
}
