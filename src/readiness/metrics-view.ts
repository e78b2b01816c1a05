/**
 * Readiness as gauge values, with the number of namespace series bounded: namespace names come
 * from the cluster, so a cluster with many namespaces must not grow /metrics without limit.
 */
import type { ReadinessRound } from './round.js';

/** The label value that sums the namespaces past the cap: no namespace can have it (`_` is not allowed in namespace names). */
export const OTHER_NAMESPACES = '_other';

/** The default number of namespaces with series of their own, the first by name. */
export const MAX_NAMESPACE_SERIES = 1000;

/** The gauges of one namespace (or of `_other`); a value is absent when it was not judged. */
export interface NamespaceGauges {
  readonly namespace: string;
  /** 1 when STRICT for the namespace would be allowed (for `_other`: for every one of them). */
  readonly ready?: 0 | 1;
  /** Findings that would deny STRICT there (a summary finding counts once). */
  readonly blocking?: number;
  /** Connections into the namespace that fail now. */
  readonly broken?: number;
}

/** Every readiness gauge of one round. */
export interface ReadinessGauges {
  readonly namespaces: readonly NamespaceGauges[];
  readonly mesh: { readonly ready: 0 | 1; readonly blocking: number; readonly broken: number | null };
  /** How many judged namespaces are ready and how many are blocked, over all of them (not capped). */
  readonly ready: number;
  readonly blocked: number;
}

/** The gauges of a round, with at most `maxNamespaces` namespace series plus `_other`. */
export function readinessGauges(
  round: Pick<ReadinessRound, 'namespaces' | 'mesh' | 'broken'>,
  maxNamespaces = MAX_NAMESPACE_SERIES,
): ReadinessGauges {
  const byNs = new Map<string, { ready?: 0 | 1; blocking?: number; broken?: number }>();
  for (const r of round.namespaces) {
    if (r.scope.kind !== 'namespace') continue;
    byNs.set(r.scope.namespace, { ready: r.ready ? 1 : 0, blocking: r.blocking.length, ...(round.broken ? { broken: 0 } : {}) });
  }
  let total = 0;
  for (const [ns, cs] of round.broken ?? []) {
    byNs.set(ns, { ...byNs.get(ns), broken: cs.length });
    total += cs.length;
  }
  const names = [...byNs.keys()].sort();
  const namespaces: NamespaceGauges[] = names.slice(0, maxNamespaces).map((namespace) => ({ namespace, ...byNs.get(namespace) }));
  const rest = names.slice(maxNamespaces).map((n) => byNs.get(n)!);
  if (rest.length) {
    const sum = (k: 'blocking' | 'broken'): number | undefined =>
      rest.some((g) => g[k] !== undefined) ? rest.reduce((a, g) => a + (g[k] ?? 0), 0) : undefined;
    const judged = rest.filter((g) => g.ready !== undefined);
    const blocking = sum('blocking');
    const broken = sum('broken');
    namespaces.push({
      namespace: OTHER_NAMESPACES,
      ...(judged.length ? { ready: judged.every((g) => g.ready === 1) ? 1 : 0 } : {}),
      ...(blocking !== undefined ? { blocking } : {}),
      ...(broken !== undefined ? { broken } : {}),
    });
  }
  const ready = round.namespaces.filter((r) => r.ready).length;
  return {
    namespaces,
    mesh: { ready: round.mesh.ready ? 1 : 0, blocking: round.mesh.blocking.length, broken: round.broken ? total : null },
    ready,
    blocked: round.namespaces.length - ready,
  };
}
