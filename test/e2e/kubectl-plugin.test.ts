// `kubectl mtls-guard …` on a real control plane: the versioned kubectl finds the plugin on PATH,
// the plugin reads the cluster of the current context once, and what it prints equals what the
// offline commands print on the same manifests. The snapshot it reads is the one `serve` builds
// from its watches, object for object.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { freePort, installCrds, kubectlPath, runProcess, startCluster, type Cluster, type Run } from '../../tools/cluster/controlplane.js';
import { pod } from '../../tools/cluster/demo-mesh.js';
import { ClusterSnapshot } from '../../src/snapshot/cluster.js';
import { loadKubeConfig } from '../../src/snapshot/kubeconfig.js';
import { loadIndex } from '../../src/cli/load.js';
import { simulate } from '../../src/core/evaluate.js';
import { formatLine } from '../../src/cli/simulate.js';
import type { TapTest } from '../helpers/tap.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-plugin-'));
const bin = join(dir, 'bin');
let cluster: Cluster;

t.before(async () => {
  cluster = await startCluster(dir);
  await installCrds(cluster);
  const r = await cluster.kubectl(['apply', '-f', 'examples/mesh-current']);
  if (r.code !== 0) throw new Error(r.stderr);
  // Installed as the docs say: the built entry, linked into a folder on PATH under the plugin's name.
  mkdirSync(bin);
  symlinkSync(resolve('dist/src/cli/kubectl-plugin.js'), join(bin, 'kubectl-mtls_guard'));
});

t.teardown(async () => {
  await cluster?.stop();
});

/** The environment a user has: the plugin's folder and Node 24 on PATH, and KUBECONFIG unless told otherwise. */
function userEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${bin}:${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
    KUBECONFIG: cluster.kubeconfig,
    HOME: dir,
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** `kubectl mtls-guard ARGS`, through the real kubectl's plugin lookup. */
const plugin = (args: string[], env?: Record<string, string | undefined>) =>
  runProcess(kubectlPath(), ['mtls-guard', ...args], { env: userEnv(env) });
/** `mtls-guard ARGS` offline (or live with its own flags), as a process. */
const offline = (args: string[], env?: Record<string, string | undefined>) =>
  runProcess(process.execPath, ['dist/src/cli/main.js', ...args], { env: userEnv(env) });

const noTrace = (t: TapTest, r: Run): void => {
  t.notMatch(r.stderr, / {4}at |internal error/, 'no stack trace');
};

t.test('kubectl mtls-guard --help prints the usage', async (t) => {
  const r = await plugin(['--help']);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  t.match(r.stdout, 'usage: kubectl mtls-guard <command>');
  t.match(r.stdout, '--kubeconfig FILE');
  const none = await plugin([]);
  t.equal(none.code, 2, 'no command: exit 2');
  t.match(none.stderr, 'usage: kubectl mtls-guard');
});

t.test('kubectl mtls-guard simulate prints what simulate prints offline on the same manifests', async (t) => {
  const [live, off] = await Promise.all([plugin(['simulate']), offline(['simulate', '-f', 'examples/mesh-current'])]);
  t.equal(live.code, 0, 'exit 0', { stderr: live.stderr });
  t.equal(off.code, 0, 'exit 0', { stderr: off.stderr });
  t.ok(live.stdout.split('\n').length > 40, 'every connection of the demo mesh');
  t.equal(live.stdout, off.stdout, 'the same connections and outcomes');
  t.match(live.stderr, `note: read the cluster of context e2e (${cluster.server})`);
  noTrace(t, live);
});

t.test('kubectl mtls-guard check -f examples/changes/strict-foo.yaml gives the offline verdict', async (t) => {
  for (const extra of [[], ['--telemetry', 'examples/telemetry/legacy-plaintext.prom']]) {
    const change = ['-f', 'examples/changes/strict-foo.yaml', ...extra];
    const [live, off] = await Promise.all([
      plugin(['check', ...change]),
      offline(['check', ...change, '--cluster', 'examples/mesh-current']),
    ]);
    t.equal(live.code, off.code, `the same exit code (${off.code})`, { stderr: live.stderr });
    t.equal(live.stdout, off.stdout, `the same verdict and findings${extra.length ? ' with telemetry' : ''}`);
    noTrace(t, live);
  }
  const json = await plugin([
    'check',
    '-f',
    'examples/changes/strict-foo.yaml',
    '--telemetry',
    'examples/telemetry/legacy-plaintext.prom',
    '--format',
    'json',
  ]);
  t.equal(json.code, 1, 'denied with observed plaintext');
  t.match(JSON.parse(json.stdout), {
    allowed: false,
    findings: [{ code: 'MG101', client: 'sleep.legacy', service: 'httpbin.foo', port: 8000 }],
  });
});

t.test('kubectl mtls-guard plan --format lines gives the offline readiness', async (t) => {
  for (const extra of [[], ['--telemetry', 'examples/telemetry/legacy-plaintext.prom']]) {
    const args = ['plan', '--format', 'lines', ...extra];
    const [live, off] = await Promise.all([plugin(args), offline([...args, '-f', 'examples/mesh-current'])]);
    t.equal(live.code, off.code, 'the same exit code', { stderr: live.stderr });
    t.equal(live.stdout, off.stdout, `the same readiness${extra.length ? ' with telemetry' : ''}`);
  }
});

t.test('manifests given to the plugin are applied on top of the cluster', async (t) => {
  const [live, off] = await Promise.all([
    plugin(['simulate', '-f', 'examples/changes/strict-foo.yaml', '--client', 'sleep.*']),
    offline(['simulate', '-f', 'examples/mesh-current', '-f', 'examples/changes/strict-foo.yaml', '--client', 'sleep.*']),
  ]);
  t.equal(live.code, 0, 'exit 0', { stderr: live.stderr });
  t.equal(live.stdout, off.stdout);
  t.match(live.stdout, 'sleep.legacy to httpbin.foo:8000: 000', 'STRICT for foo applied');
});

t.test('the snapshot read once is the one serve builds from its watches, object for object', async (t) => {
  const snap = new ClusterSnapshot(loadKubeConfig(cluster.kubeconfig));
  void snap.start();
  t.teardown(() => snap.stop());
  for (let i = 0; i < 200 && !(snap.ready() && snap.index()); i++) await new Promise((r) => setTimeout(r, 50));
  const served = snap.index();
  if (!served) throw new Error('the watched snapshot did not become ready');
  const { idx } = await loadIndex([], { live: { kubeconfig: cluster.kubeconfig, timeoutMs: 30_000 } });
  t.same(idx.data, served.data, 'the same MeshData');
  t.same(simulate(idx, {}).map(formatLine), simulate(served, {}).map(formatLine), 'the same outcomes');
});

t.test('Pods (no kubelet runs them) are read as offline manifests of the same Pods are', async (t) => {
  const pods = [pod('foo', 'ratings', true, 9080), pod('legacy', 'curl', false)].join('---\n');
  const file = join(dir, 'pods.yaml');
  writeFileSync(file, pods);
  const r = await cluster.kubectl(['apply', '-f', file]);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  const [live, off] = await Promise.all([plugin(['simulate']), offline(['simulate', '-f', 'examples/mesh-current', '-f', file])]);
  t.equal(live.code, 0, 'exit 0', { stderr: live.stderr });
  t.equal(live.stdout, off.stdout);
  t.match(live.stdout, 'curl.legacy to httpbin.foo:8000: 200', 'the new Pod is a client');
  const plan = await Promise.all([
    plugin(['plan', '--format', 'lines']),
    offline(['plan', '--format', 'lines', '-f', 'examples/mesh-current', '-f', file]),
  ]);
  t.equal(plan[0].stdout, plan[1].stdout, 'and plans alike');
  await cluster.kubectl(['delete', '-f', file]);
});

t.test('--kubeconfig and --context choose the cluster; KUBECONFIG lists are merged as kubectl merges them', async (t) => {
  const port = await freePort();
  const kc = join(dir, 'two-contexts');
  writeFileSync(
    kc,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: down, cluster: {server: "https://127.0.0.1:${port}", certificate-authority: "${join(cluster.dir, 'pki', 'ca.crt')}"}}]`,
      'users: [{name: nobody, user: {token: none}}]',
      'contexts: [{name: down, context: {cluster: down, user: nobody}}]',
      'current-context: down',
      '',
    ].join('\n'),
  );
  const down = await plugin(['simulate', '--kubeconfig', kc]);
  t.equal(down.code, 2, 'a cluster that cannot be reached: exit 2');
  t.equal(
    down.stderr.trim(),
    `mtls-guard simulate: cannot reach the API server at https://127.0.0.1:${port} (context down): connect ECONNREFUSED 127.0.0.1:${port}`,
    'one sentence',
  );
  // KUBECONFIG=two-contexts:e2e: the first file's current context wins; --context picks the other.
  const both = { KUBECONFIG: `${kc}:${cluster.kubeconfig}` };
  t.equal((await plugin(['plan', '--format', 'lines'], both)).code, 2, 'the current context of the first file (down)');
  const chosen = await plugin(['plan', '--format', 'lines', '--context', 'e2e'], both);
  t.equal(chosen.code, 0, 'exit 0', { stderr: chosen.stderr });
  t.equal(chosen.stdout, (await offline(['plan', '--format', 'lines', '-f', 'examples/mesh-current'])).stdout);
  const unknown = await plugin(['simulate', '--context', 'prod'], both);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /has no context "prod" \(its contexts: down, e2e\)/);
  // The plain CLI reads the current context when no manifests are given, --kubeconfig otherwise.
  const cli = await offline(['check', '-f', 'examples/changes/strict-foo.yaml', '--kubeconfig', cluster.kubeconfig], { KUBECONFIG: kc });
  const off = await offline(['check', '-f', 'examples/changes/strict-foo.yaml', '--cluster', 'examples/mesh-current']);
  t.equal(cli.stdout, off.stdout, 'mtls-guard check --kubeconfig reads that cluster');
  const current = await offline(['simulate']);
  t.equal(current.stdout, (await offline(['simulate', '-f', 'examples/mesh-current'])).stdout, 'mtls-guard simulate reads KUBECONFIG');
  const home = await offline(['simulate', '--timeout', '20s'], { KUBECONFIG: undefined, HOME: join(dir, 'nowhere') });
  t.equal(home.code, 2);
  t.match(home.stderr, /no kubeconfig: KUBECONFIG is not set and .*nowhere\/\.kube\/config does not exist/);
});

t.test('an identity that may not list Pods gets one sentence and exit 2', async (t) => {
  t.equal((await cluster.kubectl(['create', 'serviceaccount', 'reader', '-n', 'default'])).code, 0);
  const token = await cluster.kubectl(['create', 'token', 'reader', '-n', 'default']);
  t.equal(token.code, 0, 'exit 0', { stderr: token.stderr });
  const kc = join(dir, 'reader');
  writeFileSync(
    kc,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: e2e, cluster: {server: "${cluster.server}", certificate-authority: "${join(cluster.dir, 'pki', 'ca.crt')}"}}]`,
      `users: [{name: reader, user: {token: ${token.stdout.trim()}}}]`,
      'contexts: [{name: reader, context: {cluster: e2e, user: reader}}]',
      'current-context: reader',
      '',
    ].join('\n'),
  );
  const r = await plugin(['check', '-f', 'examples/changes/strict-foo.yaml'], { KUBECONFIG: kc });
  t.equal(r.code, 2, 'exit 2');
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line', { stderr: r.stderr });
  t.match(r.stderr, /^mtls-guard check: .* is forbidden: User "system:serviceaccount:default:reader" cannot list resource/);
  t.match(r.stderr, `(403 Forbidden from the API server at ${cluster.server}, context reader)`);
  noTrace(t, r);
  const bad = join(dir, 'bad-token');
  writeFileSync(bad, `${readFileSync(kc, 'utf8').replace(/token: [^}]+/, 'token: wrong')}`);
  const unauth = await plugin(['plan'], { KUBECONFIG: bad });
  t.equal(unauth.code, 2);
  t.match(unauth.stderr, `the API server at ${cluster.server} did not accept the credentials of context reader (401 Unauthorized)`);
});
