/**
 * The Istio oracle from TypeScript: Istio's own control plane (istio.io/istio's fake discovery server
 * and its traffic simulation) computing the outcome of every (client workload, service port) pair of a
 * set of manifests, for comparison with the engine's `simulate --format json`. See README.md beside
 * this file for what it models and how Envoy configuration is mapped to an outcome code.
 *
 * The oracle is a Go test binary built once by tools/build-oracle.sh and cached outside the
 * repository; the first build takes minutes.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/** One (client workload, service port) outcome, as Istio's generated Envoy configuration implies it. */
export interface OracleOutcome {
  /** `workload.namespace` */
  readonly client: string;
  readonly clientKind: 'sidecar' | 'none';
  /** `service.namespace` */
  readonly service: string;
  /** The Service port. */
  readonly port: number;
  readonly code: '200' | '503' | '000';
  /** What the client sent to the endpoint that decided the code: plaintext, istio-mtls, tls, mtls. */
  readonly wire: string;
  /** Why, from the Envoy configuration: cluster TLS, transport socket match, inbound filter chain result. */
  readonly detail: string;
}

/** The oracle's whole answer. */
export interface OracleReport {
  /** The istio.io/istio module version the oracle was built from. */
  readonly istio: string;
  readonly outcomes: readonly OracleOutcome[];
  /** What was left out or assumed: ignored objects, injection decisions, unmodelled pairs. */
  readonly notes: readonly string[];
}

/**
 * Manifests: a path (a YAML/JSON file or a directory of them), YAML text, or a list of paths, YAML
 * texts and Kubernetes objects, applied together (in list order, a directory's files sorted).
 */
export type OracleInput = string | readonly (string | Readonly<Record<string, unknown>>)[];

export interface OracleOptions {
  /** A prebuilt oracle binary; default: tools/build-oracle.sh builds or reuses one. */
  readonly binary?: string;
  /** Kills the oracle after this long (default 10 minutes). */
  readonly timeoutMs?: number;
}

/** The repository root: the first ancestor of this file with tools/build-oracle.sh (source or dist/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'tools', 'build-oracle.sh'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find tools/build-oracle.sh above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function tail(s: string, lines = 20): string {
  return s.trimEnd().split('\n').slice(-lines).join('\n');
}

let built: Promise<string> | undefined;

/** Builds the oracle binary, or finds the cached one, and returns its path (once per process). */
export function buildOracle(): Promise<string> {
  built ??= (async () => {
    const root = repoRoot();
    // The first build compiles much of Istio: allow it an hour on a small machine.
    const r = await run('bash', [join(root, 'tools', 'build-oracle.sh')], process.env, root, 60 * 60 * 1000);
    const path = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !path) throw new Error(`tools/build-oracle.sh failed (exit ${r.code}):\n${tail(r.stderr)}`);
    return path;
  })();
  built.catch(() => {
    built = undefined;
  });
  return built;
}

/** Writes the input where the oracle can read it: one path as is, anything else into a temporary directory. */
async function materialise(input: OracleInput, dir: string): Promise<string> {
  if (typeof input === 'string') {
    if (!input.includes('\n') && existsSync(input)) return resolve(input);
    input = [input];
  }
  let n = 0;
  const name = (suffix: string): string => join(dir, `${String(n++).padStart(3, '0')}-${suffix}`);
  for (const item of input) {
    if (typeof item !== 'string') {
      await writeFile(name('object.yaml'), stringify(item));
    } else if (!item.includes('\n') && existsSync(item)) {
      const files = statSync(item).isDirectory()
        ? readdirSync(item, { recursive: true, encoding: 'utf8' })
            .filter((f) => /\.(ya?ml|json)$/i.test(f))
            .sort()
            .map((f) => join(item, f))
        : [item];
      for (const f of files) await copyFile(f, name(basename(f)));
    } else {
      await writeFile(name('text.yaml'), item);
    }
  }
  return dir;
}

/** Runs the oracle on a set of manifests and returns its whole report. */
export async function runOracleReport(manifests: OracleInput, opts: OracleOptions = {}): Promise<OracleReport> {
  const binary = opts.binary ?? (await buildOracle());
  const work = await mkdtemp(join(tmpdir(), 'mtls-guard-oracle-'));
  try {
    const inputDir = join(work, 'in');
    await mkdir(inputDir);
    const input = await materialise(manifests, inputDir);
    const output = join(work, 'out.json');
    const timeoutMs = opts.timeoutMs ?? 10 * 60 * 1000;
    const env = { ...process.env, ORACLE_INPUT: input, ORACLE_OUTPUT: output };
    const r = await run(
      binary,
      ['-test.run', '^TestOracle$', '-test.count', '1', '-test.timeout', `${Math.ceil(timeoutMs / 1000)}s`],
      env,
      work,
      timeoutMs,
    );
    if (r.code !== 0 || !existsSync(output)) {
      throw new Error(`the Istio oracle failed (exit ${r.code}):\n${tail(r.stdout + r.stderr)}`);
    }
    return JSON.parse(await readFile(output, 'utf8')) as OracleReport;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs the oracle on a set of manifests and returns its outcomes, sorted by client, service, port. */
export async function runOracle(manifests: OracleInput, opts: OracleOptions = {}): Promise<OracleOutcome[]> {
  return [...(await runOracleReport(manifests, opts)).outcomes];
}
