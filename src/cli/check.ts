import type { Change, IstioObject, Mode } from '../core/model/model.js';
import { objectRef } from '../core/model/model.js';
import { InputError, InvalidObjectError, UnsupportedKindError } from '../core/model/errors.js';
import { isJudged, parseIstioObject, parseIstioRef, type IstioRef } from '../core/model/objects.js';
import { decide, type Verdict } from '../core/verdict/decision.js';
import { judgeChange } from '../core/judge.js';
import { MODE_STRENGTH } from '../core/policy/modes.js';
import type { Finding } from '../core/model/findings.js';
import type { MeshIndex } from '../core/mesh/mesh-index.js';
import { parseCheckArgs, type CheckArgs } from '../config/cli-args.js';
import { docLocation, loadManifests } from '../snapshot/manifests.js';
import { loadIndex } from './load.js';
import { EXIT, type Io } from './io.js';

/** The verdict on one object of a change file. */
export interface ObjectVerdict {
  readonly object: string;
  readonly operation: Change['operation'];
  readonly summary: string;
  readonly verdict: Verdict;
  readonly notes: readonly string[];
  /** The mesh after this object (and the ones before it), for the next object and for `report`. */
  readonly after: MeshIndex;
}

/** Reads the objects of a change file; for deletes only their identity is needed. */
export async function loadChanges(paths: readonly string[], refsOnly: boolean): Promise<(IstioObject | IstioRef)[]> {
  const docs = await loadManifests(paths);
  // An empty change file is a mistake in a pipeline (a glob that matched nothing, a failed render), not an allow.
  if (docs.length === 0) throw new InputError(`${paths.join(', ')}: no objects to check`);
  return docs.map((d) => {
    if (!isJudged(d.obj))
      throw new UnsupportedKindError(
        `${String(d.obj['apiVersion'] ?? '(no apiVersion)')} ${String(d.obj['kind'] ?? '(no kind)')}`,
        docLocation(d),
      );
    try {
      return refsOnly ? parseIstioRef(d.obj) : { ...parseIstioObject(d.obj), origin: docLocation(d) };
    } catch (e) {
      if (e instanceof InvalidObjectError) throw e.at(docLocation(d));
      throw e;
    }
  });
}

function isFull(o: IstioObject | IstioRef): o is IstioObject {
  return 'created' in o;
}

/** Judges each object in order against the snapshot plus the objects before it. */
export function judge(
  start: MeshIndex,
  objects: readonly (IstioObject | IstioRef)[],
  args: Pick<CheckArgs, 'delete' | 'mode' | 'denyOn'>,
): ObjectVerdict[] {
  let idx = start;
  const out: ObjectVerdict[] = [];
  for (const target of objects) {
    const exists = idx.find(target);
    const operation: Change['operation'] = args.delete ? 'DELETE' : exists ? 'UPDATE' : 'CREATE';
    const object = operation === 'DELETE' ? exists : isFull(target) ? target : undefined;
    if (!object) {
      const notes = [`${objectRef(target)} is not in the snapshot; deleting it changes nothing`];
      out.push({
        object: objectRef(target),
        operation,
        summary: `DELETE of ${objectRef(target)}`,
        verdict: decide([], args.mode ?? 'enforce', args.denyOn),
        notes,
        after: idx,
      });
      continue;
    }
    const j = judgeChange(
      idx,
      { operation, object },
      { denyOn: args.denyOn, defaultMode: 'enforce', ...(args.mode ? { mode: { mode: args.mode as Mode, source: '--mode' } } : {}) },
    );
    const notes = [...(j.mode.invalid ? [j.mode.invalid] : []), ...(j.evaluated ? [] : [`not evaluated: ${j.mode.source} is off`])];
    out.push({ object: j.object, operation, summary: j.summary, verdict: j.verdict, notes, after: j.after });
    idx = j.after;
  }
  return out;
}

function findingText(f: Finding): string {
  const lines = [`  ${f.severity.padEnd(4)}  ${f.code}  ${f.evidence.padEnd(8)}  ${f.message}`];
  if (f.port !== null) lines.push(`        why: ${f.reason}`);
  if (f.clients?.length)
    lines.push(
      `        clients: ${f.clients.slice(0, 10).join(', ')}${f.clients.length > 10 ? `, and ${f.clients.length - 10} more` : ''}`,
    );
  if (f.evidenceDetail) lines.push(`        evidence: ${f.evidenceDetail}`);
  lines.push(`        fix: ${f.fix}`);
  return lines.join('\n');
}

function text(results: readonly ObjectVerdict[], denyOn: string): string {
  const out: string[] = [];
  for (const r of results) {
    const v = r.verdict;
    const state = v.allowed ? (v.wouldDeny.length ? `ALLOWED (mode ${v.mode}; would be denied in enforce)` : 'ALLOWED') : 'DENIED';
    const breaks = v.findings.filter((f) => f.port !== null).length;
    out.push(`${r.summary}: ${state} - ${breaks} breaking connection finding(s), deny on ${denyOn}, mode ${v.mode}`);
    for (const n of r.notes) out.push(`  note: ${n}`);
    for (const f of v.findings) out.push(findingText(f));
  }
  const denied = results.filter((r) => !r.verdict.allowed).length;
  out.push(`${denied} of ${results.length} object(s) denied.`);
  return `${out.join('\n')}\n`;
}

function json(results: readonly ObjectVerdict[]): string {
  const mode = results.reduce<Mode>((m, r) => (MODE_STRENGTH[r.verdict.mode] > MODE_STRENGTH[m] ? r.verdict.mode : m), 'off');
  const findings = results.flatMap((r) =>
    r.verdict.findings.map((f) => ({
      code: f.code,
      severity: f.severity,
      evidence: f.evidence,
      client: f.client,
      service: f.service,
      port: f.port,
      before: f.before,
      after: f.after,
      message: f.message,
      fix: f.fix,
      reason: f.reason,
      object: r.object,
      ...(f.exit !== undefined ? { exit: f.exit } : {}),
      ...(f.clients ? { clients: f.clients } : {}),
      ...(f.evidenceDetail ? { evidenceDetail: f.evidenceDetail } : {}),
    })),
  );
  return `${JSON.stringify(
    {
      allowed: results.every((r) => r.verdict.allowed),
      mode,
      findings,
      objects: results.map((r) => ({
        object: r.object,
        operation: r.operation,
        allowed: r.verdict.allowed,
        mode: r.verdict.mode,
        notes: r.notes,
      })),
    },
    null,
    2,
  )}\n`;
}

/** `mtls-guard check`: exit 0 allowed, 1 denied, 2 bad input. */
export async function runCheck(argv: readonly string[], io: Io): Promise<number> {
  const args = parseCheckArgs(argv);
  // The change first: a mistake in the user's own file is the one to report, before the cluster is asked.
  const objects = await loadChanges(args.changes, args.delete);
  const { idx, notes } = await loadIndex(args.cluster, args, args.telemetry);
  if (args.format === 'text') for (const n of notes) io.err(`note: ${n}\n`);
  const results = judge(idx, objects, args);
  io.out(args.format === 'json' ? json(results) : text(results, args.denyOn));
  return results.every((r) => r.verdict.allowed) ? EXIT.ok : EXIT.denied;
}
