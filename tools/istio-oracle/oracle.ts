/**
 * The Istio oracle from TypeScript: Istio's own control plane (istio.io/istio's fake discovery server
 * and its traffic simulation) computing the outcome of every (client workload, service port) pair of a
 * set of manifests, for comparison with the engine's `simulate --format json`. See README.md beside
 * this file for what it models and how Envoy configuration is mapped to an outcome code.
 *
 * The oracle is a Go test binary built once by tools/build-oracle.sh and cached outside the
 * repository; the first build takes minutes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
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
  /** Each Service's ClusterIP as the oracle dialled it (`name.namespace` → IP), also those it assigned itself. */
  readonly addresses: Readonly<Record<string, string>>;
}

/**
 * Manifests: a path (a YAML/JSON file or a directory of them), YAML text, or a list of paths, YAML
 * texts and Kubernetes objects, applied together (in list order, a directory's files sorted).
 */
export type OracleInput = string | readonly (string | Readonly<Record<string, unknown>>)[];

/** How to run the oracle. */
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

/** One mesh of a batch: an id of the caller's choice and the mesh's manifests as one YAML stream. */
export interface BatchMesh {
  readonly id: string;
  readonly yaml: string;
}

/** The oracle could not judge a mesh (its input, or istiod failing on it). */
export class OracleMeshError extends Error {
  constructor(
    readonly id: string,
    message: string,
  ) {
    super(`the Istio oracle failed on mesh ${id}: ${message}`);
  }
}

/** How to run an oracle session. */
export interface OracleSessionOptions extends OracleOptions {
  /** Meshes the oracle judges at a time (ORACLE_PARALLEL); default 1. */
  readonly parallel?: number;
}

interface Waiting {
  readonly resolve: (r: OracleReport & { readonly ms: number }) => void;
  readonly reject: (e: Error) => void;
}

/**
 * One oracle process in batch mode (README.md, "Batch mode"), kept running: meshes are written to
 * its stdin as JSON lines and each answer comes back on a pipe of its own (fd 3) as soon as the mesh
 * is done, so hundreds of meshes, or the meshes of one shrinking run, cost one process start. Each
 * mesh still gets its own fake discovery server.
 */
export class OracleSession {
  private readonly waiting = new Map<string, Waiting>();
  private stderr = '';
  private exited: Error | undefined;
  private readonly done: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    const answers = child.stdio[3] as Readable;
    createInterface({ input: answers, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => this.answer(line));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      // Only the tail is kept: a long batch logs a little per mesh.
      this.stderr = (this.stderr + d).slice(-20_000);
    });
    // The test runner reports its own failures on stdout.
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-20_000);
    });
    this.done = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.exited = new Error(`the Istio oracle exited (${signal ?? `exit ${code}`}):\n${tail(this.stderr)}`);
        for (const w of this.waiting.values()) w.reject(this.exited);
        this.waiting.clear();
        resolve();
      });
    });
  }

  /** Starts an oracle process (building the binary first if needed). */
  static async start(opts: OracleSessionOptions = {}): Promise<OracleSession> {
    const binary = opts.binary ?? (await buildOracle());
    const env = {
      ...process.env,
      ORACLE_BATCH: '1',
      ORACLE_INPUT: '/dev/stdin',
      ORACLE_OUTPUT: '/dev/fd/3',
      ORACLE_PARALLEL: String(opts.parallel ?? 1),
    };
    // No test timeout: a session lives as long as its caller has meshes.
    const child = spawn(binary, ['-test.run', '^TestOracle$', '-test.count', '1', '-test.timeout', '0'], {
      env,
      cwd: tmpdir(),
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return new OracleSession(child);
  }

  private answer(line: string): void {
    let r: { id?: string; error?: string; ms?: number } & Partial<OracleReport>;
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      return; // not an answer
    }
    const w = r.id === undefined ? undefined : this.waiting.get(r.id);
    if (!w || r.id === undefined) return;
    this.waiting.delete(r.id);
    if (r.error !== undefined) w.reject(new OracleMeshError(r.id, r.error));
    else w.resolve({ istio: r.istio ?? '', outcomes: r.outcomes ?? [], notes: r.notes ?? [], addresses: r.addresses ?? {}, ms: r.ms ?? 0 });
  }

  /** Judges one mesh; rejects with OracleMeshError when the oracle cannot. Ids must be unique among pending meshes. */
  judge(mesh: BatchMesh): Promise<OracleReport & { readonly ms: number }> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.waiting.has(mesh.id)) return Promise.reject(new Error(`mesh ${mesh.id} is already being judged`));
    return new Promise((resolve, reject) => {
      this.waiting.set(mesh.id, { resolve, reject });
      (this.child.stdin as Writable).write(`${JSON.stringify({ id: mesh.id, yaml: mesh.yaml })}\n`);
    });
  }

  /** Closes the input and waits for the process to finish what it has. */
  async close(): Promise<void> {
    if (!this.exited) this.child.stdin!.end();
    await this.done;
  }

  /** Stops the process at once; pending meshes are rejected. */
  async kill(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    await this.done;
  }
}

/**
 * Runs the oracle once on many meshes (one process, one fake discovery server per mesh) and returns
 * each mesh's report, or the error that stopped it, by id.
 */
export async function runOracleBatch(
  meshes: readonly BatchMesh[],
  opts: OracleSessionOptions = {},
): Promise<Map<string, OracleReport | OracleMeshError>> {
  const session = await OracleSession.start(opts);
  try {
    const results = await Promise.all(
      meshes.map((m) =>
        session.judge(m).then(
          (r): OracleReport | OracleMeshError => r,
          (e: unknown) => {
            if (e instanceof OracleMeshError) return e;
            throw e;
          },
        ),
      ),
    );
    return new Map(meshes.map((m, i) => [m.id, results[i]!]));
  } finally {
    await session.close();
  }
}
