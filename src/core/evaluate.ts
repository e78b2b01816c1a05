import type { Change, DestinationRule, Evidence, IstioObject, MeshKind, Service, ServicePort, Workload } from './model.js';
import { objectRef } from './model.js';
import { BudgetExceededError } from './errors.js';
import { memoTable, type MeshIndex } from './index.js';
import { isEmptySelector, selectorMatches } from './index.js';
import { classAt, classesAt, classFor, classKey, clientClasses, OUTSIDE_KEY, representedAt, representedTotals, viewsMatching, type ClientClass } from './classes.js';
import { classSignature, knownVerdict, serverShape, shapeWithBase, sharedRule, sharedRuleAfter, sharedSignature, signatureGroups, verdictOf, type ServerShape, type SignatureGroup, type Verdict } from './shapes.js';
import { connectionOutcome, drFor, type Outcome } from './outcome.js';
import { namespaceBase, namespaceMode, namespacePeerAuth, serverMode, type ResolvedMode } from './peer-auth.js';
import { drHost, ownNamespaceDecides, seesAllOwnRules } from './destination-rule.js';
import { hostMatches, resolveShortName } from './hosts.js';
import { callersOf, evidenceFor, isCertain, unknownPlaintextInto, type EvidenceResult } from './evidence.js';
import { callerDetail, containerPortOf, declaredCallerFix, declaredCallersInto, plaintextAccepted, podTargets, type PodTarget } from './callers.js';
import type { RawFinding } from './findings.js';
import { CONNECTION_RULES, CONFIG_RULES } from './rules/index.js';
import type { BreakContext } from './rules/rule.js';

const T_CLASS_NAMES = memoTable<readonly Workload[], string[]>('views', 'classNames');
const T_OUTCOME = memoTable<ServicePort, Map<string, Outcome | null>>('own', 'outcome');
const T_UNDECIDED = memoTable<Service, readonly ClientClass[]>('dr', 'undecided');

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

/** The memoised outcome of a class towards a service port. */
export function outcomeAt(idx: MeshIndex, c: ClientClass, svc: Service, port: ServicePort): Outcome | null {
  const memo = idx.memo(T_OUTCOME);
  let perPort = memo.get(port);
  if (!perPort) memo.set(port, perPort = new Map());
  let o = perPort.get(c.key);
  if (o === undefined) perPort.set(c.key, o = connectionOutcome(idx, c.rep, drFor(idx, c.drKey, c.rep, svc, port), svc, port));
  return o;
}

/** Which connections `simulate` computes: by client (`workload.namespace`) and by service (`name.namespace`, port). */
export interface SimulateFilter {
  readonly client?: (client: string) => boolean;
  readonly service?: (service: string, port: number) => boolean;
}

/** How many connections `simulate` would compute with a filter, before computing any. */
export function simulateSize(idx: MeshIndex, f: SimulateFilter = {}): number {
  const clients = idx.allWorkloads().filter((w) => !f.client || f.client(`${w.name}.${w.namespace}`)).length;
  let ports = 0;
  for (const svc of idx.allServices()) for (const p of svc.ports) if (!f.service || f.service(`${svc.name}.${svc.namespace}`, p.port)) ports++;
  return clients * ports;
}

/** Every (client workload, service port) outcome of a snapshot that passes the filter, sorted (DESIGN.md §7 `simulate`). */
export function simulate(idx: MeshIndex, f: SimulateFilter = {}): Connection[] {
  const out: Connection[] = [];
  const clients = idx.allWorkloads().filter((w) => !f.client || f.client(`${w.name}.${w.namespace}`));
  for (const svc of idx.allServices()) {
    const label = `${svc.name}.${svc.namespace}`;
    for (const port of svc.ports) {
      if (f.service && !f.service(label, port.port)) continue;
      for (const w of clients) {
        const o = outcomeAt(idx, classAt(idx, w, svc), svc, port);
        if (o) out.push({ client: `${w.name}.${w.namespace}`, clientKind: w.mesh, service: label, port: port.port, outcome: o });
      }
    }
  }
  out.push(...declaredConnections(idx).filter((c) => (!f.client || f.client(c.client)) && (!f.service || f.service(c.service, c.port))));
  return dedupe(out).sort((a, b) => cmp(a.client, b.client) || cmp(a.service, b.service) || a.port - b.port);
}

/** The declared callers from outside the mesh, as clients: `kube-apiserver to kyverno-svc.kyverno:443`. */
function declaredConnections(idx: MeshIndex): Connection[] {
  const out: Connection[] = [];
  if (!idx.data.callers?.length) return out;
  const outside = clientClasses(idx).byKey.get(OUTSIDE_KEY);
  for (const svc of idx.allServices()) {
    for (const port of svc.ports) {
      for (const c of declaredCallersInto(idx, svc, port)) {
        const o = outside ? outcomeAt(idx, outside, svc, port) : null;
        if (o) out.push({ client: c.client, clientKind: 'none', service: `${svc.name}.${svc.namespace}`, port: port.port, outcome: o });
      }
    }
  }
  for (const p of podTargets(idx)) {
    out.push({ client: p.caller.client, clientKind: 'none', service: `${p.workload.name}.${p.workload.namespace} (pod)`, port: p.containerPort, outcome: podOutcome(idx, p) });
  }
  return out;
}

/** What a plaintext scrape of a pod port gets: through, or reset by a STRICT sidecar. */
function podOutcome(idx: MeshIndex, p: PodTarget): Outcome {
  const ok = plaintextAccepted(idx, p.workload, p.containerPort);
  const mode = serverMode(idx, p.workload, p.containerPort);
  return ok
    ? { code: '200', reason: `${p.workload.name}.${p.workload.namespace} port ${p.containerPort} accepts plaintext`, tlsMode: 'DISABLE' }
    : { code: '000', exit: 56, cause: p.workload.mesh === 'ambient' ? 'MG107' : 'MG101', tlsMode: 'DISABLE', serverSource: mode.source,
      reason: `${p.caller.client} has no sidecar and sends plaintext; ${p.workload.name}.${p.workload.namespace} port ${p.containerPort} is STRICT (${mode.source}) and refuses plaintext` };
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
export function servicesTouchedBy(idx: MeshIndex, o: IstioObject): ReadonlySet<Service> | readonly Service[] {
  switch (o.kind) {
    case 'MeshPolicy':
      return idx.allServices();
    case 'PeerAuthentication': {
      if (o.namespace === idx.root && isEmptySelector(o.selector)) return meshLevelReach(idx);
      if (isEmptySelector(o.selector)) return idx.services(o.namespace);
      const s = new Set<Service>();
      for (const w of idx.workloads(o.namespace)) if (selectorMatches(o.selector!, w.labels)) for (const svc of idx.servicesOf(w)) s.add(svc);
      return s;
    }
    case 'Policy': {
      if (o.targets.length === 0) return idx.services(o.namespace);
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

/**
 * The Services a mesh-level PeerAuthentication can reach: with PeerAuthentication alone in force,
 * a namespace whose own policy sets a mode hides the mesh level from every workload in it.
 */
function meshLevelReach(idx: MeshIndex): ReadonlySet<Service> | readonly Service[] {
  if (idx.features.legacyPolicies) return idx.allServices();
  const out = new Set<Service>();
  for (const svc of idx.allServices()) {
    const own = namespacePeerAuth(idx, svc.namespace);
    if (!own || own.mode === 'UNSET') out.add(svc);
  }
  return out;
}

function servicesMatchedBy(idx: MeshIndex, dr: DestinationRule): readonly Service[] {
  const host = drHost(idx, dr);
  if (!host.startsWith('*')) {
    const svc = idx.serviceByFqdn(host);
    return svc ? [svc] : [];
  }
  return host === '*' ? idx.allServices() : idx.allServices().filter((svc) => hostMatches(host, idx.fqdn(svc)));
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

  constructor(private readonly before: MeshIndex, private readonly after: MeshIndex, private readonly wasCls: ClientClass,
    readonly cls: ClientClass, readonly workload: Workload | undefined, readonly service: Service, readonly port: ServicePort,
    readonly wasVerdict: Verdict, readonly nowVerdict: Verdict) {}

  get was(): Outcome {
    return this.#was ??= outcomeAt(this.before, this.wasCls, this.service, this.port)!;
  }

  get now(): Outcome {
    return this.#now ??= outcomeAt(this.after, this.cls, this.service, this.port)!;
  }
}

/** A service port. */
interface PortRef {
  readonly svc: Service;
  readonly port: ServicePort;
}

/**
 * Breaks with the same verdicts on each side at one or more service ports that share their DR
 * views: the classes of a signature group, or one workload that a DestinationRule change moves.
 * The engine works on these; a break per class and port is only made for the few that a finding
 * reports.
 */
interface BreakSet {
  readonly at: readonly PortRef[];
  readonly wasVerdict: Verdict;
  readonly nowVerdict: Verdict;
  /** The classes after the change. */
  readonly classes: readonly ClientClass[];
  /** The same classes before it: `classes` itself unless the change rebuilt the classes. */
  readonly wasClasses: readonly ClientClass[];
  readonly workload?: Workload;
}

function breakAt(before: MeshIndex, after: MeshIndex, s: BreakSet, i: number, k: number): Break {
  const at = s.at[k]!;
  return new LazyBreak(before, after, s.wasClasses[i]!, s.classes[i]!, s.workload, at.svc, at.port, s.wasVerdict, s.nowVerdict);
}

/** Namespaces whose workloads may change class with a DestinationRule change. */
function movedNamespaces(before: MeshIndex, change: Change): Set<string> {
  const o = change.object;
  if (o.kind !== 'DestinationRule') return new Set();
  const prev = before.find(o) as DestinationRule | undefined;
  const named = [...(o.exportTo ?? []), ...(prev?.exportTo ?? [])].filter((e) => e !== '*' && e !== '.');
  return new Set([o.namespace, ...named]);
}

/** A sidecar workload of a moved namespace with its class on each side. */
interface Moved {
  readonly w: Workload;
  readonly before: ClientClass;
  readonly after: ClientClass;
}

function movedWorkloads(before: MeshIndex, after: MeshIndex, moved: ReadonlySet<string>): Moved[] {
  const out: Moved[] = [];
  const bs = clientClasses(before).byKey;
  const as = clientClasses(after).byKey;
  for (const ns of moved) {
    for (const w of after.workloads(ns)) {
      if (w.mesh === 'sidecar') out.push({ w, before: bs.get(classKey(before, w))!, after: as.get(classKey(after, w))! });
    }
  }
  return out;
}

/**
 * The classes at a service whose DR lookup a DestinationRule change can alter: not those of the
 * namespaces it moves (judged one by one), nor those whose own namespace's rules decide the host.
 */
function reachableClasses(before: MeshIndex, after: MeshIndex, svc: Service, moved: ReadonlySet<string>): readonly ClientClass[] {
  // With the same classes on both sides, a view outside the moved namespaces decides as it did.
  const undecided = after.sharesLayer(before, 'views') ? undecidedClasses(before, svc) : findUndecided(after, svc);
  // The list itself when nothing is taken out: equal lists are one object, and findings group by it.
  return undecided.some((c) => moved.has(c.view)) ? undecided.filter((c) => !moved.has(c.view)) : undecided;
}

/** The classes at a service that no rule of their own namespace decides for, memoised with the rules. */
function undecidedClasses(idx: MeshIndex, svc: Service): readonly ClientClass[] {
  const memo = idx.memo(T_UNDECIDED);
  let l = memo.get(svc);
  if (!l) {
    const found = findUndecided(idx, svc);
    const shared = idx.cachedMap<string, readonly ClientClass[]>('dr', 'undecidedLists');
    const key = found.map((c) => c.key).join('\n');
    l = shared.get(key);
    if (!l) shared.set(key, l = found);
    memo.set(svc, l);
  }
  return l;
}

function findUndecided(idx: MeshIndex, svc: Service): ClientClass[] {
  const special = clientClasses(idx).special;
  const decides = (view: string): boolean =>
    // A view at a service that is not special is there because one of its rules matches the host;
    // when its namespace sees all of its own rules, that one decides.
    (!special.has(view) && seesAllOwnRules(idx, view)) || ownNamespaceDecides(idx, view, idx.fqdn(svc));
  return classesAt(idx, svc).filter((c) => c.view === '*' || !decides(c.view));
}

/** The verdict of a class towards a port whose server shape is known. */
function verdictAt(idx: MeshIndex, c: ClientClass, shape: ServerShape, svc: Service, port: ServicePort): Verdict {
  return verdictOf(idx, c, classSignature(idx, c, svc, port), shape, svc, port);
}

/**
 * The connections that go from working to failing with a change. A port whose server shape is
 * unchanged cannot break under a policy change (client DR lookups do not read policies); within a
 * port, classes are judged once per client signature.
 */
export function breakingConnections(before: MeshIndex, after: MeshIndex, change: Change, overBudget?: () => boolean): Break[] {
  const out: Break[] = [];
  for (const set of breakSets(before, after, change, overBudget)) {
    for (let k = 0; k < set.at.length; k++) for (let i = 0; i < set.classes.length; i++) out.push(breakAt(before, after, set, i, k));
  }
  return out;
}

function breakSets(before: MeshIndex, after: MeshIndex, change: Change, overBudget?: () => boolean): BreakSet[] {
  const out: BreakSet[] = [];
  const prev = before.find(change.object);
  const uniform = uniformBase(after, change, prev);
  if (uniform) {
    uniformBreaks(before, after, change, uniform, out, overBudget);
    return out;
  }
  let touched = servicesTouchedBy(after, change.object);
  if (prev) touched = new Set([...touched, ...servicesTouchedBy(before, prev)]);
  if (change.object.kind === 'DestinationRule') ruleChangeBreaks(before, after, change, touched, out, overBudget);
  else for (const svc of touched) portBreaks(before, after, svc, out, overBudget);
  return out;
}

/** A policy change at the ports of one service: those whose server shape moves, judged once per signature group. */
function portBreaks(before: MeshIndex, after: MeshIndex, svc: Service, out: BreakSet[], overBudget?: () => boolean): void {
  if (overBudget?.()) throw new BudgetExceededError();
  for (const port of svc.ports) {
    const sb = serverShape(before, svc, port);
    if (!sb) continue;
    const sa = serverShape(after, svc, port);
    if (sa && sa !== sb) policyBreaks(before, after, { svc, port, before: sb, after: sa }, out);
  }
}

/**
 * A namespace- or mesh-level policy change (see `uniformBase`): in each namespace it reaches
 * where no workload policy applies, ports are judged by bucket (`portBuckets`), one shape
 * transform and one verdict lookup per signature group for all the ports of a bucket.
 */
function uniformBreaks(before: MeshIndex, after: MeshIndex, change: Change, uniform: UniformBase, out: BreakSet[], overBudget?: () => boolean): void {
  const o = change.object;
  const mesh = o.namespace === after.root;
  for (const ns of mesh ? after.serviceNamespaces() : [o.namespace]) {
    if (overBudget?.()) throw new BudgetExceededError();
    // A namespace whose own policy sets a mode hides the mesh level from every workload in it.
    if (mesh && ns !== after.root && (namespacePeerAuth(after, ns)?.mode ?? 'UNSET') !== 'UNSET') continue;
    const base = uniform(ns);
    if (!base) {
      for (const svc of after.services(ns)) portBreaks(before, after, svc, out, overBudget);
      continue;
    }
    for (const b of portBuckets(before, ns)) {
      if (overBudget?.()) throw new BudgetExceededError();
      const sa = shapeWithBase(after, b.shape, base.mode, base.disabled);
      if (sa === b.shape) continue;
      const first = b.at[0]!;
      for (const g of b.groups) {
        const now = verdictOf(after, g.classes[0]!, g.sig, sa, first.svc, first.port);
        if (!now.failed) continue;
        const was = verdictOf(before, g.classes[0]!, g.sig, b.shape, first.svc, first.port);
        if (!was.failed) out.push({ at: b.at, wasVerdict: was, nowVerdict: now, classes: g.classes, wasClasses: g.classes });
      }
    }
  }
}

/** Ports of a namespace that a policy change judges alike: the same server shape, signature groups and DR views. */
interface PortBucket {
  readonly shape: ServerShape;
  readonly groups: readonly SignatureGroup[];
  readonly at: readonly PortRef[];
}

/** The port buckets of a namespace, in the order of their first port; memoised with everything they read. */
function portBuckets(idx: MeshIndex, ns: string): readonly PortBucket[] {
  const memo = idx.cachedMap<string, readonly PortBucket[]>('own', 'portBuckets');
  let l = memo.get(ns);
  if (l) return l;
  const by = new Map<ServerShape, Map<readonly SignatureGroup[], Map<ReadonlySet<string>, { shape: ServerShape; groups: readonly SignatureGroup[]; at: PortRef[] }>>>();
  const out: { shape: ServerShape; groups: readonly SignatureGroup[]; at: PortRef[] }[] = [];
  for (const svc of idx.services(ns)) {
    const views = viewsMatching(idx, svc);
    for (const port of svc.ports) {
      const shape = serverShape(idx, svc, port);
      if (!shape) continue;
      const groups = signatureGroups(idx, svc, port);
      let byGroups = by.get(shape);
      if (!byGroups) by.set(shape, byGroups = new Map());
      let byViews = byGroups.get(groups);
      if (!byViews) byGroups.set(groups, byViews = new Map());
      const b = byViews.get(views);
      if (b) b.at.push({ svc, port });
      else {
        const nb = { shape, groups, at: [{ svc, port }] };
        byViews.set(views, nb);
        out.push(nb);
      }
    }
  }
  memo.set(ns, l = out);
  return l;
}

/**
 * A DestinationRule change: server shapes stay, client signatures move. Classes outside the
 * namespaces the rule moves are judged by port (`ruleBreaks`); the moved ones one by one.
 */
function ruleChangeBreaks(before: MeshIndex, after: MeshIndex, change: Change, touched: Iterable<Service>, out: BreakSet[], overBudget?: () => boolean): void {
  const moved = movedNamespaces(before, change);
  const movers = movedWorkloads(before, after, moved);
  const ns = change.object.namespace;
  for (const svc of touched) {
    if (overBudget?.()) throw new BudgetExceededError();
    // Steps 2 and 3 of the lookup read the rules of the service's namespace and of the root only.
    const ruleWas = sharedRule(before, svc);
    const ruleNow = ruleWas === undefined ? undefined : sharedRuleAfter(before, after, ns, svc);
    for (const port of svc.ports) {
      // Rules do not read policies: the shape is the same on both sides.
      const shape = serverShape(before, svc, port);
      if (!shape) continue;
      // A rule that neither side's shared lookup tells apart moves no class outside the moved namespaces.
      if (ruleWas !== undefined && ruleWas === ruleNow && movers.length === 0) continue;
      const at: PortPair = { svc, port, before: shape, after: shape };
      ruleBreaks(before, after, at, ruleWas, ruleNow, moved, out);
      for (const m of movers) {
        const cb = classFor(before, m.before, svc);
        const was = verdictAt(before, cb, shape, svc, port);
        if (was.failed) continue;
        const ca = classFor(after, m.after, svc);
        const now = verdictAt(after, ca, shape, svc, port);
        if (now.failed) out.push({ at: [at], wasVerdict: was, nowVerdict: now, classes: [ca], wasClasses: [cb], workload: m.w });
      }
    }
  }
}

/**
 * For a PeerAuthentication change of the namespace or mesh level, with PeerAuthentication alone in
 * force: per namespace where no workload policy applies, the base mode every endpoint takes after
 * the change, and whether the namespace is DISABLE. Undefined for other changes and namespaces.
 */
type UniformBase = (ns: string) => { mode: ResolvedMode['mode']; disabled: boolean } | undefined;

function uniformBase(after: MeshIndex, change: Change, prev: IstioObject | undefined): UniformBase | undefined {
  const o = change.object;
  if (o.kind !== 'PeerAuthentication' || !isEmptySelector(o.selector)) return undefined;
  if (prev && (prev.kind !== 'PeerAuthentication' || !isEmptySelector(prev.selector))) return undefined;
  if (!after.features.peerAuthentication || after.features.legacyPolicies) return undefined;
  const memo = new Map<string, { mode: ResolvedMode['mode']; disabled: boolean } | undefined>();
  return (ns) => {
    if (memo.has(ns)) return memo.get(ns);
    // Selector policies of the root namespace are ignored; elsewhere any one may apply to an endpoint.
    const free = ns === after.root || after.peerAuthentications(ns).every((p) => isEmptySelector(p.selector));
    const r = free ? { mode: namespaceBase(after, ns).mode, disabled: namespaceMode(after, ns)?.mode === 'DISABLE' } : undefined;
    memo.set(ns, r);
    return r;
  };
}

/** A service port with its server shape on each side of a change. */
interface PortPair {
  readonly svc: Service;
  readonly port: ServicePort;
  readonly before: ServerShape;
  readonly after: ServerShape;
}

/** A policy change leaves classes and DR lookups alone: each class is its own before, judged once per signature. */
function policyBreaks(before: MeshIndex, after: MeshIndex, at: PortPair, out: BreakSet[]): void {
  for (const g of signatureGroups(after, at.svc, at.port)) {
    const now = verdictOf(after, g.classes[0]!, g.sig, at.after, at.svc, at.port);
    if (!now.failed) continue;
    const was = verdictOf(before, g.classes[0]!, g.sig, at.before, at.svc, at.port);
    if (!was.failed) out.push({ at: [at], wasVerdict: was, nowVerdict: now, classes: g.classes, wasClasses: g.classes });
  }
}

/**
 * A DestinationRule change: the classes it can reach, against their own before. Most ports are
 * settled by one signature on each side (`sharedSignature`): server shapes do not move with rules,
 * so an unchanged signature cannot break, and a changed one breaks every sidecar class it covers.
 */
function ruleBreaks(before: MeshIndex, after: MeshIndex, at: PortPair, ruleWas: DestinationRule | null | undefined, ruleNow: DestinationRule | null | undefined,
  moved: ReadonlySet<string>, out: BreakSet[]): void {
  if (ruleWas !== undefined && ruleNow !== undefined) {
    // Classes outside the shared signature keep theirs: a rule moves no mesh kind or excluded port.
    if (ruleWas === ruleNow) return;
    const sigWas = sharedSignature(before, ruleWas, at.port);
    const sigNow = sharedSignature(after, ruleNow, at.port);
    if (sigNow === sigWas) return;
    const now = knownVerdict(after, sigNow, at.after);
    const was = knownVerdict(before, sigWas, at.before);
    if (now && was) {
      if (now.failed && !was.failed) sharedBreaks(before, after, at, reachableClasses(before, after, at.svc, moved), was, now, out);
      return;
    }
  }
  const beforeClasses = clientClasses(before).byKey;
  for (const c of reachableClasses(before, after, at.svc, moved)) {
    const b = beforeClasses.get(c.key);
    if (!b) continue;
    const now = verdictAt(after, c, at.after, at.svc, at.port);
    if (!now.failed) continue;
    const was = verdictAt(before, b, at.before, at.svc, at.port);
    if (!was.failed) out.push({ at: [at], wasVerdict: was, nowVerdict: now, classes: [c], wasClasses: [b] });
  }
}

/** The sidecar classes of a list, once per list; undefined when one excludes outbound ports. */
const sidecarLists = new WeakMap<readonly ClientClass[], readonly ClientClass[] | null>();

function sidecarsOf(all: readonly ClientClass[]): readonly ClientClass[] | undefined {
  let l = sidecarLists.get(all);
  if (l === undefined) {
    l = all.some((c) => c.kind === 'sidecar' && c.rep.excludeOutboundPorts.length > 0) ? null : all.filter((c) => c.kind === 'sidecar');
    sidecarLists.set(all, l);
  }
  return l ?? undefined;
}

/** True when a reachable class takes the shared signature towards a port: a sidecar that does not exclude it. */
function takesShared(c: ClientClass, port: ServicePort): boolean {
  return c.kind === 'sidecar' && !c.rep.excludeOutboundPorts.includes(port.port);
}

function sharedBreaks(before: MeshIndex, after: MeshIndex, at: PortPair, all: readonly ClientClass[], was: Verdict, now: Verdict, out: BreakSet[]): void {
  const same = after.sharesLayer(before, 'views');
  const sidecars = same ? sidecarsOf(all) : undefined;
  let classes: readonly ClientClass[] = sidecars ?? all;
  let wasClasses: readonly ClientClass[] = classes;
  // Usually no class excludes a port and the classes are the same objects on both sides: the
  // sidecar classes of the reachable list are the set's, one list shared by many ports.
  if (!sidecars) {
    const beforeClasses = clientClasses(before).byKey;
    const now: ClientClass[] = [];
    const then: ClientClass[] = [];
    for (const c of all) {
      const b = same ? c : beforeClasses.get(c.key);
      if (!b || !takesShared(c, at.port)) continue;
      now.push(c);
      then.push(b);
    }
    classes = now;
    wasClasses = same ? now : then;
  }
  if (classes.length) out.push({ at: [at], wasVerdict: was, nowVerdict: now, classes, wasClasses });
}

const KIND_WORDS: Record<MeshKind, string> = { none: 'without a sidecar', sidecar: 'with a sidecar', ambient: 'in ambient mode' };

/** Above this many (namespace × service port) entries, possible findings of a class are one summary. */
const SUMMARY_LIMIT = 60;

interface Pending {
  readonly b: Break;
  readonly represented: readonly ClientClass[];
  /** Workloads already reported one by one (observed or declared). */
  readonly named: ReadonlySet<Workload>;
}

/**
 * Breaks of one class that turn into the same outcome. Only the first few are kept: past the
 * summary limit a summary needs their count, the first targets and the represented lists alone.
 */
class PendingGroup {
  kept: Pending[] = [];
  /** Breaks in all. */
  count = 0;
  /** An upper bound of the detailed findings: (class, namespace) pairs over all breaks. */
  entries = 0;
  /** The represented lists, in the order their first break came. */
  lists: (readonly ClientClass[])[] = [];
  /** Where the group's first break came: its port's position, then its class in the set. */
  first: readonly [number, number];
  /** The first breaks by order, with their represented lists: at most KEPT from each bucket. */
  candidates: Candidate[] = [];
  readonly listSeq = new Map<readonly ClientClass[], number>();
  /** The last position among the candidates once KEPT of them are in. */
  private bound = Number.POSITIVE_INFINITY;

  constructor(seq: number, i: number) {
    this.first = [seq, i];
  }

  /** Takes a break as a candidate unless KEPT earlier ones are in; false when it is not taken. */
  offer(pos: number, set: BreakSet, k: number, i: number, represented: readonly ClientClass[]): boolean {
    if (pos > this.bound) return false;
    this.candidates.push({ pos, set, k, i, represented });
    if (this.candidates.length >= 2 * KEPT) {
      // The earliest KEPT are all a group ever needs; the bound then only falls.
      this.candidates = this.sorted().slice(0, KEPT);
      this.bound = this.candidates[KEPT - 1]!.pos;
    }
    return true;
  }

  /** The candidates by position. */
  sorted(): Candidate[] {
    const c = this.candidates;
    return c.some((x, k) => k > 0 && x.pos < c[k - 1]!.pos) ? c.sort((a, b) => a.pos - b.pos) : c;
  }
}

/** A break that a summary group may keep: its port's position, set, port and class. */
interface Candidate {
  readonly pos: number;
  readonly set: BreakSet;
  readonly k: number;
  readonly i: number;
  readonly represented: readonly ClientClass[];
}

/** Sets at the ports of one bucket: the same classes, the same verdict after, the same views. */
interface Bucket {
  readonly sets: BreakSet[];
  /** The position of each set's first port among all the ports of all sets. */
  readonly firsts: number[];
  ports: number;
}

const NO_WORKLOADS: ReadonlySet<Workload> = new Set();

/** True when position `a` (port, then class) comes before `b`. */
function earlier(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/**
 * Turns breaks into findings: observed and declared per workload, the rest summarised. Sets with
 * the same classes, verdict and DR views fall into one bucket, whose classes are counted once for
 * all its ports: a mesh-wide change costs per bucket and class, not per port and class.
 */
function findingsOf(before: MeshIndex, after: MeshIndex, change: Change, sets: readonly BreakSet[]): RawFinding[] {
  const out: RawFinding[] = [];
  // Breaks already made for witnesses or callers outside the mesh, and who they reported, by
  // port position and class: `pos × stride + i`.
  const made = new Map<number, { b: Break; named: ReadonlySet<Workload> }>();
  const stride = clientClasses(after).byKey.size;
  const buckets = new Map<readonly ClientClass[], Map<string, Map<ReadonlySet<string>, Bucket>>>();
  let pos = 0;
  for (const set of sets) {
    const first = pos;
    for (let k = 0; k < set.at.length; k++, pos++) {
      const { svc, port } = set.at[k]!;
      const callers = callersOf(after, svc);
      const witnesses = callers.length ? witnessesOf(after, set, svc, callers) : undefined;
      if (set.workload) {
        const b = breakAt(before, after, set, 0, k);
        const w = set.workload;
        const named = witnessFindings(before, after, change, b, witnesses?.get(0), out);
        const certain = set.nowVerdict.certain;
        if (!named.has(w)) out.push(finding(before, after, change, b, `${w.name}.${w.namespace}`, w.namespace, w.name, certain ? 'certain' : 'possible', certain ? isCertain(b.now) : undefined));
        continue;
      }
      for (let i = 0; i < set.classes.length; i++) {
        const seen = witnesses?.get(i);
        const outside = set.classes[i]!.key === OUTSIDE_KEY && hasOutsideCallers(after, svc, port);
        if (!seen && !outside) continue;
        const b = breakAt(before, after, set, i, k);
        const named = witnessFindings(before, after, change, b, seen, out);
        if (outside) outsideFindings(before, after, change, b, out);
        made.set(pos * stride + i, { b, named });
      }
    }
    if (set.workload) continue;
    let byVerdict = buckets.get(set.classes);
    if (!byVerdict) buckets.set(set.classes, byVerdict = new Map());
    let byViews = byVerdict.get(set.nowVerdict.key);
    if (!byViews) byVerdict.set(set.nowVerdict.key, byViews = new Map());
    const views = viewsMatching(after, set.at[0]!.svc);
    const bucket = byViews.get(views);
    if (bucket) {
      bucket.sets.push(set);
      bucket.firsts.push(first);
      bucket.ports += set.at.length;
    } else byViews.set(views, { sets: [set], firsts: [first], ports: set.at.length });
  }
  const groups = new Map<ClientClass, Map<string, PendingGroup>>();
  for (const [classes, byVerdict] of buckets) {
    for (const [verdict, byViews] of byVerdict) {
      for (const bucket of byViews.values()) {
        const n = bucket.ports;
        const start = bucket.firsts[0]!;
        for (let i = 0; i < classes.length; i++) {
          const cls = classes[i]!;
          // Represented lists follow the views at the service, the same for the whole bucket.
          const represented = representedAt(after, cls, bucket.sets[0]!.at[0]!.svc);
          const totals = representedTotals(after, represented);
          if (totals.members === 0) continue;
          let byV = groups.get(cls);
          if (!byV) groups.set(cls, byV = new Map());
          let group = byV.get(verdict);
          if (!group) byV.set(verdict, group = new PendingGroup(start, i));
          else if (earlier([start, i], group.first)) group.first = [start, i];
          group.count += n;
          group.entries += n * totals.entries;
          const at = group.listSeq.get(represented);
          if (at === undefined || start < at) group.listSeq.set(represented, start);
          // Positions rise within a bucket: once one is not taken, no later one is.
          offer: for (let s = 0; s < bucket.sets.length; s++) {
            const set = bucket.sets[s]!;
            for (let k = 0; k < set.at.length; k++) if (!group.offer(bucket.firsts[s]! + k, set, k, i, represented)) break offer;
          }
        }
      }
    }
  }
  // Findings come out in the order of each class's first break, then of each outcome's.
  const ordered: { first: readonly [number, number]; groups: PendingGroup[] }[] = [];
  for (const byV of groups.values()) {
    const gs = [...byV.values()].sort((a, b) => (earlier(a.first, b.first) ? -1 : 1));
    ordered.push({ first: gs[0]!.first, groups: gs });
  }
  ordered.sort((a, b) => (earlier(a.first, b.first) ? -1 : 1));
  for (const { groups: gs } of ordered) {
    for (const group of gs) {
      group.kept = group.sorted().slice(0, KEPT).map((c) => {
        const m = made.get(c.pos * stride + c.i);
        return { b: m?.b ?? breakAt(before, after, c.set, c.i, c.k), represented: c.represented, named: m?.named ?? NO_WORKLOADS };
      });
      group.lists = [...group.listSeq].sort((a, b) => a[1] - b[1]).map(([l]) => l);
      out.push(...summarise(before, after, change, group));
    }
  }
  return out;
}

/** A caller of a service with observed or declared evidence. */
interface Witness {
  readonly w: Workload;
  readonly ev: EvidenceResult;
}

/**
 * The callers of a break set's service with observed or declared evidence, by the index of the
 * class that represents them there (or 0 for a set of one moved workload). Found by reverse
 * lookups from the service, never by a walk over a class's members.
 */
function witnessesOf(after: MeshIndex, set: BreakSet, svc: Service, callers: readonly Workload[]): Map<number, Witness[]> | undefined {
  let out: Map<number, Witness[]> | undefined;
  const byKey = clientClasses(after).byKey;
  for (const w of callers) {
    const i = set.workload ? (w === set.workload ? 0 : -1) : set.classes.indexOf(classFor(after, byKey.get(classKey(after, w))!, svc));
    if (i < 0) continue;
    const ev = evidenceFor(after, w, svc);
    if (ev.level === 'possible') continue;
    out ??= new Map();
    const l = out.get(i);
    if (l) l.push({ w, ev });
    else out.set(i, [{ w, ev }]);
  }
  return out;
}

/** Findings for the witnesses of one break. Returns the workloads so reported. */
function witnessFindings(before: MeshIndex, after: MeshIndex, change: Change, b: Break, seen: readonly Witness[] | undefined, out: RawFinding[]): ReadonlySet<Workload> {
  if (!seen) return NO_WORKLOADS;
  const named = new Set<Workload>();
  for (const { w, ev } of seen) {
    named.add(w);
    out.push(finding(before, after, change, b, `${w.name}.${w.namespace}`, w.namespace, w.name, ev.level, ev.detail));
  }
  return named;
}

/** True when a service port has callers outside the mesh to report: unknown observed sources or declared callers. */
function hasOutsideCallers(after: MeshIndex, svc: Service, port: ServicePort): boolean {
  return unknownPlaintextInto(after, svc) !== undefined || declaredCallersInto(after, svc, port).length > 0;
}

/** Findings for callers outside the mesh: unknown observed sources and declared callers. */
function outsideFindings(before: MeshIndex, after: MeshIndex, change: Change, b: Break, out: RawFinding[]): void {
  const unknown = unknownPlaintextInto(after, b.service);
  if (unknown) out.push(finding(before, after, change, b, 'unknown (a caller outside the mesh)', '', undefined, 'observed', unknown.detail));
  for (const c of declaredCallersInto(after, b.service, b.port)) {
    const f = finding(before, after, change, b, c.client, '', undefined, 'declared', callerDetail(c, `${b.service.name}.${b.service.namespace}`, b.port.port));
    out.push({ ...f, fix: declaredCallerFix(c, b.service.namespace, b.service.name, b.service.selector, containerPortOf(after, b.service, b.port)) });
  }
}

/** Members of the represented classes by namespace, less those reported one by one. */
function byNamespace(p: Pending): ReadonlyMap<string, readonly Workload[]> {
  // One class and nobody reported apart: its own lists serve as they are.
  if (p.represented.length === 1 && p.named.size === 0) return p.represented[0]!.byNamespace;
  const m = new Map<string, Workload[]>();
  for (const c of p.represented) {
    for (const [ns, ws] of c.byNamespace) {
      const rest = p.named.size ? ws.filter((w) => !p.named.has(w)) : ws;
      if (rest.length) m.set(ns, [...(m.get(ns) ?? []), ...rest]);
    }
  }
  return m;
}

function summarise(before: MeshIndex, after: MeshIndex, change: Change, group: PendingGroup): RawFinding[] {
  const list = group.kept;
  const certain = list[0]!.b.nowVerdict.certain ? isCertain(list[0]!.b.now) : undefined;
  const level: Evidence = certain ? 'certain' : 'possible';
  // Every kept break has at least one entry, so within the limit all of them were kept.
  if (group.entries <= SUMMARY_LIMIT) {
    const out: RawFinding[] = [];
    for (const p of list) {
      const namespaces = byNamespace(p);
      if (namespaces.size === 0) continue;
      if (certain && namespaces.size > 1) {
        // A contradiction in the config breaks every such client alike: one finding per service port.
        const ws = [...namespaces.values()].flat();
        out.push(finding(before, after, change, p.b, `${ws.length} workloads ${KIND_WORDS[ws[0]!.mesh]} in ${namespaces.size} namespaces`, '', undefined, level, certain, names(ws)));
        continue;
      }
      const own = namespaces === p.represented[0]!.byNamespace;
      for (const [ns, ws] of namespaces) {
        const only = ws.length === 1 ? ws[0]! : undefined;
        const label = only ? `${only.name}.${ns}` : `${ws.length} workloads ${KIND_WORDS[ws[0]!.mesh]} in ${ns}`;
        out.push(finding(before, after, change, p.b, label, ns, only?.name, level, certain, only ? undefined : own ? classNames(after, ws) : names(ws)));
      }
    }
    return out;
  }
  // A change that reaches many namespaces and services: one summary for the class. Its members
  // are counted per class, never listed in full, so the cost follows classes, not pods.
  const classes = new Map<string, ClientClass>();
  for (const l of group.lists) for (const c of l) classes.set(c.key, c);
  let count = 0;
  const namespaces = new Set<string>();
  const members: Workload[] = [];
  for (const c of classes.values()) {
    count += c.members.length;
    for (const ns of c.byNamespace.keys()) namespaces.add(ns);
    for (let i = 0; i < c.members.length && members.length <= MAX_NAMES; i++) members.push(c.members[i]!);
  }
  const first = list[0]!.b;
  const targets = list.slice(0, MAX_NAMES).map((p) => `${p.b.service.name}.${p.b.service.namespace}:${p.b.port.port}`);
  if (group.count > MAX_NAMES) targets.push(`and ${group.count - MAX_NAMES} more`);
  const f = finding(before, after, change, first, `${count} workloads ${KIND_WORDS[members[0]!.mesh]} in ${namespaces.size} namespaces`, '', undefined, level, certain, names(members, count));
  return [{
    ...f,
    message: `${f.client} -> ${group.count} service ports, e.g. ${targets.slice(0, 3).join(', ')} (${first.wasVerdict.code} → ${first.now.code}${first.now.exit !== undefined ? `, curl exit ${first.now.exit}` : ''})`,
    targets,
  }];
}

/** At most this many client names are listed in one finding. */
const MAX_NAMES = 50;

/** Breaks kept per group: enough for every detailed finding and for a summary's targets. */
const KEPT = Math.max(SUMMARY_LIMIT + 1, MAX_NAMES);

/** `names` of a class's own list of members in a namespace, written once per list. */
function classNames(idx: MeshIndex, ws: readonly Workload[]): string[] {
  const memo = idx.memo(T_CLASS_NAMES);
  let n = memo.get(ws);
  if (!n) memo.set(ws, n = names(ws));
  return n;
}

function names(ws: readonly Workload[], total = ws.length): string[] {
  const out = ws.slice(0, MAX_NAMES).map((w) => `${w.name}.${w.namespace}`);
  if (total > MAX_NAMES) out.push(`and ${total - MAX_NAMES} more`);
  return out;
}

function finding(before: MeshIndex, after: MeshIndex, change: Change, b: Break, client: string, ns: string, workload: string | undefined,
  evidence: Evidence, detail: string | undefined, clients?: string[]): RawFinding {
  // The outcome before is only worded if a rule asks for it: a finding needs its code alone.
  const ctx: BreakContext = { before, after, change, client, clientNamespace: ns, clientWorkload: workload, service: b.service, port: b.port, get was() { return b.was; }, now: b.now };
  const svcLabel = `${b.service.name}.${b.service.namespace}`;
  const exit = b.now.exit !== undefined ? `, curl exit ${b.now.exit}` : '';
  return {
    code: b.now.cause!, evidence, client, service: svcLabel, port: b.port.port, before: b.wasVerdict.code, after: b.now.code,
    ...(b.now.exit !== undefined ? { exit: b.now.exit } : {}),
    message: `${client} -> ${svcLabel}:${b.port.port} (${b.wasVerdict.code} → ${b.now.code}${exit})`,
    reason: b.now.reason, fix: CONNECTION_RULES.get(b.now.cause!)?.fix(ctx) ?? '',
    ...(clients ? { clients } : {}), ...(detail ? { evidenceDetail: detail } : {}),
  };
}

/** Labels a controller adds per revision or per pod; a selector must not pin them. */
const GENERATED_LABELS = new Set(['pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'pod-template-generation',
  'security.istio.io/tlsMode', 'service.istio.io/canonical-name', 'service.istio.io/canonical-revision']);

function stableLabels(l: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(l).filter(([k]) => !GENERATED_LABELS.has(k)));
}

/** Declared scrapes of pod ports that a policy change cuts off. */
function podTargetFindings(before: MeshIndex, after: MeshIndex): RawFinding[] {
  const out: RawFinding[] = [];
  const key = (p: PodTarget): string => `${p.caller.declaredBy}|${p.workload.namespace}/${p.workload.name}|${p.containerPort}`;
  const was = new Map(podTargets(before).map((p) => [key(p), p]));
  for (const p of podTargets(after)) {
    const b = was.get(key(p));
    if (!b || !plaintextAccepted(before, b.workload, b.containerPort) || plaintextAccepted(after, p.workload, p.containerPort)) continue;
    const now = podOutcome(after, p);
    const target = `${p.workload.name}.${p.workload.namespace}`;
    out.push({
      code: now.cause!, evidence: 'declared', client: p.caller.client, service: target, port: p.containerPort, before: '200', after: '000', exit: 56,
      message: `${p.caller.client} -> ${target} pod port ${p.containerPort} (200 → 000, curl exit 56)`, reason: now.reason,
      fix: declaredCallerFix(p.caller, p.workload.namespace, p.workload.name, stableLabels(p.workload.labels), p.containerPort),
      evidenceDetail: callerDetail(p.caller, target, p.containerPort),
    });
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

/**
 * Judges one change against a snapshot: which connections break, and the config warnings.
 * `overBudget`, when given, is asked between services and stops the work with BudgetExceededError.
 */
export function evaluateChange(before: MeshIndex, change: Change, overBudget?: () => boolean): ChangeEvaluation {
  const after = before.apply(change);
  const findings: RawFinding[] = [];
  findings.push(...findingsOf(before, after, change, breakSets(before, after, change, overBudget)));
  if (change.object.kind !== 'DestinationRule') findings.push(...podTargetFindings(before, after));
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

/**
 * Computes, ahead of any request, what every change reads from the snapshot side: each port's
 * server shape, and its classes by signature with their verdicts. Shells call it where the index
 * is built, off the request path, so a request pays only for what its change alters.
 */
export function prepare(idx: MeshIndex): void {
  for (const svc of idx.allServices()) {
    for (const port of svc.ports) {
      const shape = serverShape(idx, svc, port);
      if (!shape) continue;
      for (const g of signatureGroups(idx, svc, port)) verdictOf(idx, g.classes[0]!, g.sig, shape, svc, port);
    }
  }
}
