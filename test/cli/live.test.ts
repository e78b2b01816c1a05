// The CLI against a live cluster, table-driven from test/fixtures/cli/live.yaml: which kubeconfig
// and context are read, that a cluster read once answers as the same manifests offline, and that
// every failure is one sentence with exit 2. The API server is a fake one that serves manifests
// as lists (the real one, with kubectl, is in test/e2e/kubectl-plugin.test.ts).
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { runPlugin } from '../../src/cli/plugin.js';
import { KINDS } from '../../src/snapshot/cluster.js';
import { loadManifests } from '../../src/snapshot/manifests.js';
import type { Json } from '../../src/core/model/objects.js';
import type { TapTest } from '../helpers/tap.js';

interface FakeApiServer {
  /** Manifests it serves as lists. */
  serve?: string[];
  /** API groups it serves (default: every group the snapshot reads). */
  groups?: string[];
  /** Answers every request (or only the list of `only`, a plural) with this status and message. */
  status?: number;
  message?: string;
  only?: string;
  /** Accepts connections and never answers. */
  hang?: boolean;
}

interface Case {
  name: string;
  apiserver?: FakeApiServer;
  /** Files written to a temporary folder (`@name` in argv and env stands for their path); `{{apiserver}}` is the fake's URL. */
  files?: Record<string, string>;
  /** Environment for the run; KUBECONFIG is unset and HOME an empty folder unless given. */
  env?: Record<string, string>;
  /** Run as `kubectl mtls-guard` (the plugin) instead of `mtls-guard`. */
  plugin?: boolean;
  argv: string[];
  exit: number;
  stdout?: string[];
  stderr?: string[];
  /** stdout and exit equal those of this offline command line. */
  sameAs?: string[];
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A plain-HTTP API server: discovery for the kinds the snapshot reads, and their lists from manifests. */
async function fakeApiServer(t: TapTest, spec: FakeApiServer): Promise<string> {
  const objects = spec.serve ? (await loadManifests(spec.serve)).map((d) => d.obj) : [];
  const kinds = KINDS.filter((k) => k.group === '' || !spec.groups || spec.groups.includes(k.group));
  const version = (g: string): string => KINDS.find((k) => k.group === g)!.versions[0]!;
  const groups = [...new Set(kinds.map((k) => k.group).filter((g) => g !== ''))];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (spec.hang) return;
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/$/, '');
    const spec2 = kinds.find((k) => path === (k.group ? `/apis/${k.group}/${version(k.group)}/${k.plural}` : `/api/v1/${k.plural}`));
    if (spec.status && (!spec.only || spec2?.plural === spec.only)) {
      const message = spec.message ?? 'refused';
      return send(res, spec.status, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code: spec.status });
    }
    if (path === '/apis')
      return send(res, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((g) => ({
          name: g,
          versions: [{ groupVersion: `${g}/${version(g)}`, version: version(g) }],
          preferredVersion: { groupVersion: `${g}/${version(g)}`, version: version(g) },
        })),
      });
    const resources = (g: string) =>
      kinds
        .filter((k) => k.group === g)
        .map((k) => ({
          name: k.plural,
          kind: k.kind,
          namespaced: !['Namespace', 'ValidatingWebhookConfiguration'].includes(k.kind),
          verbs: ['list'],
        }));
    if (path === '/api/v1') return send(res, 200, { kind: 'APIResourceList', groupVersion: 'v1', resources: resources('') });
    const g = groups.find((x) => path === `/apis/${x}/${version(x)}`);
    if (g) return send(res, 200, { kind: 'APIResourceList', groupVersion: `${g}/${version(g)}`, resources: resources(g) });
    if (spec2) {
      const name = /^metadata\.name=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
      const items = objects.filter((o) => o['kind'] === spec2.kind && (!name || (o['metadata'] as Json | undefined)?.['name'] === name));
      return send(res, 200, { kind: `${spec2.kind}List`, apiVersion: 'v1', metadata: { resourceVersion: '1' }, items });
    }
    send(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `${path} not found`, code: 404 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const cases = parse(readFileSync('test/fixtures/cli/live.yaml', 'utf8')) as Case[];
const VARS = ['KUBECONFIG', 'HOME', 'KUBERNETES_SERVICE_HOST'];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-live-'));
    const url = c.apiserver ? await fakeApiServer(t, c.apiserver) : 'http://127.0.0.1:2';
    const fill = (a: string): string =>
      (a.startsWith('@') ? join(dir, a.slice(1)) : a).replaceAll('{{apiserver}}', url).replaceAll('{{dir}}', dir);
    for (const [name, text] of Object.entries(c.files ?? {})) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), fill(text));
    }
    // Each case sees only the environment it names: never the machine's kubeconfig.
    const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
    t.teardown(() => {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    });
    for (const k of VARS) delete process.env[k];
    process.env['HOME'] = join(dir, 'home');
    for (const [k, v] of Object.entries(c.env ?? {})) process.env[k] = v.split(':').map(fill).join(':');
    const argv = c.argv.map(fill);
    let r: { code: number; out: string; err: string };
    if (c.plugin) {
      let out = '';
      let err = '';
      const code = await runPlugin(argv, { out: (s) => (out += s), err: (s) => (err += s) });
      r = { code, out, err };
    } else r = await runCli(argv);
    t.equal(r.code, c.exit, `exit ${c.exit}`, { stderr: r.err, stdout: r.out.slice(0, 2000) });
    for (const s of c.stdout ?? []) t.ok(r.out.includes(fill(s)), `stdout has: ${s}`, { stdout: r.out });
    for (const s of c.stderr ?? []) t.ok(r.err.includes(fill(s)), `stderr has: ${s}`, { stderr: r.err });
    if (c.sameAs) {
      const off = await runCli(c.sameAs.map(fill));
      t.equal(r.code, off.code, 'the offline exit code');
      t.ok(off.out.length > 0, 'the offline command prints something');
      t.equal(r.out, off.out, 'what the offline command prints');
    }
    if (c.exit === 2 && !r.err.includes('usage:')) t.equal(r.err.trim().split('\n').length, 1, 'one line', { stderr: r.err });
    t.notMatch(r.err, /internal error| {4}at /, 'no stack trace');
  });
}

// `kubectl mtls-guard` runs `kubectl-mtls_guard` by its path, through its shebang: it must be
// executable after every build, as main.js is.
t.test('the plugin runs by its own path after a build', async (t) => {
  const { stdout } = await promisify(execFile)('dist/src/cli/kubectl-plugin.js', ['--help'], {
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
  });
  t.match(stdout, 'usage: kubectl mtls-guard <command>', 'usage printed');
});

t.test('on Node 20 the plugin says it needs Node 24, with exit 2 and no stack trace', async (t) => {
  const older =
    'data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.20.2"}});Object.defineProperty(process,"version",{value:"v20.20.2"})';
  const r = await promisify(execFile)(process.execPath, ['--import', older, 'dist/src/cli/kubectl-plugin.js', 'simulate']).catch(
    (e: { code: number; stderr: string }) => e,
  );
  t.equal((r as { code?: number }).code, 2, 'exit 2');
  t.match((r as { stderr: string }).stderr, 'kubectl mtls-guard needs Node.js 24 or later as `node` on PATH; this is v20.20.2.');
  t.notMatch((r as { stderr: string }).stderr, / {4}at /, 'no stack trace');
});
