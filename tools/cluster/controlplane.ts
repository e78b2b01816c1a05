// A throwaway control plane for end-to-end tests and `npm run cluster`: real etcd, kube-apiserver and kubectl.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, openSync, realpathSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCa, generateServing } from '../../src/tls/certs.js';

/** The repository root (this file is tools/cluster/controlplane.ts, or its build in dist/). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), ...(import.meta.url.includes('/dist/') ? ['..', '..', '..'] : ['..', '..']));

/** The shared Istio CRDs when ../shared is there, else the minimal ones the tests make themselves. */
export const SHARED_CRDS = resolve(ROOT, '..', 'shared', 'istio', 'crds.yaml');
export const MINIMAL_CRDS = resolve(ROOT, 'tools', 'cluster', 'minimal-istio-crds.yaml');
export const LEGACY_CRDS = resolve(ROOT, 'tools', 'cluster', 'legacy-crds.yaml');

/** Builds (first use) or reuses the cached binaries; returns their folder. */
export function binaries(): string {
  const r = spawnSync('bash', [join(ROOT, 'tools', 'build-binaries.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 40 * 60_000,
  });
  if (r.status !== 0) throw new Error(`tools/build-binaries.sh failed (exit ${r.status}): ${r.error?.message ?? ''}`);
  return r.stdout.trim().split('\n').at(-1)!;
}

/** Helm 3, fetched into the binary cache on first use. */
export function helmPath(): string {
  return join(binaries(), 'helm');
}

/** kubectl 1.32: MTLS_GUARD_KUBECTL, else `kubectl.1.32` beside the machine's kubectl dispatcher. */
export function kubectlPath(): string {
  const env = process.env['MTLS_GUARD_KUBECTL'];
  if (env) return env;
  const which = spawnSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  if (!which) throw new Error('kubectl not found: set MTLS_GUARD_KUBECTL to a kubectl 1.32 binary');
  const versioned = join(dirname(realpathSync(which)), 'kubectl.1.32');
  return existsSync(versioned) ? versioned : which;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** What kubectl printed. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end with its output collected. `input` goes to its stdin (closed at once
 * without it); `env` replaces the environment when given.
 */
export function runProcess(cmd: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((res) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    // A command may exit before it reads its input (a bad flag, a command that reads none): its
    // exit code and stderr tell what happened, not the broken pipe.
    p.stdin.on('error', () => {});
    p.stdin.end(opts.input ?? '');
  });
}

/** A running control plane. */
export interface Cluster {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly server: string;
  /** etcd's client URL (plain HTTP on loopback). */
  readonly etcd: string;
  /** PIDs of etcd and kube-apiserver. */
  readonly pids: { readonly etcd: number; readonly kubeApiserver: number };
  kubectl(args: string[], input?: string): Promise<Run>;
  /** Stops kube-apiserver (etcd keeps the data). */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port, and waits until it is ready. */
  startApiServer(): Promise<void>;
  stop(): Promise<void>;
}

function startLogged(cmd: string, args: string[], log: string, detached: boolean): ChildProcess {
  const fd = openSync(log, 'a');
  const p = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached });
  // A detached control plane (`npm run cluster -- up`) outlives the command that started it.
  if (detached) p.unref();
  return p;
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts etcd and kube-apiserver on free loopback ports with a throwaway PKI and the flags envtest
 * uses, and returns once the API server is ready.
 */
export async function startCluster(dir: string, opts: { detached?: boolean; apiServerArgs?: readonly string[] } = {}): Promise<Cluster> {
  const detached = opts.detached ?? false;
  const bin = binaries();
  mkdirSync(join(dir, 'pki'), { recursive: true });
  const now = new Date();
  const ca = await generateCa(now, 'mtls-guard e2e CA');
  const serving = await generateServing(
    ca,
    { service: 'kubernetes', namespace: 'default', ips: ['127.0.0.1'], dnsNames: ['localhost'] },
    now,
  );
  const sa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const pki = (f: string): string => join(dir, 'pki', f);
  writeFileSync(pki('ca.crt'), ca.certPem);
  writeFileSync(pki('apiserver.crt'), serving.certPem);
  writeFileSync(pki('apiserver.key'), serving.keyPem);
  writeFileSync(pki('sa.pub'), sa.publicKey);
  writeFileSync(pki('sa.key'), sa.privateKey);
  writeFileSync(pki('tokens.csv'), 'e2e-admin-token,admin,admin,system:masters\n');
  const [client, peer, secure] = [await freePort(), await freePort(), await freePort()];
  const etcd = startLogged(
    join(bin, 'etcd'),
    [
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${client}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${client}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--unsafe-no-fsync',
    ],
    join(dir, 'etcd.log'),
    detached,
  );
  const kasArgs = [
    `--etcd-servers=http://127.0.0.1:${client}`,
    `--secure-port=${secure}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    '--authorization-mode=RBAC',
    `--token-auth-file=${pki('tokens.csv')}`,
    '--service-cluster-ip-range=10.0.0.0/16',
    '--allow-privileged=true',
    '--disable-admission-plugins=ServiceAccount',
    ...(opts.apiServerArgs ?? []),
  ];
  let kas = startLogged(join(bin, 'kube-apiserver'), kasArgs, join(dir, 'kube-apiserver.log'), detached);
  const server = `https://127.0.0.1:${secure}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: e2e, cluster: {server: "${server}", certificate-authority: "${pki('ca.crt')}"}}]`,
      'users: [{name: admin, user: {token: e2e-admin-token}}]',
      'contexts: [{name: e2e, context: {cluster: e2e, user: admin}}]',
      'current-context: e2e',
      '',
    ].join('\n'),
  );
  const kubectl = kubectlPath();
  const run = (args: string[], input?: string): Promise<Run> => runProcess(kubectl, ['--kubeconfig', kubeconfig, ...args], { input });
  const waitReady = async (): Promise<void> => {
    for (let i = 0; ; i++) {
      const r = await run(['get', '--raw', '/readyz']);
      if (r.code === 0) return;
      if (i > 120 || kas.exitCode !== null) {
        await cluster.stop();
        throw new Error(`kube-apiserver did not become ready; see ${join(dir, 'kube-apiserver.log')}: ${r.stderr}`);
      }
      await new Promise((r2) => setTimeout(r2, 500));
    }
  };
  const cluster: Cluster = {
    dir,
    kubeconfig,
    server,
    etcd: `http://127.0.0.1:${client}`,
    kubectl: run,
    pids: { etcd: etcd.pid ?? 0, kubeApiserver: kas.pid ?? 0 },
    async stopApiServer() {
      await stopProcess(kas);
    },
    async startApiServer() {
      kas = startLogged(join(bin, 'kube-apiserver'), kasArgs, join(dir, 'kube-apiserver.log'), detached);
      await waitReady();
    },
    async stop() {
      await stopProcess(kas);
      await stopProcess(etcd);
    },
  };
  await waitReady();
  return cluster;
}

/**
 * Compacts etcd's history up to now through its gRPC gateway, as kube-apiserver does every few
 * minutes: a watch from an older resourceVersion then gets 410 Gone.
 */
export async function compactEtcd(c: Cluster): Promise<number> {
  const post = async (path: string, body: object): Promise<Record<string, any>> => {
    const r = await fetch(`${c.etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`etcd ${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as Record<string, any>;
  };
  const revision = Number((await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header.revision);
  await post('/v3/kv/compaction', { revision, physical: true });
  return revision;
}

/** Installs the Istio CRDs (shared, or the minimal fallback) and the legacy ones, and waits until served. */
export async function installCrds(c: Cluster): Promise<string> {
  const istio = existsSync(SHARED_CRDS) ? SHARED_CRDS : MINIMAL_CRDS;
  for (const f of [istio, LEGACY_CRDS]) {
    const r = await c.kubectl(['apply', '-f', f]);
    if (r.code !== 0) throw new Error(`installing ${f} failed: ${r.stderr}`);
  }
  const r = await c.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  if (r.code !== 0) throw new Error(`CRDs not established: ${r.stderr}`);
  return istio;
}
