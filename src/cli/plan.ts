import type { Finding } from '../core/model/findings.js';
import { objectRef } from '../core/model/model.js';
import { makePlan, type Plan, type Step } from '../core/plan/plan.js';
import { scopeName, type Readiness } from '../core/plan/readiness.js';
import { parsePlanArgs } from '../config/cli-args.js';
import { toManifest } from '../core/model/manifest.js';
import { loadIndex } from './load.js';
import { EXIT, type Io } from './io.js';

/** `<namespace>: ready` or `<namespace>: blocked by N connection(s)`, and last the mesh. */
function lines(p: Plan): string {
  const line = (r: Readiness): string => `${scopeName(r.scope)}: ${r.ready ? 'ready' : `blocked by ${r.blocking.length} connection(s)`}`;
  return `${[...p.namespaces.map(line), `mesh: ${p.mesh.ready ? 'ready' : 'blocked'}`].join('\n')}\n`;
}

function findingLine(f: Finding): string {
  return `      ${f.code}  ${f.evidence.padEnd(8)}  ${f.message}`;
}

function stepText(s: Step, n: number): string[] {
  if (s.kind === 'person') {
    const head = `  ${n}. [person] ${s.scope}: ${s.says}${s.then ? (s.verified ? ' (verified)' : ' (not verified: check it then)') : ''}`;
    // A policy the plan updated goes back to this manifest; a deletion needs none.
    return s.then?.operation === 'UPDATE' ? [head, `       ${JSON.stringify(toManifest(s.then.object))}`] : [head];
  }
  const head = `  ${n}. [${s.kind === 'strict' ? 'strict' : 'prepare'}] ${s.scope}: ${s.says}`;
  return [head, `       ${JSON.stringify(toManifest(s.change.object))}`];
}

/** The plan as `mtls-guard plan` prints it: readiness, the numbered steps with their manifests, what stays blocked. */
export function planText(p: Plan, denyOn: string): string {
  const out: string[] = [`Readiness for STRICT (deny on ${denyOn}):`];
  for (const r of [...p.namespaces, p.mesh]) {
    const state = r.already ? 'already STRICT' : r.ready ? 'ready' : `blocked by ${r.blocking.length} connection(s)`;
    out.push(`  ${scopeName(r.scope)}: ${state}`);
    for (const f of r.blocking.slice(0, 5)) out.push(findingLine(f));
    if (r.blocking.length > 5) out.push(`      and ${r.blocking.length - 5} more`);
  }
  out.push(
    '',
    p.complete ? 'Plan to mesh-wide STRICT (each step judged on top of the ones before):' : 'Plan (it does not reach mesh-wide STRICT):',
  );
  let n = 0;
  for (const s of p.steps) out.push(...stepText(s, ++n));
  if (p.steps.length === 0) out.push('  nothing to do');
  for (const b of p.blocked) {
    out.push(`  blocked: ${b.scope}: ${b.findings.length} connection(s) no fix the engine can apply clears`);
    for (const f of b.findings.slice(0, 5)) out.push(findingLine(f));
    for (const need of b.needs) out.push(`      a person can: ${need}`);
  }
  return `${out.join('\n')}\n`;
}

function json(p: Plan): string {
  const readiness = (r: Readiness) => ({
    scope: scopeName(r.scope),
    ready: r.ready,
    already: r.already,
    blocking: r.blocking.map((f) => ({
      code: f.code,
      evidence: f.evidence,
      client: f.client,
      service: f.service,
      port: f.port,
      message: f.message,
      fix: f.fix,
    })),
  });
  const step = (s: Step) =>
    s.kind === 'person'
      ? {
          kind: s.kind,
          scope: s.scope,
          says: s.says,
          verified: s.verified,
          ...(s.then
            ? {
                afterwards: {
                  operation: s.then.operation,
                  object: objectRef(s.then.object),
                  ...(s.then.operation === 'UPDATE' ? { manifest: toManifest(s.then.object) } : {}),
                },
              }
            : {}),
        }
      : { kind: s.kind, scope: s.scope, says: s.says, operation: s.change.operation, object: toManifest(s.change.object) };
  return `${JSON.stringify(
    {
      namespaces: p.namespaces.map(readiness),
      mesh: readiness(p.mesh),
      complete: p.complete,
      steps: p.steps.map(step),
      blocked: p.blocked.map((b) => ({ scope: b.scope, needs: b.needs, findings: b.findings.map((f) => f.message) })),
    },
    null,
    2,
  )}\n`;
}

/** `mtls-guard plan`: exit 0 when the plan reaches mesh-wide STRICT, 1 when something stays blocked, 2 bad input. */
export async function runPlan(argv: readonly string[], io: Io): Promise<number> {
  const args = parsePlanArgs(argv);
  const { idx, notes } = await loadIndex(args.paths, args, args.telemetry);
  if (args.format === 'text') for (const n of notes) io.err(`note: ${n}\n`);
  const p = makePlan(idx, { denyOn: args.denyOn });
  io.out(args.format === 'json' ? json(p) : args.format === 'lines' ? lines(p) : planText(p, args.denyOn));
  return p.complete ? EXIT.ok : EXIT.denied;
}
