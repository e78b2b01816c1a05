/**
 * What the engine says a change breaks: break sets (classes at ports, with their verdicts on each
 * side), and the one break per class and port that a finding reports, worded on first read.
 */
import type { Service, ServicePort, Workload } from '../model/model.js';
import { memoTable, type MeshIndex } from '../mesh/mesh-index.js';
import type { ClientClass } from '../traffic/classes.js';
import { classSignature, verdictOf, type ServerShape, type Verdict } from '../traffic/shapes.js';
import type { Outcome } from '../traffic/outcome.js';
import { outcomeAt } from '../traffic/connection.js';

const T_PORT_REFS = memoTable<ServicePort, PortRef>('static:portRefs');

/**
 * The one reference to a service port per snapshot. Port buckets hold them anyway, so break sets
 * that list thousands of ports share them rather than allocating their own.
 */
export function portRef(idx: MeshIndex, svc: Service, port: ServicePort): PortRef {
  const memo = idx.memo(T_PORT_REFS);
  let r = memo.get(port);
  if (!r) memo.set(port, (r = { svc, port }));
  return r;
}

/**
 * One breakage: a class (or one workload whose class the change moves) whose connection to a
 * service port goes from working to failing. `was` and `now` carry reasons and are written on
 * first read; the verdicts are known up front.
 */
export interface Break {
  readonly cls: ClientClass;
  /** Set when the break concerns one workload rather than a whole class. */
  readonly workload?: Workload;
  readonly service: Service;
  readonly port: ServicePort;
  readonly wasVerdict: Verdict;
  readonly nowVerdict: Verdict;
  readonly was: Outcome;
  readonly now: Outcome;
}

class LazyBreak implements Break {
  #was: Outcome | undefined;
  #now: Outcome | undefined;

  constructor(
    private readonly before: MeshIndex,
    private readonly after: MeshIndex,
    private readonly wasCls: ClientClass,
    readonly cls: ClientClass,
    readonly workload: Workload | undefined,
    readonly service: Service,
    readonly port: ServicePort,
    readonly wasVerdict: Verdict,
    readonly nowVerdict: Verdict,
  ) {}

  get was(): Outcome {
    return (this.#was ??= outcomeAt(this.before, this.wasCls, this.service, this.port)!);
  }

  get now(): Outcome {
    return (this.#now ??= outcomeAt(this.after, this.cls, this.service, this.port)!);
  }
}

/** A service port. */
export interface PortRef {
  readonly svc: Service;
  readonly port: ServicePort;
}

/**
 * Breaks with the same verdicts on each side at one or more service ports that share their DR
 * views: the classes of a signature group, or one workload that a DestinationRule change moves.
 * The engine works on these; a break per class and port is only made for the few that a finding
 * reports.
 */
export interface BreakSet {
  readonly at: readonly PortRef[];
  readonly wasVerdict: Verdict;
  readonly nowVerdict: Verdict;
  /** The classes after the change. */
  readonly classes: readonly ClientClass[];
  /** The same classes before it: `classes` itself unless the change rebuilt the classes. */
  readonly wasClasses: readonly ClientClass[];
  readonly workload?: Workload;
}

/** The break of class `i` of a set at its `k`-th port, with its outcomes worded on first read. */
export function breakAt(before: MeshIndex, after: MeshIndex, s: BreakSet, i: number, k: number): Break {
  const at = s.at[k]!;
  return new LazyBreak(before, after, s.wasClasses[i]!, s.classes[i]!, s.workload, at.svc, at.port, s.wasVerdict, s.nowVerdict);
}

/** The verdict of a class towards a port whose server shape is known. */
export function verdictAt(idx: MeshIndex, c: ClientClass, shape: ServerShape, svc: Service, port: ServicePort): Verdict {
  return verdictOf(idx, c, classSignature(idx, c, svc, port), shape, svc, port);
}
