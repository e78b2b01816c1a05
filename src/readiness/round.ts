/**
 * One round of readiness: the engine's answers for a snapshot, gathered for the shells that publish
 * them (metrics and PolicyReports). The engine decides everything here; this file only asks it,
 * scope by scope and namespace by namespace, so that the caller can pause between the steps and
 * let admission requests through.
 */
import type { MeshIndex } from '../core/mesh/mesh-index.js';
import type { Evidence } from '../core/model/model.js';
import { namespacesToJudge, readinessOf, type Readiness } from '../core/plan/readiness.js';
import { simulate, simulateSize, type Connection } from '../core/evaluate.js';

/** How a round is judged. */
export interface RoundOptions {
  /** The deny threshold: findings at or above it block STRICT. */
  readonly denyOn: Evidence;
  /**
   * A fresh fix budget for each scope, true once proving fixes should stop. Each scope gets its
   * own, so that one namespace with many findings does not leave the others without fixes.
   */
  readonly fixBudget: () => () => boolean;
  /**
   * Above this many (client workload, service port) pairs, the connections failing now are not
   * computed: `simulate` costs about 7 µs a pair, so a mesh of 10,000 pods and 2,000 Services
   * (16 million pairs) would take minutes of CPU every round.
   */
  readonly maxConnections: number;
}

/** The default `maxConnections`: about 2 s of background CPU per round at most. */
export const MAX_SIMULATED_CONNECTIONS = 250_000;

/**
 * The readiness of one scope without the judgement behind it: a judgement holds the index after
 * the change and every index a fix was tried on, hundreds of MB over a large mesh's namespaces.
 */
export type ScopeReadiness = Pick<Readiness, 'scope' | 'already' | 'ready' | 'change' | 'blocking' | 'warnings'>;

function slim(r: Readiness): ScopeReadiness {
  return { scope: r.scope, already: r.already, ready: r.ready, change: r.change, blocking: r.blocking, warnings: r.warnings };
}

/** What one round found. */
export interface ReadinessRound {
  /** Readiness of every namespace with workloads (the root namespace is the mesh's), by name. */
  readonly namespaces: readonly ScopeReadiness[];
  readonly mesh: ScopeReadiness;
  /**
   * Connections that fail with the configuration as it is now, by the namespace of the service (or
   * pod) they go to; namespaces without any are absent. Null when the mesh had more pairs than
   * `maxConnections` and they were not computed.
   */
  readonly broken: ReadonlyMap<string, readonly Connection[]> | null;
  /** How many (client, service port) pairs the mesh has. */
  readonly pairs: number;
}

/** The namespace a `simulate` target lives in: `httpbin.foo` and `prometheus-0.monitoring (pod)` name it last. */
export function targetNamespace(service: string): string {
  const name = service.endsWith(' (pod)') ? service.slice(0, -' (pod)'.length) : service;
  // Namespace names are DNS labels, without dots: the text after the last dot is the namespace.
  return name.slice(name.lastIndexOf('.') + 1);
}

/**
 * Judges a round on one index, as a generator: each `yield` is a point where the caller may pause
 * (the publisher waits for the event loop there); `runRound` runs it straight through. The index
 * is immutable, so a round judges one snapshot even when a newer one arrives meanwhile.
 */
export function* judgeRound(idx: MeshIndex, opts: RoundOptions): Generator<void, ReadinessRound, void> {
  const namespaces: ScopeReadiness[] = [];
  for (const namespace of namespacesToJudge(idx)) {
    namespaces.push(slim(readinessOf(idx, { kind: 'namespace', namespace }, { denyOn: opts.denyOn, fixBudget: opts.fixBudget() })));
    yield;
  }
  // The mesh's findings are only counted (its gauges), never shown: no fix is tried for them.
  const mesh = slim(readinessOf(idx, { kind: 'mesh' }, { denyOn: opts.denyOn, fixBudget: () => true }));
  yield;
  const pairs = simulateSize(idx);
  if (pairs > opts.maxConnections) return { namespaces, mesh, broken: null, pairs };
  const broken = new Map<string, Connection[]>();
  const targets = new Set<string>();
  for (const s of idx.allServices()) targets.add(s.namespace);
  // Declared callers may scrape pods directly: their targets are in the workloads' namespaces.
  for (const w of idx.allWorkloads()) targets.add(w.namespace);
  for (const ns of [...targets].sort()) {
    const failing = simulate(idx, { service: (s) => targetNamespace(s) === ns }).filter((c) => c.outcome.code !== '200');
    if (failing.length) broken.set(ns, failing);
    yield;
  }
  return { namespaces, mesh, broken, pairs };
}

/** Runs a round to the end without pausing (tests, and callers that need no interleaving). */
export function runRound(idx: MeshIndex, opts: RoundOptions): ReadinessRound {
  const g = judgeRound(idx, opts);
  for (;;) {
    const step = g.next();
    if (step.done) return step.value;
  }
}
