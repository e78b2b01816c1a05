/**
 * The traffic matrix: every client (rows) against every service port (columns), with the outcome
 * `simulate` predicts for each pair. Clients that the engine evaluates as one class share one row
 * of outcomes, so the matrix of a 10,000-pod mesh holds a few dozen rows of outcomes rather than
 * millions of cells; `cellAt` gives the outcome of any (client, column) pair.
 */
import type { MeshIndex } from '../core/mesh/mesh-index.js';
import { serviceLabel, type MeshKind, type OutcomeCode, type Service, type ServicePort, type Workload } from '../core/model/model.js';
import { simulate, type Connection } from '../core/evaluate.js';
import { isControlPlane } from '../core/mesh/membership.js';
import { classFor, classKey, clientClasses, type ClientClass } from '../core/traffic/classes.js';
import { outcomeAt } from '../core/traffic/connection.js';
import type { Outcome } from '../core/traffic/outcome.js';

/** The namespace that callers from outside the mesh (the API server, ingress controllers, Prometheus) are listed under. */
export const OUTSIDE_NAMESPACE = '(outside the mesh)';

/** One row of the matrix: a client workload (`name.namespace`) or a declared caller from outside the mesh. */
export interface MatrixClient {
  readonly id: string;
  readonly namespace: string;
  readonly kind: MeshKind | 'outside';
}

/** One column: a service port, or a pod's container port for declared callers that target pods (`name.ns (pod)`). */
export interface MatrixColumn {
  readonly service: string;
  readonly namespace: string;
  readonly port: number;
}

/** A predicted outcome: the code, curl's exit code for 000, and the engine's reason. */
export interface CellOutcome {
  readonly code: OutcomeCode;
  readonly exit?: number;
  readonly reason: string;
}

/**
 * The outcomes on one mesh: `rows[rowOf[client]][column]` is an index into `TrafficMatrix.outcomes`,
 * or -1 where there is no connection (a declared caller reaches only what it declares).
 */
export interface MatrixState {
  readonly rowOf: readonly number[];
  readonly rows: readonly (readonly number[])[];
}

/** The whole matrix: clients and columns sorted by name, outcomes interned, before and (with a change) after. */
export interface TrafficMatrix {
  readonly clients: readonly MatrixClient[];
  readonly columns: readonly MatrixColumn[];
  readonly outcomes: readonly CellOutcome[];
  readonly before: MatrixState;
  readonly after?: MatrixState;
}

/** How bad an outcome code is: 200 < 503 < 000. */
export const CODE_RANK: Readonly<Record<OutcomeCode, number>> = { '200': 0, '503': 1, '000': 2 };

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function columnKey(service: string, port: number): string {
  return `${service}:${port}`;
}

/**
 * The namespace of a declared caller's target, `name.ns` or `name.ns (pod)`: the longest known
 * namespace it ends with (names from manifests are not trusted to be DNS labels), else the text
 * after the last dot.
 */
function namespaceOf(service: string, known: readonly string[]): string {
  const name = service.endsWith(' (pod)') ? service.slice(0, -' (pod)'.length) : service;
  const match = known.filter((ns) => name.endsWith(`.${ns}`)).sort((a, b) => b.length - a.length)[0];
  return match ?? name.slice(name.lastIndexOf('.') + 1);
}

/** Interns outcomes so that a reason shared by thousands of cells is stored once. */
class Outcomes {
  readonly list: CellOutcome[] = [];
  private readonly ids = new Map<string, number>();

  id(o: Outcome): number {
    const key = `${o.code}|${o.exit ?? ''}|${o.reason}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.list.length;
      this.ids.set(key, id);
      this.list.push({ code: o.code, ...(o.exit !== undefined ? { exit: o.exit } : {}), reason: o.reason });
    }
    return id;
  }
}

function worse(a: Outcome | null, b: Outcome | null): Outcome | null {
  if (!a) return b;
  if (!b) return a;
  return CODE_RANK[b.code] > CODE_RANK[a.code] ? b : a;
}

interface Clients {
  readonly list: MatrixClient[];
  /** The workloads behind each workload client (two workloads can share `name.namespace`). */
  readonly workloads: Map<string, Workload[]>;
}

function clientsOf(idx: MeshIndex, declared: readonly Connection[]): Clients {
  const workloads = new Map<string, Workload[]>();
  for (const w of idx.allWorkloads()) {
    if (isControlPlane(w.labels)) continue;
    const id = `${w.name}.${w.namespace}`;
    const l = workloads.get(id);
    if (l) l.push(w);
    else workloads.set(id, [w]);
  }
  const list: MatrixClient[] = [...workloads].map(([id, ws]) => ({ id, namespace: ws[0]!.namespace, kind: ws[0]!.mesh }));
  for (const id of new Set(declared.map((c) => c.client))) list.push({ id, namespace: OUTSIDE_NAMESPACE, kind: 'outside' });
  list.sort((a, b) => (a.kind === 'outside' ? 1 : 0) - (b.kind === 'outside' ? 1 : 0) || cmp(a.id, b.id));
  return { list, workloads };
}

/** The connections of declared callers from outside the mesh: `simulate` with every workload filtered out. */
function declaredConnections(idx: MeshIndex, workloadIds: ReadonlySet<string>): Connection[] {
  return simulate(idx, { client: (c) => !workloadIds.has(c) });
}

function columnsOf(idxs: readonly MeshIndex[], declared: readonly Connection[]): MatrixColumn[] {
  const byKey = new Map<string, MatrixColumn>();
  const add = (service: string, namespace: string, port: number): void => {
    const k = columnKey(service, port);
    if (!byKey.has(k)) byKey.set(k, { service, namespace, port });
  };
  const known = new Set<string>();
  for (const idx of idxs) {
    for (const svc of idx.allServices()) {
      known.add(svc.namespace);
      for (const p of svc.ports) add(serviceLabel(svc), svc.namespace, p.port);
    }
    for (const w of idx.allWorkloads()) known.add(w.namespace);
  }
  const knownList = [...known];
  for (const c of declared) add(c.service, namespaceOf(c.service, knownList), c.port);
  return [...byKey.values()].sort((a, b) => cmp(a.service, b.service) || a.port - b.port);
}

/** The outcomes of every client on one mesh, one row per distinct set of client classes. */
function stateOf(
  idx: MeshIndex,
  clients: Clients,
  columns: readonly MatrixColumn[],
  declared: readonly Connection[],
  outcomes: Outcomes,
): MatrixState {
  const ports = new Map<string, { svc: Service; port: ServicePort }[]>();
  for (const svc of idx.allServices()) {
    for (const port of svc.ports) {
      const k = columnKey(serviceLabel(svc), port.port);
      const l = ports.get(k);
      if (l) l.push({ svc, port });
      else ports.set(k, [{ svc, port }]);
    }
  }
  const at = columns.map((c) => ports.get(columnKey(c.service, c.port)) ?? []);
  const classes = clientClasses(idx);
  const rows: number[][] = [];
  const rowByKey = new Map<string, number>();
  const classRow = (bases: readonly ClientClass[]): number[] =>
    at.map((targets) => {
      let worst: Outcome | null = null;
      for (const { svc, port } of targets)
        for (const base of bases) worst = worse(worst, outcomeAt(idx, classFor(idx, base, svc), svc, port));
      return worst ? outcomes.id(worst) : -1;
    });
  const colIndex = new Map(columns.map((c, i) => [columnKey(c.service, c.port), i]));
  const declaredBy = new Map<string, Connection[]>();
  for (const c of declared) {
    const l = declaredBy.get(c.client);
    if (l) l.push(c);
    else declaredBy.set(c.client, [c]);
  }
  const rowOf = clients.list.map((client) => {
    const key =
      client.kind === 'outside'
        ? `outside|${client.id}`
        : [...new Set(clients.workloads.get(client.id)!.map((w) => classKey(idx, w)))].sort().join('\n');
    let row = rowByKey.get(key);
    if (row === undefined) {
      let cells: number[];
      if (client.kind === 'outside') {
        cells = columns.map(() => -1);
        for (const c of declaredBy.get(client.id) ?? []) cells[colIndex.get(columnKey(c.service, c.port))!] = outcomes.id(c.outcome);
      } else {
        cells = classRow(key.split('\n').map((k) => classes.byKey.get(k)!));
      }
      row = rows.length;
      rows.push(cells);
      rowByKey.set(key, row);
    }
    return row;
  });
  return { rowOf, rows };
}

/**
 * The traffic matrix of a mesh and, when `after` is given, of the mesh after a change: the same
 * clients and columns, each with its outcome on both. Every cell is the outcome `simulate` gives
 * for that client and service port, computed once per client class.
 */
export function buildMatrix(before: MeshIndex, after?: MeshIndex): TrafficMatrix {
  const workloadIds = new Set<string>();
  for (const w of before.allWorkloads()) if (!isControlPlane(w.labels)) workloadIds.add(`${w.name}.${w.namespace}`);
  const declaredBefore = declaredConnections(before, workloadIds);
  const declaredAfter = after ? declaredConnections(after, workloadIds) : [];
  const clients = clientsOf(before, [...declaredBefore, ...declaredAfter]);
  const columns = columnsOf(after ? [before, after] : [before], [...declaredBefore, ...declaredAfter]);
  const outcomes = new Outcomes();
  const b = stateOf(before, clients, columns, declaredBefore, outcomes);
  const a = after ? stateOf(after, clients, columns, declaredAfter, outcomes) : undefined;
  return { clients: clients.list, columns, outcomes: outcomes.list, before: b, ...(a ? { after: a } : {}) };
}

/** The outcome of one client towards one column on one state, or undefined where there is no connection. */
export function cellAt(m: TrafficMatrix, state: MatrixState, client: number, column: number): CellOutcome | undefined {
  const id = state.rows[state.rowOf[client]!]![column]!;
  return id < 0 ? undefined : m.outcomes[id];
}

/** Connections by outcome code. */
export interface Counts {
  readonly total: number;
  readonly counts: Readonly<Record<OutcomeCode, number>>;
}

/** The matrix's connections by outcome before and (with a change) after, and how many the change alters or breaks. */
export interface Totals {
  readonly before: Counts;
  readonly after?: Counts;
  /** Connections whose code differs after the change. */
  readonly changed: number;
  /** Connections that work before the change and fail after it. */
  readonly broken: number;
}

/** Sums the matrix, once per distinct pair of rows rather than per client. */
export function connectionTotals(m: TrafficMatrix): Totals {
  const after = m.after ?? m.before;
  const pairs = new Map<string, { b: number; a: number; n: number }>();
  m.clients.forEach((_, i) => {
    const b = m.before.rowOf[i]!;
    const a = after.rowOf[i]!;
    const p = pairs.get(`${b} ${a}`);
    if (p) p.n++;
    else pairs.set(`${b} ${a}`, { b, a, n: 1 });
  });
  const cb = { total: 0, counts: { '200': 0, '503': 0, '000': 0 } };
  const ca = { total: 0, counts: { '200': 0, '503': 0, '000': 0 } };
  let changed = 0;
  let broken = 0;
  for (const { b, a, n } of pairs.values()) {
    const rb = m.before.rows[b]!;
    const ra = after.rows[a]!;
    for (let j = 0; j < m.columns.length; j++) {
      const ob = rb[j]! < 0 ? undefined : m.outcomes[rb[j]!]!.code;
      const oa = ra[j]! < 0 ? undefined : m.outcomes[ra[j]!]!.code;
      if (ob) {
        cb.total += n;
        cb.counts[ob] += n;
      }
      if (oa) {
        ca.total += n;
        ca.counts[oa] += n;
      }
      if (ob !== oa) {
        changed += n;
        if (ob === '200') broken += n;
      }
    }
  }
  return { before: cb, ...(m.after ? { after: ca } : {}), changed, broken };
}
