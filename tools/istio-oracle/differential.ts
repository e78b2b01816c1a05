/**
 * Differential testing of the engine against the Istio oracle (issue 17): random meshes
 * (generate.ts), each judged by the engine's `simulate` (in process, the same steps as
 * `mtls-guard simulate --format json`) and by the oracle (one batch-mode process for many meshes),
 * every (client, service, port) pair compared, and each disagreement put in its class
 * (differences.ts).
 *
 *   npm run oracle      ORACLE_MESHES (default 10000), ORACLE_SEED (default 17), ORACLE_PARALLEL (default 1),
 *                       ORACLE_SHRINK_MS (default 30000: how long to shrink each class's example; 0: not at all)
 *
 * prints progress on stderr, one line per disagreement class, and as its last line
 * `oracle agreement: A/T pairs on N meshes`; writes bench/results/oracle.json with the counts per
 * class and an example of each: the smallest mesh that shows it, shrunk by fast-check.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { simulate } from '../../src/core/evaluate.js';
import { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import type { MeshData } from '../../src/core/model/model.js';
import { parseManifests } from '../../src/snapshot/manifests.js';
import { projectSnapshot } from '../../src/snapshot/project.js';
import { type Classified, classify, DIFFERENCES } from './differences.js';
import { type GenMesh, meshArb, meshToYaml } from './generate.js';
import { OracleMeshError, type OracleOutcome, type OracleReport, OracleSession } from './oracle.js';

/** One row of the engine's `simulate --format json`. */
export interface EngineRow {
  readonly client: string;
  readonly clientKind: string;
  readonly service: string;
  readonly port: number;
  readonly code: string;
  readonly tlsMode: string;
  readonly reason: string;
}

/** The engine's view of a mesh: its outcomes and the snapshot it read (for classifying disagreements). */
export interface EngineView {
  readonly rows: readonly EngineRow[];
  readonly data: MeshData;
}

/**
 * The engine's `simulate` of a mesh given as YAML: the same steps as `mtls-guard simulate -f FILE
 * --format json` (parse, project, index, simulate), in process, with the Istio version read from
 * the mesh's istiod image.
 */
export function engineView(yaml: string, file = 'mesh.yaml'): EngineView {
  const { data } = projectSnapshot(parseManifests(yaml, file));
  const rows = simulate(MeshIndex.build(data)).map((c) => ({
    client: c.client,
    clientKind: c.clientKind,
    service: c.service,
    port: c.port,
    code: c.outcome.code,
    tlsMode: c.outcome.tlsMode,
    reason: c.outcome.reason,
  }));
  return { rows, data };
}

/**
 * The mesh with each Service's ClusterIP as the oracle dialled it, for the Services the YAML gives
 * none: the oracle assigns them, and the capture annotations about IP ranges (which the engine
 * leaves to the port rules when it knows no address) must be judged on the same addresses.
 */
export function withAddresses(yaml: string, addresses: Readonly<Record<string, string>>): string {
  const docs = parseAllDocuments(yaml);
  let changed = false;
  for (const doc of docs) {
    const o = doc.toJS() as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; spec?: Record<string, unknown> } | null;
    if (o?.kind !== 'Service' || o.spec?.clusterIP !== undefined) continue;
    const ip = addresses[`${String(o.metadata?.name)}.${String(o.metadata?.namespace ?? 'default')}`];
    if (ip === undefined) continue;
    doc.setIn(['spec', 'clusterIP'], ip);
    changed = true;
  }
  return changed ? docs.map((d) => d.toString()).join('---\n') : yaml;
}

/** `client -> service:port` */
export function pairKey(o: { client: string; service: string; port: number }): string {
  return `${o.client} -> ${o.service}:${o.port}`;
}

/** One pair where the two sides differ: different codes, or a pair only one side judges. */
export interface PairDiff {
  readonly key: string;
  readonly engine: EngineRow | undefined;
  readonly oracle: OracleOutcome | undefined;
}

/** Engine and oracle on one mesh. */
export interface MeshComparison {
  readonly id: string;
  readonly yaml: string;
  /** Pairs both judge with the same code. */
  readonly agree: number;
  /** Pairs either side judges. */
  readonly total: number;
  readonly diffs: readonly Classified[];
  readonly oracleNotes: readonly string[];
  readonly oracleMs: number;
}

/** Compares the outcomes of both sides, pair by pair. */
export function comparePairs(
  engine: readonly EngineRow[],
  oracle: readonly OracleOutcome[],
): { agree: number; total: number; diffs: PairDiff[] } {
  const byKey = new Map(oracle.map((o) => [pairKey(o), o]));
  let agree = 0;
  const diffs: PairDiff[] = [];
  for (const e of engine) {
    const k = pairKey(e);
    const o = byKey.get(k);
    byKey.delete(k);
    if (o && o.code === e.code) agree++;
    else diffs.push({ key: k, engine: e, oracle: o });
  }
  for (const [k, o] of byKey) diffs.push({ key: k, engine: undefined, oracle: o });
  return { agree, total: agree + diffs.length, diffs };
}

/** The comparison of one mesh, from both sides' answers. */
export function compareWith(id: string, yaml: string, engine: EngineView, oracle: OracleReport & { ms?: number }): MeshComparison {
  const { agree, total, diffs } = comparePairs(engine.rows, oracle.outcomes);
  return {
    id,
    yaml,
    agree,
    total,
    diffs: diffs.map((d) => classify(d, engine.data)),
    oracleNotes: oracle.notes,
    oracleMs: oracle.ms ?? 0,
  };
}

/** Judges one mesh on both sides and classifies every disagreement. */
export async function compareMesh(session: OracleSession, id: string, yaml: string): Promise<MeshComparison> {
  const report = session.judge({ id, yaml });
  // The engine runs while the oracle works; an engine error must not leave the oracle's answer unawaited.
  let engine: EngineView;
  try {
    engine = engineView(yaml, `${id}.yaml`);
  } catch (e) {
    await report.catch(() => undefined);
    throw e;
  }
  return compareWith(id, yaml, engine, await report);
}

/**
 * Compares many meshes through one oracle session, keeping `window` of them in flight so that the
 * oracle never waits for the engine; `onResult` sees each comparison (or the error that stopped it)
 * in the order they finish.
 */
export async function compareMany(
  session: OracleSession,
  meshes: readonly { readonly id: string; readonly yaml: () => string }[],
  window: number,
  onResult: (r: MeshComparison | Error, id: string) => void,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < meshes.length) {
      const m = meshes[next++]!;
      try {
        onResult(await compareMesh(session, m.id, m.yaml()), m.id);
      } catch (e) {
        onResult(e instanceof Error ? e : new Error(String(e)), m.id);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, window) }, lane));
}

/** The generated meshes of a seed, as fast-check's runs with that seed see them (run i replays with `path: String(i)`). */
export function sampleMeshes(seed: number, count: number): GenMesh[] {
  return fc.sample(meshArb(), { seed, numRuns: count });
}

/** Disagreements no class recognises: what the differential test fails on. */
export function unexplained(c: MeshComparison): Classified[] {
  return c.diffs.filter((d) => d.cls === undefined);
}

/** Words for one disagreement, with both sides' reasons. */
export function describeDiff(d: Classified): string {
  const e = d.engine ? `engine ${d.engine.code} (${d.engine.tlsMode}: ${d.engine.reason})` : 'engine: no such pair';
  const o = d.oracle ? `oracle ${d.oracle.code} (${d.oracle.wire}: ${d.oracle.detail})` : 'oracle: no such pair';
  return `${d.key} [${d.cls?.id ?? 'UNCLASSIFIED'}]\n    ${e}\n    ${o}`;
}

/**
 * Notes of the oracle that say it rejected or left out something of a generated mesh: the
 * generator made what it should not (invalid objects, or kinds the oracle does not model).
 */
export function generatorProblems(notes: readonly string[]): string[] {
  return notes.filter((n) => /Istio rejects it|left out|not modelled|ignored/.test(n));
}

/**
 * Shrinks the generated mesh of run `index` of `seed` to a small one that still fails `failing`,
 * with fast-check's own shrinking (the run is replayed with `path`), one oracle call per candidate.
 * Stops after `timeLimitMs` with the smallest failing mesh found so far.
 */
export async function shrinkMesh(
  session: OracleSession,
  seed: number,
  index: number,
  failing: (c: MeshComparison) => boolean,
  timeLimitMs = 60_000,
): Promise<{ mesh: GenMesh; comparison: MeshComparison; runs: number } | undefined> {
  let runs = 0;
  const deadline = Date.now() + timeLimitMs;
  let best: { mesh: GenMesh; comparison: MeshComparison } | undefined;
  await fc.check(
    fc.asyncProperty(meshArb(), async (m) => {
      // Past the deadline every candidate "passes", which ends shrinking with the best one so far.
      if (Date.now() > deadline) return true;
      const c = await compareMesh(session, `shrink-${index}-${runs++}`, meshToYaml(m));
      if (!failing(c)) return true;
      best = { mesh: m, comparison: c };
      return false;
    }),
    { seed, path: String(index), numRuns: 1, endOnFailure: false },
  );
  return best && { ...best, runs };
}

/** An `# expect: CLIENT -> SERVICE:PORT engine CODE oracle CODE` line of an example file. */
export interface Expectation {
  readonly key: string;
  readonly engine: string;
  readonly oracle: string;
}

/** The expectations an example file's header states. */
export function expectationsOf(yaml: string): Expectation[] {
  const out: Expectation[] = [];
  for (const m of yaml.matchAll(/^# expect: (\S+ -> \S+:\d+) engine (\d{3}) oracle (\d{3})\s*$/gm)) {
    out.push({ key: m[1]!, engine: m[2]!, oracle: m[3]! });
  }
  return out;
}

/** The codes both sides give a pair of a comparison (agreeing pairs are not in `diffs`, so both sides' rows are needed). */
export function codesOf(engine: EngineView, oracle: OracleReport, key: string): { engine?: string; oracle?: string } {
  const e = engine.rows.find((r) => pairKey(r) === key)?.code;
  const o = oracle.outcomes.find((r) => pairKey(r) === key)?.code;
  return { ...(e !== undefined ? { engine: e } : {}), ...(o !== undefined ? { oracle: o } : {}) };
}

interface ClassTally {
  pairs: number;
  meshes: number;
  example?: { mesh: string; pairs: string[]; yaml: string };
}

/** The repository root: the first ancestor of this file (source or dist/) with tools/build-oracle.sh. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'tools', 'build-oracle.sh'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root');
    dir = up;
  }
}

function intEnv(name: string, dflt: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? dflt : Number(raw);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, not ${JSON.stringify(raw)}`);
  return n;
}

/** `npm run oracle`. */
async function main(): Promise<void> {
  const count = intEnv('ORACLE_MESHES', 10_000);
  const seed = intEnv('ORACLE_SEED', 17);
  const parallel = intEnv('ORACLE_PARALLEL', 1);
  // A fresh oracle process every so many meshes keeps its memory flat over long runs.
  const perProcess = intEnv('ORACLE_MESHES_PER_PROCESS', 1000);
  if (count < 1 || perProcess < 1 || parallel < 1)
    throw new Error('ORACLE_MESHES, ORACLE_PARALLEL and ORACLE_MESHES_PER_PROCESS must be positive');
  const started = Date.now();
  const meshes = sampleMeshes(seed, count);
  let agree = 0;
  let total = 0;
  let judged = 0;
  let oracleMs = 0;
  const tallies = new Map<string, ClassTally>();
  const problems: string[] = [];
  const onResult = (c: MeshComparison | Error, id: string): void => {
    if (c instanceof OracleMeshError) {
      problems.push(c.message);
      return;
    }
    if (c instanceof Error) throw new Error(`${id}: ${c.message}`);
    judged++;
    agree += c.agree;
    total += c.total;
    oracleMs += c.oracleMs;
    for (const n of generatorProblems(c.oracleNotes)) problems.push(`${c.id}: ${n}`);
    const inMesh = new Set<string>();
    for (const d of c.diffs) {
      const cls = d.cls?.id ?? 'unclassified';
      let t = tallies.get(cls);
      if (!t) tallies.set(cls, (t = { pairs: 0, meshes: 0 }));
      t.pairs++;
      if (!inMesh.has(cls)) {
        inMesh.add(cls);
        t.meshes++;
        // The example of a class: the smallest mesh (in YAML) that shows it.
        if (!t.example || c.yaml.length < t.example.yaml.length) {
          t.example = { mesh: c.id, yaml: c.yaml, pairs: c.diffs.filter((x) => (x.cls?.id ?? 'unclassified') === cls).map(describeDiff) };
        }
      }
    }
  };
  for (let from = 0; from < count; from += perProcess) {
    const upTo = Math.min(count, from + perProcess);
    const session = await OracleSession.start({ parallel });
    try {
      const batch = meshes.slice(from, upTo).map((m, i) => ({ id: `mesh-${from + i}`, yaml: () => meshToYaml(m) }));
      await compareMany(session, batch, parallel + 2, onResult);
    } finally {
      await session.close();
    }
    process.stderr.write(`${upTo}/${count} meshes, ${agree}/${total} pairs agree, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  // Each class's example, shrunk by fast-check from the smallest mesh that shows it.
  const shrinkMs = intEnv('ORACLE_SHRINK_MS', 30_000);
  if (shrinkMs > 0 && tallies.size > 0) {
    const session = await OracleSession.start({ parallel });
    try {
      for (const [cls, t] of tallies) {
        if (!t.example) continue;
        const index = Number(t.example.mesh.slice('mesh-'.length));
        const ofClass = (c: MeshComparison): Classified[] => c.diffs.filter((d) => (d.cls?.id ?? 'unclassified') === cls);
        const shrunk = await shrinkMesh(session, seed, index, (c) => ofClass(c).length > 0, shrinkMs);
        if (shrunk && shrunk.comparison.yaml.length < t.example.yaml.length) {
          t.example = {
            mesh: `${t.example.mesh}, shrunk in ${shrunk.runs} oracle runs`,
            yaml: shrunk.comparison.yaml,
            pairs: ofClass(shrunk.comparison).map(describeDiff),
          };
        }
      }
    } finally {
      await session.close();
    }
  }
  const seconds = (Date.now() - started) / 1000;
  const classes = Object.fromEntries(
    [...tallies].map(([id, t]) => {
      const cls = DIFFERENCES.find((c) => c.id === id);
      return [
        id,
        {
          pairs: t.pairs,
          meshes: t.meshes,
          verdict: cls?.verdict ?? 'unclassified',
          summary: cls?.summary ?? 'no class recognises these pairs yet',
          ...(cls ? { file: `tools/istio-oracle/testdata/disagreements/${cls.id}.yaml` } : {}),
          example: t.example,
        },
      ];
    }),
  );
  const out = join(repoRoot(), 'bench', 'results', 'oracle.json');
  await mkdir(dirname(out), { recursive: true });
  const result = {
    seed,
    meshes: count,
    judged,
    pairs: total,
    agree,
    disagree: total - agree,
    seconds: Math.round(seconds),
    oracleSeconds: Math.round(oracleMs / 1000),
    problems: problems.slice(0, 50),
    classes,
  };
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  for (const [id, t] of [...tallies].sort((a, b) => b[1].pairs - a[1].pairs)) {
    const verdict = DIFFERENCES.find((c) => c.id === id)?.verdict ?? 'unclassified';
    process.stdout.write(`${id} (${verdict}): ${t.pairs} pairs in ${t.meshes} meshes\n`);
  }
  for (const p of problems.slice(0, 20)) process.stdout.write(`problem: ${p}\n`);
  process.stdout.write(`wrote ${out} in ${seconds.toFixed(0)} s\n`);
  process.stdout.write(`oracle agreement: ${agree}/${total} pairs on ${judged} meshes\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
