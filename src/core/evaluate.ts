import type { Change, DestinationRule, Evidence, IstioObject, MeshKind, Service, ServicePort, Workload } from './model.js';
import { objectRef } from './model.js';
import type { MeshIndex } from './index.js';
import { isEmptySelector, selectorMatches } from './index.js';
import { clientClasses, classKey, OUTSIDE_KEY, type ClientClass } from './classes.js';
import { connectionOutcome, drFor, failed, type ClientRep, type Outcome } from './outcome.js';
import { drHost } from './destination-rule.js';
import { hostMatches, resolveShortName, serviceFqdn } from './hosts.js';
import { evidenceFor, isCertain, unknownPlaintextInto } from './evidence.js';
import type { RawFinding } from './findings.js';
import { CONNECTION_RULES, CONFIG_RULES } from './rules/index.js';
import type { BreakContext } from './rules/rule.js';

/** One simulated connection. */
export interface Connection {
  /** `workload.namespace` */
  readonly client: string;
  readonly clientKind: MeshKind;
  /** `service.namespace` */
  readonly service: string;
  readonly port: number;
  readonly outcome: Outcome;
}

/** Every (client workload, service port) outcome of a snapshot, sorted (DESIGN.md §7 `simulate`). */
export function simulate(idx: MeshIndex): Connection[] {
  const out: Connection[] = [];
  const classes = [...clientClasses(idx).values()].filter((c) => c.members.length > 0);
  for (const svc of idx.allServices()) {
    for (const port of svc.ports) {
      for (const c of classes) {
        const o = connectionOutcome(idx, c.rep, drFor(idx, c.key, c.rep, svc, port), svc, port);
        if (!o) continue;
        for (const w of c.members) {
          out.push({ client: `${w.name}.${w.namespace}`, clientKind: w.mesh, service: `${svc.name}.${svc.namespace}`, port: port.port, outcome: o });
        }
      }
    }
  }
  return dedupe(out).sort((a, b) => cmp(a.client, b.client) || cmp(a.service, b.service) || a.port - b.port);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Two pods of one owner with different shapes give one line: the worst. */
function dedupe(list: Connection[]): Connection[] {
  const m = new Map<string, Connection>();
  const rank = { '200': 0, '503': 1, '000': 2 } as const;
  for (const c of list) {
    const k = `${c.client} ${c.service}:${c.port}`;
    const prev = m.get(k);
    if (!prev || rank[c.outcome.code] > rank[prev.outcome.code]) m.set(k, c);
  }
  return [...m.values()];
}

/** The Services whose outcomes an object can change, on either side of the connection. */
export function servicesTouchedBy(idx: MeshIndex, o: IstioObject): Set<Service> {
  const all = (): Set<Service> => new Set(idx.allServices());
  switch (o.kind) {
    case 'MeshPolicy':
      return all();
    case 'PeerAuthentication': {
      if (o.namespace === idx.root && isEmptySelector(o.selector)) return all();
      if (isEmptySelector(o.selector)) return new Set(idx.services(o.namespace));
      const s = new Set<Service>();
      for (const w of idx.workloads(o.namespace)) if (selectorMatches(o.selector!, w.labels)) for (const svc of idx.servicesOf(w)) s.add(svc);
      return s;
    }
    case 'Policy': {
      if (o.targets.length === 0) return new Set(idx.services(o.namespace));
      const s = new Set<Service>();
      for (const t of o.targets) {
        const svc = idx.serviceByFqdn(resolveShortName(t.name, o.namespace, idx.mesh.clusterDomain));
        if (svc) s.add(svc);
      }
      return s;
    }
    case 'DestinationRule':
      return servicesMatchedBy(idx, o);
  }
}

function servicesMatchedBy(idx: MeshIndex, dr: DestinationRule): Set<Service> {
  const host = drHost(idx, dr);
  if (!host.startsWith('*')) {
    const svc = idx.serviceByFqdn(host);
    return new Set(svc ? [svc] : []);
  }
  const s = new Set<Service>();
  for (const svc of idx.allServices()) if (hostMatches(host, serviceFqdn(svc.name, svc.namespace, idx.mesh.clusterDomain))) s.add(svc);
  return s;
}

/** Workloads grouped by their class before and after the change. */
interface Group {
  readonly before: ClientClass;
  readonly after: ClientClass;
  readonly members: Workload[];
}

function groups(before: MeshIndex, after: MeshIndex, change: Change): Group[] {
  const bc = clientClasses(before);
  // Only DestinationRules can move a workload to another class.
  if (change.object.kind !== 'DestinationRule') return [...bc.values()].map((c) => ({ before: c, after: c, members: c.members }));
  const ac = clientClasses(after);
  const out = new Map<string, Group>();
  out.set(`${OUTSIDE_KEY}>${OUTSIDE_KEY}`, { before: bc.get(OUTSIDE_KEY)!, after: ac.get(OUTSIDE_KEY)!, members: [] });
  for (const w of before.allWorkloads()) {
    const bk = classKey(before, w).key;
    const ak = classKey(after, w).key;
    const k = `${bk}>${ak}`;
    let g = out.get(k);
    if (!g) out.set(k, g = { before: bc.get(bk)!, after: ac.get(ak)!, members: [] });
    g.members.push(w);
  }
  return [...out.values()];
}

/** One class-level breakage before it is expanded into findings. */
interface Break {
  readonly group: Group;
  readonly service: Service;
  readonly port: ServicePort;
  readonly was: Outcome;
  readonly now: Outcome;
}

function outcomeFor(idx: MeshIndex, c: ClientClass, svc: Service, port: ServicePort): Outcome | null {
  const rep: ClientRep = c.rep;
  return connectionOutcome(idx, rep, drFor(idx, c.key, rep, svc, port), svc, port);
}

/** The connections that go from working to failing with a change. */
export function breakingConnections(before: MeshIndex, after: MeshIndex, change: Change): Break[] {
  const touched = servicesTouchedBy(after, change.object);
  const prev = before.find(change.object);
  if (prev) for (const s of servicesTouchedBy(before, prev)) touched.add(s);
  const out: Break[] = [];
  const gs = groups(before, after, change);
  for (const svc of touched) {
    for (const port of svc.ports) {
      for (const g of gs) {
        const was = outcomeFor(before, g.before, svc, port);
        if (!was || failed(was)) continue;
        const now = outcomeFor(after, g.after, svc, port);
        if (now && failed(now)) out.push({ group: g, service: svc, port, was, now });
      }
    }
  }
  return out;
}

const KIND_WORDS: Record<MeshKind, string> = { none: 'without a sidecar', sidecar: 'with a sidecar', ambient: 'in ambient mode' };

function expand(before: MeshIndex, after: MeshIndex, change: Change, b: Break): RawFinding[] {
  const out: RawFinding[] = [];
  const certain = isCertain(b.now);
  const rule = CONNECTION_RULES.get(b.now.cause!);
  const svcLabel = `${b.service.name}.${b.service.namespace}`;
  const mk = (client: string, ns: string, workload: string | undefined, evidence: Evidence, detail: string | undefined, clients?: string[]): RawFinding => {
    const ctx: BreakContext = { before, after, change, client, clientNamespace: ns, clientWorkload: workload, service: b.service, port: b.port, was: b.was, now: b.now };
    const exit = b.now.exit !== undefined ? `, curl exit ${b.now.exit}` : '';
    return {
      code: b.now.cause!, evidence, client, service: svcLabel, port: b.port.port, before: b.was.code, after: b.now.code,
      ...(b.now.exit !== undefined ? { exit: b.now.exit } : {}),
      message: `${client} -> ${svcLabel}:${b.port.port} (${b.was.code} → ${b.now.code}${exit})`,
      reason: b.now.reason, fix: rule?.fix(ctx) ?? '',
      ...(clients ? { clients } : {}), ...(detail ? { evidenceDetail: detail } : {}),
    };
  };
  const summarised = new Map<string, { ws: Workload[]; level: Evidence; detail?: string }>();
  for (const w of b.group.members) {
    const ev = certain ? { level: 'certain' as const, detail: certain } : evidenceFor(after, w, b.service);
    if (ev.level === 'observed' || ev.level === 'declared') {
      out.push(mk(`${w.name}.${w.namespace}`, w.namespace, w.name, ev.level, ev.detail));
      continue;
    }
    const k = w.namespace;
    const s = summarised.get(k) ?? { ws: [], level: ev.level, ...(ev.detail ? { detail: ev.detail } : {}) };
    s.ws.push(w);
    summarised.set(k, s);
  }
  for (const [ns, s] of summarised) {
    const only = s.ws.length === 1 ? s.ws[0]! : undefined;
    const label = only ? `${only.name}.${ns}` : `${s.ws.length} workloads ${KIND_WORDS[s.ws[0]!.mesh]} in ${ns}`;
    out.push(mk(label, ns, only?.name, s.level, s.detail, only ? undefined : s.ws.map((w) => `${w.name}.${w.namespace}`)));
  }
  if (b.group.before.key === OUTSIDE_KEY) {
    const unknown = unknownPlaintextInto(after, b.service);
    if (unknown) out.push(mk('unknown (a caller outside the mesh)', '', undefined, 'observed', unknown.detail));
  }
  return out;
}

/** The result of judging one change. */
export interface ChangeEvaluation {
  readonly object: IstioObject;
  readonly operation: Change['operation'];
  readonly findings: readonly RawFinding[];
  /** The index after the change, for judging the next object of a multi-object change. */
  readonly after: MeshIndex;
}

/** Judges one change against a snapshot: which connections break, and the config warnings. */
export function evaluateChange(before: MeshIndex, change: Change): ChangeEvaluation {
  const after = before.apply(change);
  const findings: RawFinding[] = [];
  for (const b of breakingConnections(before, after, change)) findings.push(...expand(before, after, change, b));
  for (const r of CONFIG_RULES) findings.push(...r.check(before, after, change));
  return { object: change.object, operation: change.operation, findings: sortFindings(findings), after };
}

const EVIDENCE_RANK: Record<Evidence, number> = { certain: 0, observed: 1, declared: 2, possible: 3 };

function sortFindings(f: RawFinding[]): RawFinding[] {
  return f.sort((a, b) => EVIDENCE_RANK[a.evidence] - EVIDENCE_RANK[b.evidence] || cmp(a.code, b.code)
    || cmp(a.client, b.client) || cmp(a.service, b.service) || (a.port ?? 0) - (b.port ?? 0));
}

/** A short description of a change for messages: `PeerAuthentication foo/default (STRICT)`. */
export function describeChange(change: Change): string {
  const o = change.object;
  let what = '';
  if (o.kind === 'PeerAuthentication') what = ` (${o.mode})`;
  else if (o.kind === 'DestinationRule') what = ` (${o.host}${o.trafficPolicy?.tls ? ` ${o.trafficPolicy.tls.mode}` : ''})`;
  else what = ` (${o.mode})`;
  return `${change.operation} ${objectRef(o)}${what}`;
}
