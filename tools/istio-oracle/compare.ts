/**
 * Compares the engine's `simulate --format json` with the Istio oracle on the same manifests.
 *
 *   node dist/tools/istio-oracle/compare.js PATH...      (files or directories, applied together)
 *
 * Prints one line per disagreement and a closing count; exits 1 when they disagree. Run
 * `npm run build` first (the engine's CLI is run from dist/).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type OracleOutcome, runOracleReport } from './oracle.js';

/** One row of the engine's `simulate --format json`. */
export interface EngineOutcome {
  readonly client: string;
  readonly clientKind: string;
  readonly service: string;
  readonly port: number;
  readonly code: string;
  readonly exit?: number;
  readonly tlsMode: string;
  readonly reason: string;
}

export interface Comparison {
  readonly istio: string;
  readonly agree: number;
  readonly disagree: readonly { readonly engine: EngineOutcome; readonly oracle: OracleOutcome }[];
  readonly onlyEngine: readonly EngineOutcome[];
  readonly onlyOracle: readonly OracleOutcome[];
  readonly notes: readonly string[];
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'tools', 'build-oracle.sh'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root');
    dir = up;
  }
  return dir;
}

/** Runs the engine's CLI (dist/) with the Node that runs this file. */
export function runEngine(paths: readonly string[]): Promise<EngineOutcome[]> {
  const main = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  const args = [main, 'simulate', ...paths.flatMap((p) => ['-f', p]), '--format', 'json'];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) fail(new Error(`mtls-guard simulate failed (exit ${code}): ${err}`));
      else done(JSON.parse(out) as EngineOutcome[]);
    });
  });
}

const key = (o: { client: string; service: string; port: number }): string => `${o.client} -> ${o.service}:${o.port}`;

export async function compareWithEngine(paths: readonly string[]): Promise<Comparison> {
  const [engine, report] = await Promise.all([runEngine(paths), runOracleReport(paths)]);
  const oracle = new Map(report.outcomes.map((o) => [key(o), o]));
  let agree = 0;
  const disagree: { engine: EngineOutcome; oracle: OracleOutcome }[] = [];
  const onlyEngine: EngineOutcome[] = [];
  for (const e of engine) {
    const o = oracle.get(key(e));
    if (!o) onlyEngine.push(e);
    else if (o.code === e.code) agree++;
    else disagree.push({ engine: e, oracle: o });
    oracle.delete(key(e));
  }
  return { istio: report.istio, agree, disagree, onlyEngine, onlyOracle: [...oracle.values()], notes: report.notes };
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0) {
    process.stderr.write('usage: compare.js PATH... (manifest files or directories, applied together)\n');
    return 2;
  }
  const c = await compareWithEngine(argv);
  const out: string[] = [`istio.io/istio ${c.istio}`];
  for (const n of c.notes) out.push(`note: ${n}`);
  for (const d of c.disagree) {
    out.push(`DISAGREE ${key(d.engine)}: engine ${d.engine.code} (${d.engine.reason}); oracle ${d.oracle.code} (${d.oracle.detail})`);
  }
  for (const e of c.onlyEngine) out.push(`ENGINE ONLY ${key(e)}: ${e.code} (${e.reason})`);
  for (const o of c.onlyOracle) out.push(`ORACLE ONLY ${key(o)}: ${o.code} (${o.detail})`);
  out.push(`${c.agree} agree, ${c.disagree.length} disagree, ${c.onlyEngine.length} engine only, ${c.onlyOracle.length} oracle only`);
  process.stdout.write(`${out.join('\n')}\n`);
  return c.disagree.length || c.onlyEngine.length || c.onlyOracle.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
