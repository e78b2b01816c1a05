// Those the guard guards cannot switch it off: on a real kube-apiserver with the chart's webhook
// rules and ClusterRoles, a tenant who may label her namespace and edit its Istio objects can
// neither weaken its mtls-guard mode nor acknowledge a breakage until an admin runs the one
// kubectl line the denial names; an empty reason is refused for anyone; other labels always pass.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { installCrds, startCluster, type Cluster } from '../../tools/cluster/controlplane.js';
import { demoMesh, demoTenant } from '../../tools/cluster/demo-mesh.js';
import { chartClusterRoles, startWebhook, untilReady } from '../../tools/cluster/webhook.js';
import type { Running } from '../../src/cli/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-authz-'));
let cluster: Cluster;
let webhook: Running;

const must = async (args: string[], input?: string): Promise<string> => {
  const r = await cluster.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

t.before(async () => {
  cluster = await startCluster(dir);
  await installCrds(cluster);
  await must(['apply', '-f', '-'], demoMesh());
  await must(['create', 'namespace', 'istio-system']);
  await must(['apply', '-f', '-'], chartClusterRoles());
  await must(['apply', '-f', '-'], demoTenant('alice', 'foo'));
  webhook = await startWebhook(cluster, [
    '--kubeconfig',
    cluster.kubeconfig,
    '--telemetry',
    'examples/telemetry/legacy-plaintext.prom',
    '--istio-version',
    '1.28.0',
  ]);
  await untilReady(webhook);
});

t.teardown(async () => {
  await webhook?.shutdown('test');
  await cluster?.stop();
});

/** kubectl as the tenant. */
const alice = (args: string[], input?: string) => cluster.kubectl(['--as', 'alice', ...args], input);
/** kubectl's stderr on one line: it wraps nothing, but the checks should not depend on that. */
const flat = (s: string): string => s.replace(/\s+/g, ' ');
/** The grant line a denial names, to run as the admin who reads it would. */
const grantLine = (stderr: string): string[] => {
  const m = /An admin grants it with: (kubectl create rolebinding [^.]+?)\.(?: |$)/.exec(flat(stderr));
  if (!m) throw new Error(`no grant line in: ${stderr}`);
  return m[1]!.split(' ').slice(1);
};
const pa = (mode: string, ack?: string): string => `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
${ack === undefined ? '' : `  annotations: {mtls-guard.io/acknowledge-breakage: ${JSON.stringify(ack)}}\n`}spec: {mtls: {mode: ${mode}}}
`;
const metric = async (line: string): Promise<boolean> => (await webhook.app.inject({ url: '/metrics' })).body.includes(line);

t.test('the tenant may label her namespace: a label other than the mode always passes', async (t) => {
  const r = await alice(['label', 'namespace', 'foo', 'team=payments']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, 'namespace/foo labeled');
});

t.test('the tenant cannot weaken the mode: the denial names the missing permission in one kubectl line', async (t) => {
  const r = await alice(['label', 'namespace', 'foo', 'mtls-guard.io/mode=off']);
  t.equal(r.code, 1, 'kubectl exits 1');
  t.match(
    flat(r.stderr),
    'admission webhook "modes.mtls-guard.io" denied the request: mtls-guard: alice may not weaken the mtls-guard mode of namespace foo from enforce to off: that needs verb "weaken" on "modes.mtls-guard.io" in namespace foo',
  );
  t.same(grantLine(r.stderr), [
    'create',
    'rolebinding',
    'mtls-guard-weaken-alice',
    '-n',
    'foo',
    '--clusterrole=mtls-guard-weaken-mode',
    '--user=alice',
  ]);
  t.notOk(
    (await must(['get', 'namespace', 'foo', '-o', 'jsonpath={.metadata.labels}'])).includes('mtls-guard.io/mode'),
    'the label was not set',
  );
  t.ok(await metric('mtls_guard_refused_total{action="weaken",why="forbidden"} 1'), 'counted as refused');
});

t.test('nor acknowledge a breakage: STRICT for foo with a reason is still denied, naming the permission', async (t) => {
  const r = await alice(['apply', '-f', '-'], pa('STRICT', 'legacy/sleep moves into the mesh on Friday'));
  t.equal(r.code, 1, 'kubectl exits 1');
  t.match(
    flat(r.stderr),
    'denied the request: mtls-guard: alice may not acknowledge breakages in namespace foo: that needs verb "acknowledge" on "breakages.mtls-guard.io" in namespace foo',
  );
  t.match(
    flat(r.stderr),
    'CREATE PeerAuthentication foo/default (STRICT) would break 1 connection (1 observed): sleep.legacy -> httpbin.foo:8000 (200 → 000)',
  );
  t.same(grantLine(r.stderr), [
    'create',
    'rolebinding',
    'mtls-guard-acknowledge-alice',
    '-n',
    'foo',
    '--clusterrole=mtls-guard-acknowledge-breakage',
    '--user=alice',
  ]);
});

t.test('an empty or token reason is refused for anyone, cluster admins included', async (t) => {
  for (const reason of ['', '   ', 'ok']) {
    const r = await cluster.kubectl(['apply', '-f', '-'], pa('STRICT', reason));
    t.equal(r.code, 1, `admin with reason ${JSON.stringify(reason)} is denied`);
    t.match(flat(r.stderr), 'mtls-guard: the acknowledgement is refused: the reason');
  }
});

t.test('once an admin runs the named line, the tenant can acknowledge; the acknowledgement covers only that change', async (t) => {
  const denied = await alice(['apply', '-f', '-'], pa('STRICT', 'legacy/sleep moves into the mesh on Friday'));
  await must(grantLine(denied.stderr));
  // A PERMISSIVE policy that carries an acknowledgement breaks nothing, so none is needed.
  let r = await alice(['apply', '-f', '-'], pa('PERMISSIVE', 'legacy/sleep moves into the mesh on Friday'));
  t.equal(r.code, 0, 'PERMISSIVE with the annotation is created', { stderr: r.stderr });
  // The same annotation, left on the object, does not cover the later switch to STRICT.
  r = await alice(['apply', '-f', '-'], pa('STRICT', 'legacy/sleep moves into the mesh on Friday'));
  t.equal(r.code, 1, 'the update to STRICT with the old acknowledgement is denied');
  t.match(flat(r.stderr), 'was given for an earlier change and covers no other');
  // A new text acknowledges this change.
  r = await alice(['apply', '-f', '-'], pa('STRICT', 'sleep.legacy is retired today, ticket OPS-42'));
  t.equal(r.code, 0, 'acknowledged', { stderr: r.stderr });
  t.match(r.stdout, 'peerauthentication.security.istio.io/default configured');
  t.match(
    flat(r.stderr),
    'Warning: breakage acknowledged by alice (mtls-guard.io/acknowledge-breakage): sleep.legacy is retired today, ticket OPS-42',
  );
  t.ok(await metric('mtls_guard_acknowledged_total 1'), 'counted');
  let reasons = '';
  for (let i = 0; i < 50 && !reasons.includes('MtlsBreakageAcknowledged'); i++) {
    reasons = await must(['get', 'events', '-n', 'foo', '--field-selector', 'source=mtls-guard', '-o', 'jsonpath={.items[*].reason}']);
    await new Promise((r2) => setTimeout(r2, 100));
  }
  t.match(reasons, 'MtlsBreakageAcknowledged', 'an Event records it');
  const msg = await must([
    'get',
    'events',
    '-n',
    'foo',
    '--field-selector',
    'reason=MtlsBreakageAcknowledged',
    '-o',
    'jsonpath={.items[0].message}',
  ]);
  t.match(
    msg,
    'alice acknowledged the breakage (MG101): sleep.legacy is retired today, ticket OPS-42',
    'naming the user, the codes and the reason',
  );
  await must(['delete', 'peerauthentications.security.istio.io', 'default', '-n', 'foo']);
});

t.test('once an admin runs the named line, the tenant can weaken the mode', async (t) => {
  const denied = await alice(['label', 'namespace', 'foo', 'mtls-guard.io/mode=warn']);
  t.equal(denied.code, 1, 'still denied before the grant');
  await must(grantLine(denied.stderr));
  const r = await alice(['label', 'namespace', 'foo', 'mtls-guard.io/mode=warn']);
  t.equal(r.code, 0, r.stderr);
  t.match(flat(r.stderr), 'Warning: mtls-guard: namespace foo goes from mode enforce to warn; alice may weaken it');
  t.ok(await metric('mtls_guard_mode_weakened_total 1'), 'counted');
  // Strengthening is never judged, by anyone.
  const back = await alice(['label', 'namespace', 'foo', 'mtls-guard.io/mode=enforce', '--overwrite']);
  t.equal(back.code, 0, back.stderr);
  t.equal(back.stderr, '', 'no warning');
});

t.test('cluster admins (system:masters) pass every check', async (t) => {
  const r = await cluster.kubectl(['label', 'namespace', 'bar', 'mtls-guard.io/mode=off']);
  t.equal(r.code, 0, r.stderr);
  const c = await cluster.kubectl(['create', 'namespace', 'scratch', '--dry-run=server', '-o', 'name']);
  t.equal(c.code, 0, 'namespaces without the label are never sent to the webhook');
});

t.test('a namespace created with a weaker label than the default needs the permission', async (t) => {
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: tenant-made, labels: {mtls-guard.io/mode: dry-run}}\n';
  await must(
    ['apply', '-f', '-'],
    'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ns-creator}\nrules: [{apiGroups: [""], resources: [namespaces], verbs: [create]}]\n---\n' +
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ns-creator}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ns-creator}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}]\n',
  );
  const r = await cluster.kubectl(['--as', 'bob', 'create', '-f', '-'], ns);
  t.equal(r.code, 1, 'denied');
  t.match(flat(r.stderr), 'bob may not weaken the mtls-guard mode of namespace tenant-made from enforce to dry-run');
});
