// No container engine runs here, so this replays the Dockerfile's steps as plain commands in a clean
// temporary copy of the build context: every stage gets its own folder standing for its filesystem,
// COPY copies, RUN runs, and the final stage's ENTRYPOINT + CMD start the webhook, which must answer
// /healthz. The recipe cannot rot unnoticed.
import t from 'tap';
import type { TapTest } from '../helpers/tap.js';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { get } from 'node:https';
import { freePort } from '../../tools/cluster/controlplane.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE_BIN = dirname(process.execPath);

interface Step {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  steps: Step[];
}

/** Splits a Dockerfile into stages of instructions; ARG defaults are substituted into FROM. */
function parseDockerfile(text: string): Stage[] {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const OP = op.toUpperCase();
    if (OP === 'ARG' && stages.length === 0) {
      const [k, v = ''] = rest.split('=');
      args.set(k!, v);
    } else if (OP === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      const from = m[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
      stages.push({ name: m[2] ?? String(stages.length), from, steps: [] });
    } else stages.at(-1)!.steps.push({ op: OP, args: rest });
  }
  return stages;
}

/** Files of the build context: what git knows (tracked or not ignored), minus .dockerignore. */
function buildContext(into: string): void {
  const files = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const matches = (f: string, p: string): boolean => p === '*' || f === p.replace(/\/$/, '') || f.startsWith(p.endsWith('/') ? p : `${p}/`);
  for (const f of files) {
    let included = true;
    for (const r of rules) {
      if (r.startsWith('!') ? matches(f, r.slice(1)) : matches(f, r)) included = r.startsWith('!');
    }
    if (included && existsSync(join(ROOT, f))) {
      mkdirSync(dirname(join(into, f)), { recursive: true });
      cpSync(join(ROOT, f), join(into, f));
    }
  }
}

interface Image {
  root: string;
  env: Record<string, string>;
  user: string;
  cwd: string;
  entrypoint: string[];
  cmd: string[];
}

function replay(stages: Stage[], context: string, work: string, t: TapTest): Image {
  const roots = new Map<string, string>();
  let image: Image | undefined;
  stages.forEach((stage, i) => {
    const root = join(work, `stage-${i}-${stage.name}`);
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    const img: Image = { root, env: {}, user: 'root', cwd: '/', entrypoint: [], cmd: [] };
    const inImage = (p: string): string => join(root, isAbsolute(p) ? p : join(img.cwd, p));
    for (const step of stage.steps) {
      switch (step.op) {
        case 'WORKDIR':
          img.cwd = step.args;
          mkdirSync(inImage('.'), { recursive: true });
          break;
        case 'ENV':
          for (const m of step.args.matchAll(/(\w+)=(\S+)/g)) img.env[m[1]!] = m[2]!;
          break;
        case 'USER':
          img.user = step.args;
          break;
        case 'EXPOSE':
          break;
        case 'ENTRYPOINT':
          img.entrypoint = JSON.parse(step.args) as string[];
          break;
        case 'CMD':
          img.cmd = JSON.parse(step.args) as string[];
          break;
        case 'COPY': {
          const parts = step.args.split(/\s+/);
          const from = parts[0]!.startsWith('--from=') ? roots.get(parts.shift()!.slice('--from='.length)) : undefined;
          const dest = parts.pop()!;
          for (const src of parts) {
            const s = from ? join(from, src) : join(context, src);
            const d = inImage(dest.endsWith('/') || parts.length > 1 ? join(dest, basename(src)) : dest);
            mkdirSync(dirname(d), { recursive: true });
            cpSync(s, d, { recursive: statSync(s).isDirectory() });
          }
          break;
        }
        case 'RUN': {
          const r = spawnSync('bash', ['-c', step.args], {
            cwd: inImage('.'),
            encoding: 'utf8',
            env: { ...process.env, ...img.env, PATH: `${NODE_BIN}:${process.env['PATH']}` },
            timeout: 600_000,
          });
          t.equal(r.status, 0, `stage ${stage.name}: RUN ${step.args}`, { stderr: r.stderr.slice(-2000) });
          if (r.status !== 0) throw new Error(`RUN ${step.args} failed`);
          break;
        }
        default:
          throw new Error(`the replay does not know ${step.op}; teach it before using it in the Dockerfile`);
      }
    }
    image = img;
  });
  return image!;
}

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

t.test('the Dockerfile pins Node 24 by exact version, the same as the npm scripts use', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  for (const s of stages) t.match(s.from, /^node:24\.\d+\.\d+-[a-z]+-slim(@sha256:[a-f0-9]{64})?$/, `stage ${s.name} FROM ${s.from}`);
  t.equal(/^node:([\d.]+)-/.exec(stages.at(-1)!.from)![1], pkg.devDependencies['node'], 'same version as the node devDependency');
  t.ok(stages.length >= 2, 'multi-stage');
});

t.test('replayed build: install, build, prune to production, then serve answers /healthz as user 65532', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mtls-guard-image-'));
  const context = join(work, 'context');
  buildContext(context);
  t.notOk(existsSync(join(context, 'test')), '.dockerignore keeps tests out of the context');
  t.notOk(existsSync(join(context, 'node_modules')), 'and node_modules');
  const img = replay(stages, context, work, t);
  t.equal(img.user, '65532:65532', 'runs as 65532');
  t.same(img.cmd, ['serve'], 'runs serve by default');
  t.equal(img.env['NODE_ENV'], 'production');
  const app = join(img.root, 'app');
  t.ok(existsSync(join(app, 'dist', 'src', 'cli', 'main.js')), 'the compiled CLI is in the image');
  t.ok(existsSync(join(app, 'node_modules', 'fastify')), 'production dependencies are in the image');
  // @types/node may still come in: @kubernetes/client-node lists it as a dependency.
  for (const dev of ['typescript', 'tap', 'node', '@types/node-forge'])
    t.notOk(existsSync(join(app, 'node_modules', dev)), `no dev dependency ${dev}`);
  t.notOk(existsSync(join(app, 'src')), 'no TypeScript sources');
  t.notOk(existsSync(join(app, 'dist', 'test')), 'no tests');

  // The entrypoint as the image runs it, with /app mapped onto the replayed filesystem.
  const mapped = img.entrypoint.map((a) => a.replace(/^\/app\//, `${app}/`));
  const env = { ...process.env, ...img.env, PATH: `${NODE_BIN}:${process.env['PATH']}` };
  const certs = join(work, 'certs');
  const c = spawnSync(mapped[0]!, [...mapped.slice(1), 'certs', '--out', certs, '--ip', '127.0.0.1'], { cwd: app, env, encoding: 'utf8' });
  t.equal(c.status, 0, 'the image makes certificates', { stderr: c.stderr });
  const mesh = join(work, 'mesh.yaml');
  writeFileSync(mesh, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: foo}\n');
  const port = await freePort();
  const server = spawn(
    mapped[0]!,
    [
      ...mapped.slice(1),
      ...img.cmd,
      '--cluster',
      mesh,
      '--listen',
      `127.0.0.1:${port}`,
      '--tls-cert',
      join(certs, 'tls.crt'),
      '--tls-key',
      join(certs, 'tls.key'),
      '--drain-seconds',
      '0',
    ],
    { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  server.stderr.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const ca = readFileSync(join(certs, 'ca.crt'));
  let body = '';
  for (let i = 0; i < 100 && !body; i++) {
    body = await new Promise<string>((res) => {
      get({ host: '127.0.0.1', port, path: '/healthz', ca, servername: 'mtls-guard.mtls-guard.svc' }, (r) => {
        let b = '';
        r.on('data', (d: Buffer) => {
          b += d.toString();
        });
        r.on('end', () => res(r.statusCode === 200 ? b : ''));
      }).on('error', () => res(''));
    });
    if (!body) await new Promise((r) => setTimeout(r, 100));
  }
  t.same(JSON.parse(body || '{}'), { status: 'ok' }, "/healthz answers over TLS verified with the image's CA", { log });
  const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
  server.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM ends it cleanly');
});
