/**
 * Proven fixes: before a finding offers a fix, the engine applies it to the mesh after the change
 * and judges again. A fix is printed only when it clears the break it is offered for and breaks
 * no connection that works after the change.
 */
import type { Change, Service, ServicePort, Workload } from '../model/model.js';
import type { RawFinding } from '../model/findings.js';
import { BudgetExceededError } from '../model/errors.js';
import type { MeshIndex } from '../mesh/mesh-index.js';
import { classAt, classFor, classKey, clientClasses, OUTSIDE_KEY } from '../traffic/classes.js';
import { outcomeAt } from '../traffic/connection.js';
import { failed } from '../traffic/outcome.js';
import type { Remedy, RemedyChange, RemedyOptions } from '../rules/remedy.js';

/** The mesh with one remedy applied, and the workloads it enrolled (old → new). */
export interface Trial {
  readonly idx: MeshIndex;
  readonly moved: ReadonlyMap<Workload, Workload>;
}

/** Judges a remedy as a change to an index: whether it breaks a connection, and the index after it. */
export type Evaluator = (idx: MeshIndex, change: Change) => { readonly breaks: boolean; readonly after: MeshIndex };

/** Said when no fix that the engine tried holds. */
export const NO_PROVEN_FIX =
  'no fix that mtls-guard tried keeps this connection working without breaking another: withdraw or narrow the change';

/** Said when the budget for trying fixes ran out before this finding's. */
export const FIXES_NOT_TRIED =
  'fixes were not tried for this finding (the budget for trying fixes ran out): mtls-guard check with the same change tries them all';

const NO_MOVES: ReadonlyMap<Workload, Workload> = new Map();

/** A finding's proven fix: its words, and the remedies that hold, in the rule's order. */
export interface Proof {
  readonly text: string;
  readonly held: readonly Remedy[];
  /** Every remedy the rule proposed, whether it held or not. */
  readonly proposed: readonly Remedy[];
}

/** What was proven for one finding: the remedies that hold, and all that were proposed. */
export interface Remedies {
  readonly held: readonly Remedy[];
  readonly proposed: readonly Remedy[];
}

/** The key a finding's remedies are kept under: its code, client, service and port. */
export function findingKey(f: Pick<RawFinding, 'code' | 'client' | 'service' | 'port'>): string {
  return `${f.code}|${f.client}|${f.service}|${f.port ?? ''}`;
}

/** Marks where a deferred fix goes in a finding's text (a private-use character, never in the words). */
const PLACEHOLDER = /\uE000fix(\d+)\uE000/g;
const LONE_PLACEHOLDER = /^\uE000fix(\d+)\uE000$/;

/**
 * Tries remedies against the mesh after one change, each remedy once. Proofs are deferred: a
 * finding first holds a placeholder, and `resolve` proves the findings in the order they are
 * shown, so that a budget spent on fixes goes to the findings a user reads first.
 */
export class Prover {
  readonly #trials = new Map<string, Trial | null>();
  readonly #pending: (() => Proof)[] = [];

  constructor(
    private readonly after: MeshIndex,
    private readonly evaluate: Evaluator | undefined,
    private readonly overBudget?: () => boolean,
  ) {}

  /** A placeholder for a fix that `resolve` proves later; it may sit inside other words. */
  defer(prove: () => Proof): string {
    this.#pending.push(prove);
    return `\uE000fix${this.#pending.length - 1}\uE000`;
  }

  /**
   * The findings with their placeholders proven, in their order, and the remedies that hold for
   * each (by `findingKey`), for those who apply them (the plan).
   */
  resolve(findings: readonly RawFinding[]): { findings: RawFinding[]; held: Map<string, Remedies> } {
    const done = new Map<number, Proof>();
    const held = new Map<string, Remedies>();
    const out = findings.map((f) => {
      if (!f.fix.includes('\uE000')) return f;
      const remedies: Remedy[] = [];
      const proposed: Remedy[] = [];
      const proven = (text: string, n: string): string => {
        const prove = this.#pending[Number(n)];
        // Words from a snapshot can hold anything: a mark that no proof made is left as it is.
        if (!prove) return text;
        let p = done.get(Number(n));
        if (p === undefined) done.set(Number(n), (p = prove()));
        remedies.push(...p.held);
        proposed.push(...p.proposed);
        return p.text;
      };
      // Most fixes are one placeholder and no other words.
      const lone = LONE_PLACEHOLDER.exec(f.fix);
      const fix = lone ? proven(f.fix, lone[1]!) : f.fix.replace(PLACEHOLDER, proven);
      if (proposed.length) held.set(findingKey(f), { held: remedies, proposed });
      return { ...f, fix };
    });
    return { findings: out, held };
  }

  /**
   * A finding's fix: for each option, its first candidate that clears the break (as `clears`
   * tells on a trial) and breaks nothing else; the options that hold, in words joined by "or".
   * The options are only drawn up while the budget lasts: once it is spent, no fix is tried.
   */
  fix(draw: () => RemedyOptions, clears: (t: Trial) => boolean): Proof {
    if (this.overBudget?.()) return { text: FIXES_NOT_TRIED, held: [], proposed: [] };
    const options = draw();
    const said: (Remedy | undefined)[] = options.map(() => undefined);
    let untried = false;
    // Options are tried cheapest first (an object is judged like a change; workloads that join
    // the mesh need a new index), so a budget spent on one does not starve the others; they are
    // printed in the rule's order.
    for (const i of options.map((_, i) => i).sort((a, b) => cost(options[a]!) - cost(options[b]!))) {
      for (const r of options[i]!) {
        const t = this.trial(r);
        if (t === undefined) untried = true;
        else if (t && clears(t)) {
          said[i] = r;
          break;
        }
      }
    }
    const held = said.filter((r): r is Remedy => r !== undefined);
    const proposed = options.flat();
    if (held.length) return { text: held.map((r) => r.says).join('; or '), held, proposed };
    return { text: untried ? FIXES_NOT_TRIED : NO_PROVEN_FIX, held, proposed };
  }

  /** The trial of a remedy: null when it breaks another connection, undefined when not tried. */
  private trial(r: Remedy): Trial | null | undefined {
    const key = remedyKey(r.change);
    if (this.#trials.has(key)) return this.#trials.get(key);
    if (this.overBudget?.()) return undefined;
    const t = r.change.kind === 'object' ? this.objectTrial(r.change) : this.enrolTrial(r.change);
    if (t !== undefined) this.#trials.set(key, t);
    return t;
  }

  private objectTrial(c: Extract<RemedyChange, { kind: 'object' }>): Trial | null | undefined {
    if (!this.evaluate) return undefined;
    const change: Change = { operation: c.operation, object: c.object };
    let ev: ReturnType<Evaluator>;
    try {
      ev = this.evaluate(this.after, change);
    } catch (e) {
      // Out of time for this change: the fix is not tried, and the judgement itself goes on.
      if (e instanceof BudgetExceededError) return undefined;
      throw e;
    }
    // Any connection that the remedy itself would break counts against it, whatever the evidence.
    if (ev.breaks) return null;
    return { idx: ev.after, moved: NO_MOVES };
  }

  private enrolTrial(c: Extract<RemedyChange, { kind: 'enrol' }>): Trial | null | undefined {
    const { after } = this;
    if (!this.evaluate) return undefined;
    const moved = new Map<Workload, Workload>();
    for (const w of c.workloads) moved.set(w, enrolled(w, c.mesh));
    const t: Trial = { idx: after.withWorkloads(moved), moved };
    const over = this.overBudget ?? never;
    const breaks = breaksAsClients(after, t, over) || breaksAsServers(after, t, over);
    return breaks === undefined ? undefined : breaks ? null : t;
  }
}

/** A workload as it is once it joins the mesh, as the injector or the ambient label would have it. */
export function enrolled(w: Workload, mesh: 'sidecar' | 'ambient'): Workload {
  if (mesh === 'ambient') {
    return {
      ...w,
      mesh,
      meshSignal: 'label istio.io/dataplane-mode=ambient (a fix)',
      labels: { ...w.labels, 'istio.io/dataplane-mode': 'ambient' },
    };
  }
  return {
    ...w,
    mesh,
    meshSignal: 'a sidecar injected (a fix)',
    predicted: true,
    labels: { ...w.labels, 'security.istio.io/tlsMode': 'istio' },
  };
}

const never = (): boolean => false;

/**
 * True when an enrolled workload loses a connection it had as a client; undefined when the budget
 * ran out first. Workloads that share a class on both sides are checked once.
 */
function breaksAsClients(after: MeshIndex, t: Trial, over: () => boolean): boolean | undefined {
  const pairs = new Map<string, [Workload, Workload]>();
  for (const [was, now] of t.moved) {
    const k = `${classKey(after, was)}\n${classKey(t.idx, now)}`;
    if (!pairs.has(k)) pairs.set(k, [was, now]);
  }
  for (const [was, now] of pairs.values()) {
    for (const svc of after.allServices()) {
      if (over()) return undefined;
      for (const port of svc.ports) if (lost(after, t.idx, classAt(after, was, svc), classAt(t.idx, now, svc), svc, port)) return true;
    }
  }
  return false;
}

/** True when a caller of an enrolled workload loses its connection: the workload's port may now be STRICT. */
function breaksAsServers(after: MeshIndex, t: Trial, over: () => boolean): boolean | undefined {
  const before = clientClasses(after).byKey;
  for (const svc of after.allServices()) {
    if (!after.endpoints(svc).some((w) => t.moved.has(w))) continue;
    if (over()) return undefined;
    for (const c of clientClasses(t.idx).byKey.values()) {
      const was = before.get(c.key);
      if (!was) continue;
      for (const port of svc.ports) if (lost(after, t.idx, classFor(after, was, svc), classFor(t.idx, c, svc), svc, port)) return true;
    }
  }
  return false;
}

function lost(
  after: MeshIndex,
  trial: MeshIndex,
  was: ReturnType<typeof classAt>,
  now: ReturnType<typeof classAt>,
  svc: Service,
  port: ServicePort,
): boolean {
  const o1 = outcomeAt(after, was, svc, port);
  if (!o1 || failed(o1)) return false;
  const o2 = outcomeAt(trial, now, svc, port);
  return o2 !== null && failed(o2);
}

/** True when every client of a finding reaches the service port on the trial mesh. */
export function clientsReach(t: Trial, members: readonly Workload[], svc: Service, port: ServicePort): boolean {
  if (members.length === 0) {
    const outside = clientClasses(t.idx).byKey.get(OUTSIDE_KEY);
    const o = outside ? outcomeAt(t.idx, classFor(t.idx, outside, svc), svc, port) : null;
    return o === null || !failed(o);
  }
  const seen = new Set<string>();
  for (const m of members) {
    const c = classAt(t.idx, t.moved.get(m) ?? m, svc);
    if (seen.has(c.key)) continue;
    seen.add(c.key);
    const o = outcomeAt(t.idx, c, svc, port);
    if (o && failed(o)) return false;
  }
  return true;
}

function cost(option: readonly Remedy[]): number {
  return option.some((r) => r.change.kind === 'enrol') ? 1 : 0;
}

function remedyKey(c: RemedyChange): string {
  if (c.kind === 'enrol') return `enrol ${c.mesh} ${c.workloads.map((w) => `${w.namespace}/${w.name}`).join(',')}`;
  const { origin: _origin, ...rest } = c.object;
  return `${c.operation} ${JSON.stringify(rest)}`;
}

/** The prover of an index, as `evaluateChange` installed it; one that tries nothing otherwise. */
export function proverOf(after: MeshIndex): Prover {
  return after.cached('own', 'prover', () => new Prover(after, undefined));
}

/** Installs the prover that findings on this index use. */
export function installProver(after: MeshIndex, p: Prover): void {
  after.cached('own', 'prover', () => p);
}
