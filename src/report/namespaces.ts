/**
 * The namespace matrix: client namespaces by service namespaces, each pair with its number of
 * connections, how many fail, its worst outcome and, with a change, how many change. It stands in
 * for the full matrix when that would be too large to show.
 */
import type { OutcomeCode } from '../core/model/model.js';
import { CODE_RANK, OUTSIDE_NAMESPACE, type TrafficMatrix } from './matrix.js';

/** The connections from one client namespace to one service namespace. */
export interface PairSummary {
  readonly total: number;
  /** Connections by outcome code (after the change, when there is one). */
  readonly counts: Readonly<Record<OutcomeCode, number>>;
  /** The worst outcome (after the change, when there is one); null when the pair has no connection. */
  readonly worst: OutcomeCode | null;
  /** The worst outcome before the change; equal to `worst` without a change. */
  readonly worstBefore: OutcomeCode | null;
  /** Connections whose code the change alters. */
  readonly changed: number;
  /** Connections that work before the change and fail after it. */
  readonly broken: number;
}

/** The namespace matrix, with the namespaces of each axis that were left out to keep it small. */
export interface NamespaceMatrix {
  /** Client namespaces (rows) and service namespaces (columns) shown, sorted, callers from outside the mesh last. */
  readonly clientNamespaces: readonly string[];
  readonly serviceNamespaces: readonly string[];
  /** `pairs[row][column]`. */
  readonly pairs: readonly (readonly PairSummary[])[];
  /** How many namespaces of each axis are not shown (only those with the fewest failures are left out). */
  readonly hidden: { readonly clients: number; readonly services: number };
}

/** More namespaces than this on an axis are cut to the ones with the most failing or changing connections. */
export const MAX_NAMESPACE_AXIS = 250;

const EMPTY: PairSummary = { total: 0, counts: { '200': 0, '503': 0, '000': 0 }, worst: null, worstBefore: null, changed: 0, broken: 0 };

interface MutablePair {
  total: number;
  counts: Record<OutcomeCode, number>;
  worst: OutcomeCode | null;
  worstBefore: OutcomeCode | null;
  changed: number;
  broken: number;
}

function worse(a: OutcomeCode | null, b: OutcomeCode): OutcomeCode {
  return a === null || CODE_RANK[b] > CODE_RANK[a] ? b : a;
}

/** Compares names with their digit runs by value (`ns-2` before `ns-10`); equal values fall back to code points. */
export function naturalCompare(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    // Split on a capturing group, the odd parts are the digit runs.
    if (i % 2 === 1) {
      const nx = x.replace(/^0+(?=\d)/, '');
      const ny = y.replace(/^0+(?=\d)/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The namespaces of the matrix in display order: by name with numbers by value, callers from outside the mesh last. */
export function namespaceOrder(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => (a === OUTSIDE_NAMESPACE ? 1 : 0) - (b === OUTSIDE_NAMESPACE ? 1 : 0) || naturalCompare(a, b));
}

/** Sums the matrix per (client namespace, service namespace), in time proportional to namespaces × row kinds × columns. */
export function summarizeNamespaces(m: TrafficMatrix, maxAxis = MAX_NAMESPACE_AXIS): NamespaceMatrix {
  const clientNs = namespaceOrder(m.clients.map((c) => c.namespace));
  const serviceNs = namespaceOrder(m.columns.map((c) => c.namespace));
  const row = new Map(clientNs.map((n, i) => [n, i]));
  const colNsIndex = m.columns.map((c) => serviceNs.indexOf(c.namespace));
  const pairs: MutablePair[][] = clientNs.map(() =>
    serviceNs.map(() => ({ total: 0, counts: { '200': 0, '503': 0, '000': 0 }, worst: null, worstBefore: null, changed: 0, broken: 0 })),
  );
  // Clients of a namespace that share their rows before and after count together.
  const groups = new Map<string, { ns: number; before: number; after: number; n: number }>();
  const after = m.after ?? m.before;
  m.clients.forEach((c, i) => {
    const ns = row.get(c.namespace)!;
    const b = m.before.rowOf[i]!;
    const a = after.rowOf[i]!;
    const k = `${ns} ${b} ${a}`;
    const g = groups.get(k);
    if (g) g.n++;
    else groups.set(k, { ns, before: b, after: a, n: 1 });
  });
  for (const g of groups.values()) {
    const rb = m.before.rows[g.before]!;
    const ra = after.rows[g.after]!;
    const out = pairs[g.ns]!;
    for (let j = 0; j < m.columns.length; j++) {
      const ia = ra[j]!;
      const ib = rb[j]!;
      if (ia < 0 && ib < 0) continue;
      const p = out[colNsIndex[j]!]!;
      p.total += g.n;
      const codeA = ia < 0 ? null : m.outcomes[ia]!.code;
      const codeB = ib < 0 ? null : m.outcomes[ib]!.code;
      if (codeA) {
        p.counts[codeA] += g.n;
        p.worst = worse(p.worst, codeA);
      }
      if (codeB) p.worstBefore = worse(p.worstBefore, codeB);
      if (codeA !== codeB) {
        p.changed += g.n;
        if (codeB === '200' && codeA !== '200') p.broken += g.n;
      }
    }
  }
  const failing = (p: PairSummary): number => p.total - p.counts['200'] + p.changed;
  const keepRows = keep(clientNs.length, maxAxis, (i) => pairs[i]!.reduce((n, p) => n + failing(p), 0));
  const keepCols = keep(serviceNs.length, maxAxis, (j) => pairs.reduce((n, r) => n + failing(r[j]!), 0));
  return {
    clientNamespaces: keepRows.map((i) => clientNs[i]!),
    serviceNamespaces: keepCols.map((j) => serviceNs[j]!),
    pairs: keepRows.map((i) => keepCols.map((j) => (pairs[i]![j]!.total === 0 ? EMPTY : pairs[i]![j]!))),
    hidden: { clients: clientNs.length - keepRows.length, services: serviceNs.length - keepCols.length },
  };
}

/** The indexes to keep, in their order: all of them, or the `max` with the highest weight. */
function keep(n: number, max: number, weight: (i: number) => number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return all;
  const w = all.map(weight);
  const chosen = new Set([...all].sort((a, b) => w[b]! - w[a]! || a - b).slice(0, max));
  return all.filter((i) => chosen.has(i));
}
