/**
 * The plan: a verified order of steps from the mesh as it is to mesh-wide STRICT. Every step is
 * applied to the snapshot and judged by the engine before it is written down, on top of the steps
 * before it: no step breaks anything that `check` would deny. Steps that need a person (inject a
 * sidecar and restart) are named as such, after the steps the engine can take.
 */
import type { Change, PeerAuthentication, Service, ServicePort, Workload } from '../model/model.js';
import { objectRef, serviceLabel } from '../model/model.js';
import type { Finding } from '../model/findings.js';
import { byCreation, isEmptySelector, selectorMatches, type MeshIndex } from '../mesh/mesh-index.js';
import { judgeChange } from '../judge.js';
import { keepPortPermissive } from '../rules/remedy.js';
import { svcName } from '../rules/rule.js';
import { containerPortOf } from '../verdict/callers.js';
import { enrolled } from '../verdict/prove.js';
import { readiness, readinessOf, scopeName, type Readiness, type ReadinessOptions, type Scope } from './readiness.js';

/** One step of a plan. */
export type Step = ChangeStep | PersonStep;

/** A change the engine verified: an exception or a rule revised first, or a scope made STRICT. */
export interface ChangeStep {
  readonly kind: 'prepare' | 'strict';
  readonly scope: string;
  readonly change: Change;
  readonly says: string;
}

/** Something a person does (a sidecar injected and the pods restarted), then what can go. */
export interface PersonStep {
  readonly kind: 'person';
  readonly scope: string;
  readonly says: string;
  /** What can go afterwards (an exception deleted, or a policy restored), verified by the engine with the workloads enrolled. */
  readonly then?: Change;
  readonly verified: boolean;
}

/** A scope the plan cannot make STRICT, and why. */
export interface Blocked {
  readonly scope: string;
  readonly findings: readonly Finding[];
  /** What a person could do, as the proven fixes of its first blocking findings say. */
  readonly needs: readonly string[];
  /** The mesh the scope was judged on. */
  readonly at: MeshIndex;
}

/** Readiness before any step, the steps, what stays blocked, and whether the plan ends in mesh-wide STRICT. */
export interface Plan {
  readonly namespaces: readonly Readiness[];
  readonly mesh: Readiness;
  readonly steps: readonly Step[];
  readonly blocked: readonly Blocked[];
  readonly complete: boolean;
}

/** An exception: a workload policy that keeps some ports PERMISSIVE, new or updated. */
interface Exception {
  readonly operation: 'CREATE' | 'UPDATE';
  readonly object: PeerAuthentication;
  /** For an update, the policy as it was: what undoing the exception restores. */
  readonly before?: PeerAuthentication;
}

/** An exception the plan took, and the step that wrote it. */
interface Taken {
  readonly exception: Exception;
  readonly step: ChangeStep;
}

/** Judging for the plan proves no fixes: the plan makes its own exceptions and verifies them. */
const NO_FIXES = (): boolean => true;

/** Makes the plan for an index: namespaces with the fewest blocking connections first, then the mesh. */
export function makePlan(idx: MeshIndex, opts: ReadinessOptions): Plan {
  const fast = { ...opts, fixBudget: NO_FIXES };
  const start = readiness(idx, fast);
  const order = [...start.namespaces].sort(
    (a, b) => a.blocking.length - b.blocking.length || scopeName(a.scope).localeCompare(scopeName(b.scope)),
  );
  const steps: Step[] = [];
  const blocked: Blocked[] = [];
  const taken: Taken[] = [];
  let cur = idx;
  for (const r of order) {
    // STRICT changes nothing where no workload has a proxy; the mesh-wide step covers such a
    // namespace, and a namespace STRICT there would only trap its first sidecar.
    if (r.scope.kind === 'namespace' && !hasMeshWorkloads(idx, r.scope.namespace)) continue;
    cur = advance(cur, r.scope, fast, steps, blocked, taken);
  }
  cur = advance(cur, { kind: 'mesh' }, fast, steps, blocked, taken);
  steps.push(...cleanUp(cur, taken, fast));
  // What a person could do where the plan stops: the proven fixes of the first blocking findings.
  const explained = blocked.map((b) => ({ ...b, needs: needsOf(b, opts) }));
  return { namespaces: start.namespaces, mesh: start.mesh, steps, blocked: explained, complete: blocked.length === 0 };
}

function hasMeshWorkloads(idx: MeshIndex, ns: string): boolean {
  return idx.workloads(ns).some((w) => w.mesh !== 'none');
}

/**
 * Makes one scope STRICT if it can: at once when nothing blocks it, or after exceptions that keep
 * the blocked ports PERMISSIVE for their callers. Returns the index after.
 */
function advance(idx: MeshIndex, scope: Scope, opts: ReadinessOptions, steps: Step[], blocked: Blocked[], taken: Taken[]): MeshIndex {
  const name = scopeName(scope);
  const r = readinessOf(idx, scope, opts);
  if (r.already) return idx;
  if (r.ready) {
    steps.push(strictStep(name, r));
    return r.judgement.after;
  }
  const ports = blockedPorts(idx, scope, r.blocking);
  if (ports === undefined) {
    blocked.push({ scope: name, findings: r.blocking, needs: [], at: idx });
    return idx;
  }
  // The exceptions are judged one by one on top of each other, then the scope once more.
  let cur = idx;
  const mine: Taken[] = [];
  for (const [svc, cps] of ports) {
    const change = exceptionFor(cur, svc, cps);
    if (!change) continue;
    const j = judgeChange(cur, change, {
      denyOn: opts.denyOn,
      defaultMode: 'enforce',
      mode: { mode: 'enforce', source: 'plan' },
      fixBudget: NO_FIXES,
    });
    if (!j.verdict.allowed) {
      blocked.push({ scope: name, findings: j.verdict.wouldDeny, needs: [], at: idx });
      return idx;
    }
    mine.push({ exception: change, step: { kind: 'prepare', scope: name, change, says: describe(change) } });
    cur = j.after;
  }
  const again = readinessOf(cur, scope, opts);
  if (!again.ready) {
    blocked.push({ scope: name, findings: again.blocking, needs: [], at: cur });
    return idx;
  }
  for (const t of mine) steps.push(t.step);
  taken.push(...mine);
  steps.push(strictStep(name, again));
  return again.judgement.after;
}

/**
 * The container ports, per Service, that blocking findings reach: named one by one, or, for a
 * summary that lists only some, every port of the scope's Services whose pods have a proxy. Undefined when a finding
 * reaches something that is not a Service port (a pod scraped directly).
 */
function blockedPorts(idx: MeshIndex, scope: Scope, blocking: readonly Finding[]): Map<Service, Set<number>> | undefined {
  const out = new Map<Service, Set<number>>();
  const add = (svc: Service, port: ServicePort): void => {
    const cp = containerPortOf(idx, svc, port);
    if (cp === null || !svc.selector || Object.keys(svc.selector).length === 0) return;
    const set = out.get(svc) ?? new Set<number>();
    set.add(cp);
    out.set(svc, set);
  };
  let labels: Map<string, Service> | undefined;
  const byLabel = (label: string): Service | undefined => {
    labels ??= new Map(idx.allServices().map((s) => [serviceLabel(s), s]));
    return labels.get(label);
  };
  for (const f of blocking) {
    const targets = f.targets ?? [`${f.service}:${f.port}`];
    if (targets.some((t) => t.startsWith('and '))) {
      const services = scope.kind === 'mesh' ? idx.allServices() : idx.services(scope.namespace);
      // STRICT changes nothing for pods without a proxy: their Services need no exception.
      for (const svc of services) if (idx.endpoints(svc).some((w) => w.mesh !== 'none')) for (const port of svc.ports) add(svc, port);
      continue;
    }
    for (const t of targets) {
      const colon = t.lastIndexOf(':');
      const svc = byLabel(t.slice(0, colon));
      const port = svc?.ports.find((p) => String(p.port) === t.slice(colon + 1));
      if (!svc || !port) return undefined;
      add(svc, port);
    }
  }
  return out;
}

/**
 * The exception that keeps a Service's container ports PERMISSIVE: the workload policy already in
 * force for its pods (the oldest that selects them), with the ports added, or a new one.
 */
function exceptionFor(idx: MeshIndex, svc: Service, cps: ReadonlySet<number>): Exception | undefined {
  const pods = idx.endpoints(svc);
  if (pods.length === 0) return undefined;
  const inForce = idx
    .peerAuthentications(svc.namespace)
    .filter((p) => !isEmptySelector(p.selector) && pods.every((w) => selectorMatches(p.selector!, w.labels)))
    .sort(byCreation)[0];
  // Port numbers as keys keep ascending order in the manifest, whatever order they came in.
  const ports = Object.fromEntries([...cps].map((p) => [p, 'PERMISSIVE' as const]));
  if (inForce) {
    // Another Service of the same pods may have asked for these ports already.
    if ([...cps].every((p) => inForce.portLevel[p] === 'PERMISSIVE')) return undefined;
    return { operation: 'UPDATE', object: { ...inForce, portLevel: { ...inForce.portLevel, ...ports } }, before: inForce };
  }
  const [r] = keepPortPermissive(idx, svc.namespace, `${svc.name}-permissive`, svc.selector!, [...cps][0]!, svcName(svc));
  if (r?.change.kind !== 'object' || r.change.object.kind !== 'PeerAuthentication') return undefined;
  return { operation: 'CREATE', object: { ...r.change.object, portLevel: ports } };
}

/** An exception in words, without its manifest (printed beside it): the ports it makes PERMISSIVE. */
function describe(e: Exception): string {
  const ports = Object.entries(e.object.portLevel)
    .filter(([port, m]) => m === 'PERMISSIVE' && e.before?.portLevel[Number(port)] !== 'PERMISSIVE')
    .map(([port]) => port);
  const verb = e.operation === 'CREATE' ? 'create' : 'update';
  return `${verb} ${objectRef(e.object)}: keep port${ports.length > 1 ? 's' : ''} ${ports.join(', ')} PERMISSIVE for callers without a sidecar`;
}

function strictStep(scope: string, r: Readiness): Step {
  const what = objectRef(r.change.object);
  const says =
    r.change.operation === 'UPDATE'
      ? `set ${what} to STRICT`
      : `create ${what} with mtls.mode STRICT (no selector: ${scope === 'mesh' ? 'the whole mesh' : `all of ${scope}`})`;
  return { kind: 'strict', scope, change: r.change, says };
}

/**
 * The person's steps. Once every workload has a sidecar, which exceptions can go? Each deletion is
 * judged on the final mesh with every workload without a proxy given a sidecar; the namespaces to
 * inject are those of the callers the deletion would cut off today.
 */
function cleanUp(final: MeshIndex, taken: readonly Taken[], opts: ReadinessOptions): Step[] {
  if (taken.length === 0) return [];
  const moved = new Map<Workload, Workload>();
  for (const w of final.allWorkloads()) if (w.mesh === 'none' && !w.hostNetwork) moved.set(w, enrolled(w, 'sidecar'));
  const enrolledMesh = final.withWorkloads(moved);
  const judge = (idx: MeshIndex, change: Change) =>
    judgeChange(idx, change, {
      denyOn: opts.denyOn,
      defaultMode: 'enforce',
      mode: { mode: 'enforce', source: 'plan' },
      fixBudget: NO_FIXES,
    });
  // Steps that wrote to one policy are undone together, back to the policy before the first of
  // them: undoing a later step alone would restore the ports an earlier step added.
  const firsts = new Map<string, Taken>();
  for (const t of taken) if (!firsts.has(objectRef(t.exception.object))) firsts.set(objectRef(t.exception.object), t);
  const out: Step[] = [];
  for (const [ref, t] of firsts) {
    const { before } = t.exception;
    const then: Change = before ? { operation: 'UPDATE', object: before } : { operation: 'DELETE', object: t.exception.object };
    const today = judge(final, then).verdict.wouldDeny;
    const namespaces = [
      ...new Set(
        today
          .flatMap((f) => f.clients ?? [f.client])
          .map(namespaceOfLabel)
          .filter((n) => n !== undefined),
      ),
    ].sort();
    const after = judge(enrolledMesh, then);
    const undo = then.operation === 'DELETE' ? `delete ${ref}` : `remove the PERMISSIVE ports the plan added to ${ref}`;
    if (after.verdict.allowed) {
      const who = namespaces.length ? namespaces.map((n) => `namespace ${n}`).join(' and ') : 'the workloads without a sidecar';
      out.push({
        kind: 'person',
        scope: t.step.scope,
        says: `inject sidecars into ${who} (label istio-injection=enabled, restart the pods), then ${undo}`,
        then,
        verified: true,
      });
    } else {
      out.push({
        kind: 'person',
        scope: t.step.scope,
        // The callers may be outside the snapshot, or sidecars that a rule sends in plaintext.
        says: `${before ? `the PERMISSIVE ports the plan added to ${ref} stay` : `${ref} stays`}: ${after.verdict.wouldDeny[0]?.client ?? 'a caller'} would still be cut off without ${before ? 'them' : 'it'}, even with a sidecar in every workload the snapshot knows`,
        verified: false,
      });
    }
  }
  return out;
}

/** The namespace of a `name.namespace` client label; undefined for summaries and callers outside the snapshot. */
function namespaceOfLabel(label: string): string | undefined {
  if (label.includes(' ')) {
    const m = / in ([a-z0-9-]+)$/.exec(label);
    return m?.[1];
  }
  const dot = label.lastIndexOf('.');
  return dot > 0 ? label.slice(dot + 1) : undefined;
}

/** The proven fixes of the first blocking findings of a scope, judged again with fixes. */
function needsOf(b: Blocked, opts: ReadinessOptions): string[] {
  const scope: Scope = b.scope === 'mesh' ? { kind: 'mesh' } : { kind: 'namespace', namespace: b.scope };
  const r = readinessOf(b.at, scope, opts);
  return [...new Set(r.blocking.slice(0, 3).map((f) => `${f.message}: ${f.fix}`))];
}
