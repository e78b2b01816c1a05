// `npm run cluster -- up|down|status`: a local control plane with mtls-guard registered, to try
// the product by hand. Everything lives in .cluster/ (git-ignored); `down` stops exactly what `up`
// started, by PID.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, installCrds, kubectlPath, startCluster } from './controlplane.js';
import { chartClusterRoles, webhookConfiguration, loopbackTls } from './webhook.js';
import { demoMesh, demoTenant } from './demo-mesh.js';
import { makeCerts } from '../../src/cli/certs.js';

const DIR = resolve('.cluster');
const STATE = join(DIR, 'state.json');

interface State {
  pids: Record<string, number>;
  kubeconfig: string;
  server: string;
  webhook: string;
}

/** STRICT for foo, which the example telemetry shows legacy/sleep calling in plaintext. */
const KNOWN_BREAKING = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {mtls: {mode: STRICT}}
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readState(): State | undefined {
  return existsSync(STATE) ? (JSON.parse(readFileSync(STATE, 'utf8')) as State) : undefined;
}

async function stop(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function down(): Promise<number> {
  const s = readState();
  if (!s) {
    console.log('no cluster is up (no .cluster/state.json)');
    return 0;
  }
  for (const [name, pid] of Object.entries(s.pids)) {
    await stop(pid);
    console.log(`stopped ${name} (pid ${pid})`);
  }
  rmSync(STATE);
  return 0;
}

async function status(): Promise<number> {
  const s = readState();
  if (!s) {
    console.log('down');
    return 1;
  }
  let ok = true;
  for (const [name, pid] of Object.entries(s.pids)) {
    const up = alive(pid);
    ok &&= up;
    console.log(`${name.padEnd(15)} pid ${String(pid).padEnd(8)} ${up ? 'running' : 'not running'}`);
  }
  console.log(
    `api server      ${s.server}\nwebhook         ${s.webhook}\nkubeconfig      ${s.kubeconfig}\nkubectl         ${kubectlPath()}`,
  );
  return ok ? 0 : 1;
}

async function up(): Promise<number> {
  const prev = readState();
  if (prev && Object.values(prev.pids).every(alive)) {
    console.log('already up');
    return status();
  }
  if (prev) await down();
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  console.log('starting etcd and kube-apiserver (building them on first use)…');
  const cluster = await startCluster(DIR, { detached: true });
  const pids: Record<string, number> = { etcd: cluster.pids.etcd, 'kube-apiserver': cluster.pids.kubeApiserver };
  writeFileSync(STATE, JSON.stringify({ pids, kubeconfig: cluster.kubeconfig, server: cluster.server, webhook: '' }, null, 2));
  const crds = await installCrds(cluster);
  console.log(`installed the Istio CRDs from ${crds} and the legacy authentication.istio.io CRDs`);
  await cluster.kubectl(['create', 'namespace', 'istio-system']);
  const mesh = await cluster.kubectl(['apply', '-f', '-'], demoMesh());
  if (mesh.code !== 0) throw new Error(`creating the demo mesh failed: ${mesh.stderr}`);
  console.log("created the seeds' demo mesh: foo and bar with sidecar-shaped Pods, legacy without");
  const certs = join(DIR, 'webhook');
  const caBundle = await makeCerts(
    { out: certs, service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'], dnsNames: [] },
    new Date(),
  );
  const port = await freePort();
  const log = openSync(join(DIR, 'mtls-guard.log'), 'a');
  const serve = spawn(
    process.execPath,
    [
      resolve('dist/src/cli/main.js'),
      'serve',
      '--kubeconfig',
      cluster.kubeconfig,
      ...loopbackTls(port, certs),
      '--telemetry',
      resolve('examples/telemetry/legacy-plaintext.prom'),
      '--istio-version',
      '1.28.0',
      '--drain-seconds',
      '0',
    ],
    { stdio: ['ignore', log, log], detached: true },
  );
  serve.unref();
  pids['mtls-guard'] = serve.pid ?? 0;
  const webhook = `https://127.0.0.1:${port}/validate`;
  writeFileSync(STATE, JSON.stringify({ pids, kubeconfig: cluster.kubeconfig, server: cluster.server, webhook }, null, 2));
  const r = await cluster.kubectl(['apply', '-f', '-'], webhookConfiguration(webhook, caBundle));
  if (r.code !== 0) throw new Error(`registering the webhook failed: ${r.stderr}`);
  for (const [what, yaml] of [
    ["the chart's ClusterRoles", chartClusterRoles()],
    ['the demo tenant alice', demoTenant()],
  ] as const) {
    const a = await cluster.kubectl(['apply', '-f', '-'], yaml);
    if (a.code !== 0) throw new Error(`creating ${what} failed: ${a.stderr}`);
  }
  // Ready means a known-breaking object is denied end to end.
  for (let i = 0; ; i++) {
    const probe = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], KNOWN_BREAKING);
    if (probe.code !== 0 && probe.stderr.includes('denied the request')) break;
    if (i > 120) throw new Error(`mtls-guard did not deny the probe; see ${join(DIR, 'mtls-guard.log')}: ${probe.stderr}`);
    await new Promise((res) => setTimeout(res, 500));
  }
  console.log(`up: STRICT for namespace foo is denied through kubectl apply --dry-run=server.
Registered as the chart registers it, with its ClusterRoles mtls-guard-weaken-mode and
mtls-guard-acknowledge-breakage. alice is a tenant of foo who may label it and edit its Istio
objects, not weaken its mode: try \`kubectl --as alice label ns foo mtls-guard.io/mode=off\`.

  export KUBECONFIG=${cluster.kubeconfig}
  alias kubectl=${kubectlPath()}
  npm run cluster -- status    # what runs, by PID
  npm run cluster -- down      # stop it`);
  return 0;
}

const cmd = process.argv[2];
const run = cmd === 'up' ? up : cmd === 'down' ? down : cmd === 'status' ? status : undefined;
if (!run) {
  console.error('usage: npm run cluster -- up|down|status');
  process.exitCode = 2;
} else {
  process.exitCode = await run().catch((e: Error) => {
    console.error(`cluster ${cmd}: ${e.message}`);
    return 1;
  });
}
