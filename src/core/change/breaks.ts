/**
 * Which connections a change breaks, as break sets: the ports whose server shape or client
 * signatures move, judged per signature group, port bucket or shared rule rather than per client.
 */
import type { Change, DestinationRule, IstioObject, Service, ServicePort, Workload } from '../model/model.js';
import { BudgetExceededError } from '../model/errors.js';
import { isEmptySelector, memoTable, selectorMatches, type MeshIndex } from '../mesh/mesh-index.js';
import { classesAt, classFor, classKey, clientClasses, viewsMatching, type ClientClass } from '../traffic/classes.js';
import { classSignature, knownVerdict, serverShape, shapeOnce, shapeWithBase, sharedRule, sharedRuleAfter, sharedSignature, signatureGroups, verdictOf, type ClientSig, type ServerShape, type SignatureGroup, type Verdict } from '../traffic/shapes.js';
import { connectionOutcome, drFor, type Outcome } from '../traffic/outcome.js';
import { namespaceBase, namespaceMode, namespacePeerAuth, workloadPeerAuth } from '../policy/peer-auth.js';
import { endpointsOf } from '../mesh/endpoints.js';
import { drHost, ownNamespaceDecides, seesAllOwnRules } from '../policy/destination-rule.js';
import { hostMatches, isWildcard, resolveShortName } from '../mesh/hosts.js';

const T_OUTCOME = memoTable<ServicePort, Map<string, Outcome | null>>('own:outcome');
const T_UNDECIDED = memoTable<Service, readonly ClientClass[]>('dr:undecided');
const T_PORT_REFS = memoTable<ServicePort, PortRef>('static:portRefs');
const T_SIDECAR_LISTS = memoTable<readonly ClientClass[], readonly ClientClass[] | null>('static:sidecarLists');

/**
 * The one reference to a service port per snapshot. Port buckets hold them anyway, so break sets
 * that list thousands of ports share them rather than allocating their own.
 */
function portRef(idx: MeshIndex, svc: Service, port: ServicePort): PortRef {
  const memo = idx.memo(T_PORT_REFS);
  let r = memo.get(port);
  if (!r) memo.set(port, r = { svc, port });
  return r;
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

/** The Services whose outcomes a policy can change (rules are matched in `ruleChangeBreaks`). */
function servicesTouchedBy(idx: MeshIndex, o: Exclude<IstioObject, DestinationRule>): ReadonlySet<Service> | readonly Service[] {
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
  }
}

/**
 * The Services a mesh-level PeerAuthentication can reach: with PeerAuthentication alone in force,
 * a namespace whose own policy sets a mode hides the mesh level from every workload in it.
 */
function meshLevelReach(idx: MeshIndex): ReadonlySet<Service> | readonly Service[] {
  if (idx.features.legacyPolicies) return idx.allServices();
  return idx.allServices().filter((svc) => !hidesMeshLevel(idx, svc.namespace));
}

/** True when a namespace's own policy sets a mode: the mesh level then reaches none of its workloads. */
function hidesMeshLevel(idx: MeshIndex, ns: string): boolean {
  const own = namespacePeerAuth(idx, ns);
  return own !== undefined && own.mode !== 'UNSET';
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
  for (const c of undecided) if (moved.has(c.view)) return withoutMoved(undecided, moved);
  return undecided;
}

function withoutMoved(classes: readonly ClientClass[], moved: ReadonlySet<string>): readonly ClientClass[] {
  return classes.filter((c) => !moved.has(c.view));
}

/** The classes at a service that no rule of their own namespace decides for, memoised with the rules. */
function undecidedClasses(idx: MeshIndex, svc: Service): readonly ClientClass[] {
  const memo = idx.memo(T_UNDECIDED);
  let l = memo.get(svc);
  if (!l) memo.set(svc, l = internedUndecided(idx, svc));
  return l;
}

function internedUndecided(idx: MeshIndex, svc: Service): readonly ClientClass[] {
  const found = findUndecided(idx, svc);
  return idx.intern<readonly ClientClass[]>('dr', 'undecidedLists', found.map((c) => c.key).join('\n'), () => found);
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

/**
 * The break sets of a change, in the order their ports are judged. `overBudget` is asked between
 * services and between port buckets; it stops the work with BudgetExceededError.
 */
export function breakSets(before: MeshIndex, after: MeshIndex, change: Change, overBudget?: () => boolean): BreakSet[] {
  const out: BreakSet[] = [];
  const prev = before.find(change.object);
  if (shiftsBase(after, change, prev)) {
    baseShiftBreaks(before, after, change, out, overBudget);
    return out;
  }
  if (change.object.kind === 'DestinationRule') {
    ruleChangeBreaks(before, after, change, prev as DestinationRule | undefined, out, overBudget);
    return out;
  }
  let touched = servicesTouchedBy(after, change.object);
  // An object keeps its kind: `find` looks it up by kind, namespace and name.
  if (prev) touched = new Set([...touched, ...servicesTouchedBy(before, prev as Exclude<IstioObject, DestinationRule>)]);
  for (const svc of touched) portBreaks(before, after, svc, out, overBudget);
  return out;
}

/** A policy change at the ports of one service: those whose server shape moves, judged once per signature group. */
function portBreaks(before: MeshIndex, after: MeshIndex, svc: Service, out: BreakSet[], overBudget?: () => boolean): void {
  if (overBudget?.()) throw new BudgetExceededError();
  for (const port of svc.ports) {
    const sb = serverShape(before, svc, port);
    if (!sb) continue;
    const sa = shapeOnce(after, svc, port);
    if (sa && sa !== sb) policyBreaks(before, after, { svc, port, before: sb, after: sa }, out);
  }
}

/**
 * A namespace- or mesh-level policy change (see `shiftsBase`). In each namespace it reaches, ports
 * are judged by bucket (`portBuckets`): where no workload policy selects an endpoint, one shape
 * transform and one verdict lookup per signature group serve all the ports of a bucket; elsewhere
 * each port's shape is computed again.
 */
function baseShiftBreaks(before: MeshIndex, after: MeshIndex, change: Change, out: BreakSet[], overBudget?: () => boolean): void {
  const o = change.object;
  const mesh = o.namespace === after.root;
  for (const ns of mesh ? after.serviceNamespaces() : [o.namespace]) {
    if (overBudget?.()) throw new BudgetExceededError();
    if (mesh && hidesMeshLevel(after, ns)) continue;
    const base = namespaceBase(after, ns).mode;
    const disabled = namespaceMode(after, ns)?.mode === 'DISABLE';
    for (const b of portBuckets(before, ns)) {
      if (overBudget?.()) throw new BudgetExceededError();
      if (!b.free) {
        for (const { svc, port } of b.at) {
          const sa = shapeOnce(after, svc, port);
          if (sa && sa !== b.shape) policyBreaks(before, after, { svc, port, before: b.shape, after: sa }, out);
        }
        continue;
      }
      const sa = shapeWithBase(after, b.shape, base, disabled);
      if (sa !== b.shape) groupBreaks(before, after, b.groups, b.shape, sa, b.at, out);
    }
  }
}

/** Ports of a namespace that a policy change judges alike: the same server shape, signature groups and DR views. */
interface PortBucket {
  readonly shape: ServerShape;
  readonly groups: readonly SignatureGroup[];
  /** True when no workload policy selects an endpoint of these ports: they take the namespace's base mode. */
  readonly free: boolean;
  readonly at: readonly PortRef[];
}

/** The port buckets of a namespace, in the order of their first port; memoised with everything they read. */
export function portBuckets(idx: MeshIndex, ns: string): readonly PortBucket[] {
  const memo = idx.cachedMap<string, readonly PortBucket[]>('own', 'portBuckets');
  let l = memo.get(ns);
  if (l) return l;
  type Open = { shape: ServerShape; groups: readonly SignatureGroup[]; free: boolean; at: PortRef[] };
  const by = new Map<string, Open>();
  const out: Open[] = [];
  const ids = new Map<object, number>();
  const id = (o: object): number => ids.get(o) ?? ids.set(o, ids.size).get(o)!;
  for (const svc of idx.services(ns)) {
    const views = viewsMatching(idx, svc);
    for (const port of svc.ports) {
      const shape = serverShape(idx, svc, port);
      if (!shape) continue;
      const groups = signatureGroups(idx, svc, port);
      // Selector policies of the root namespace are ignored.
      const free = ns === idx.root || endpointsOf(idx, svc, port).every((ep) => !ep.workload || !workloadPeerAuth(idx, ep.workload));
      const key = `${id(shape)} ${id(groups)} ${id(views)} ${free}`;
      const b = by.get(key);
      if (b) b.at.push(portRef(idx, svc, port));
      else {
        const nb = { shape, groups, free, at: [portRef(idx, svc, port)] };
        by.set(key, nb);
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
function ruleChangeBreaks(before: MeshIndex, after: MeshIndex, change: Change, prev: DestinationRule | undefined, out: BreakSet[], overBudget?: () => boolean): void {
  const moved = movedNamespaces(before, change);
  const scan: RuleScan = { before, after, moved, out, sigWas: 'auto', sigNow: 'auto', shape: undefined, was: undefined, now: undefined, reachable: undefined, views: undefined, growable: undefined, growableViews: undefined };
  const movers = movedWorkloads(before, after, moved);
  const ns = change.object.namespace;
  const hostNow = drHost(after, change.object as DestinationRule);
  const hostWas = prev ? drHost(before, prev) : hostNow;
  // A rule for one host reaches at most two services; a wildcard is matched against the scans of
  // every service, made once per index.
  const scans = isWildcard(hostNow) || isWildcard(hostWas) ? serviceScans(before) : scanServices(before, exactServices(before, hostNow, hostWas));
  for (let i = 0; i < scans.services.length; i++) {
    const svc = scans.services[i]!;
    const fqdn = scans.fqdns[i]!;
    if (!hostMatches(hostNow, fqdn) && !hostMatches(hostWas, fqdn)) continue;
    if (overBudget?.()) throw new BudgetExceededError();
    // Steps 2 and 3 of the lookup read the rules of the service's namespace and of the root only.
    const ruleWas = scans.rulesWas[i];
    const ruleNow = ruleWas === undefined ? undefined : sharedRuleAfter(after, ns, svc, fqdn, ruleWas);
    // A rule that neither side's shared lookup tells apart moves no class outside the moved namespaces.
    if (ruleWas !== undefined && ruleWas === ruleNow && movers.length === 0) continue;
    scan.reachable = undefined;
    scan.views = undefined;
    for (let k = scans.start[i]!; k < scans.start[i + 1]!; k++) {
      const ref = scans.refs[k]!;
      const port = ref.port;
      // Rules do not read policies: the shape is the same on both sides.
      const shape = scans.shapes[k]!;
      ruleBreaks(scan, ref, shape, ruleWas, ruleNow);
      for (const m of movers) {
        const cb = classFor(before, m.before, svc);
        const was = verdictAt(before, cb, shape, svc, port);
        if (was.failed) continue;
        const ca = classFor(after, m.after, svc);
        const now = verdictAt(after, ca, shape, svc, port);
        if (now.failed) out.push({ at: [ref], wasVerdict: was, nowVerdict: now, classes: [ca], wasClasses: [cb], workload: m.w });
      }
    }
  }
}

/**
 * What a DestinationRule change reads of services on the index before it, gathered once per
 * index: a mesh-wide rule visits every service, and each of these was a lookup per service or
 * port. Flat lists, not an object per service: they are held for the life of the index.
 */
interface ServiceScans {
  readonly services: readonly Service[];
  readonly fqdns: readonly string[];
  /** `sharedRule` of each service before the change. */
  readonly rulesWas: readonly (DestinationRule | null | undefined)[];
  /** Service `i`'s ports with an outcome are `refs[start[i]]` up to `refs[start[i + 1]]`. */
  readonly start: Uint32Array;
  readonly refs: readonly PortRef[];
  /** The server shape of each of those ports (rules do not move them). */
  readonly shapes: readonly ServerShape[];
}

/** The scans of every service, made on the first mesh-wide rule change after a snapshot. */
function serviceScans(idx: MeshIndex): ServiceScans {
  return idx.cached('own', 'serviceScans', scanAll);
}

function scanAll(idx: MeshIndex): ServiceScans {
  return scanServices(idx, idx.allServices());
}

function scanServices(idx: MeshIndex, services: readonly Service[]): ServiceScans {
  const start = new Uint32Array(services.length + 1);
  let n = 0;
  for (let i = 0; i < services.length; i++) n += services[i]!.ports.length;
  // Sized up front: a list grown by push keeps spare room for the life of the index.
  const refs: PortRef[] = new Array<PortRef>(n);
  const shapes: ServerShape[] = new Array<ServerShape>(n);
  let k = 0;
  for (let i = 0; i < services.length; i++) {
    const svc = services[i]!;
    start[i] = k;
    for (const port of svc.ports) {
      const shape = serverShape(idx, svc, port);
      if (!shape) continue;
      refs[k] = portRef(idx, svc, port);
      shapes[k++] = shape;
    }
  }
  start[services.length] = k;
  refs.length = k;
  shapes.length = k;
  return { services, fqdns: services.map((svc) => idx.fqdn(svc)), rulesWas: services.map((svc) => sharedRule(idx, svc)), start, refs, shapes };
}

/** The services named by one or two exact hosts, each once. */
function exactServices(idx: MeshIndex, a: string, b: string): readonly Service[] {
  const sa = idx.serviceByFqdn(a);
  const sb = b === a ? undefined : idx.serviceByFqdn(b);
  return sa && sb ? [sa, sb] : sa ? [sa] : sb ? [sb] : [];
}

/**
 * One DestinationRule change being judged port by port, with the verdicts of the last signature
 * pair and shape: neighbouring ports mostly repeat them, and each lookup is two map reads.
 */
interface RuleScan {
  readonly before: MeshIndex;
  readonly after: MeshIndex;
  readonly moved: ReadonlySet<string>;
  readonly out: BreakSet[];
  sigWas: ClientSig;
  sigNow: ClientSig;
  shape: ServerShape | undefined;
  was: Verdict | undefined;
  now: Verdict | undefined;
  /** The reachable classes and DR views of the service being scanned, once read. */
  reachable: readonly ClientClass[] | undefined;
  views: ReadonlySet<string> | undefined;
  /**
   * The last set whose own port list later ports may join (never a port bucket's memoised list),
   * and the DR views of its ports: only ports with the same views join.
   */
  growable: BreakSet | undefined;
  growableViews: ReadonlySet<string> | undefined;
}

/** The classes at the scanned service that the change can reach (`reachableClasses`), once per service. */
function scanReachable(scan: RuleScan, svc: Service): readonly ClientClass[] {
  return scan.reachable ??= reachableClasses(scan.before, scan.after, svc, scan.moved);
}

/**
 * True for a PeerAuthentication change of the namespace or mesh level with PeerAuthentication
 * alone in force: an endpoint that no workload policy selects then takes its namespace's base
 * mode, and each Service its namespace's mode, so shapes move by a transform (`shapeWithBase`).
 */
function shiftsBase(after: MeshIndex, change: Change, prev: IstioObject | undefined): boolean {
  const o = change.object;
  if (o.kind !== 'PeerAuthentication' || !isEmptySelector(o.selector)) return false;
  if (prev && (prev.kind !== 'PeerAuthentication' || !isEmptySelector(prev.selector))) return false;
  return after.features.peerAuthentication && !after.features.legacyPolicies;
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
  groupBreaks(before, after, signatureGroups(after, at.svc, at.port), at.before, at.after, [at], out);
}

/**
 * The signature groups that break at ports whose shape goes from `was` to `now`, one set per
 * group. The verdicts are computed at the first port; every port given has those shapes.
 */
function groupBreaks(before: MeshIndex, after: MeshIndex, groups: readonly SignatureGroup[], was: ServerShape, now: ServerShape, at: readonly PortRef[], out: BreakSet[]): void {
  const { svc, port } = at[0]!;
  for (const g of groups) {
    const vNow = verdictOf(after, g.classes[0]!, g.sig, now, svc, port);
    if (!vNow.failed) continue;
    const vWas = verdictOf(before, g.classes[0]!, g.sig, was, svc, port);
    if (!vWas.failed) out.push({ at, wasVerdict: vWas, nowVerdict: vNow, classes: g.classes, wasClasses: g.classes });
  }
}

/**
 * A DestinationRule change: the classes it can reach, against their own before. Most ports are
 * settled by one signature on each side (`sharedSignature`): server shapes do not move with rules,
 * so an unchanged signature cannot break, and a changed one breaks every sidecar class it covers.
 */
function ruleBreaks(scan: RuleScan, ref: PortRef, shape: ServerShape, ruleWas: DestinationRule | null | undefined, ruleNow: DestinationRule | null | undefined): void {
  const { before, after } = scan;
  const { svc, port } = ref;
  if (ruleWas !== undefined && ruleNow !== undefined) {
    // Classes outside the shared signature keep theirs: a rule moves no mesh kind or excluded port.
    if (ruleWas === ruleNow) return;
    const sigWas = sharedSignature(before, ruleWas, port);
    const sigNow = sharedSignature(after, ruleNow, port);
    if (sigNow === sigWas) return;
    if (sigWas !== scan.sigWas || sigNow !== scan.sigNow || shape !== scan.shape) {
      scan.sigWas = sigWas;
      scan.sigNow = sigNow;
      scan.shape = shape;
      scan.now = knownVerdict(after, sigNow, shape);
      scan.was = knownVerdict(before, sigWas, shape);
    }
    const { now, was } = scan;
    if (now && was) {
      if (now.failed && !was.failed) sharedBreaks(scan, ref, scanReachable(scan, svc), was, now);
      return;
    }
    // Verdicts that no port has computed yet are computed below, and the pair is looked up again.
    scan.shape = undefined;
  }
  const beforeClasses = clientClasses(before).byKey;
  for (const c of scanReachable(scan, svc)) {
    const b = beforeClasses.get(c.key);
    if (!b) continue;
    const now = verdictAt(after, c, shape, svc, port);
    if (!now.failed) continue;
    const was = verdictAt(before, b, shape, svc, port);
    if (!was.failed) scan.out.push({ at: [ref], wasVerdict: was, nowVerdict: now, classes: [c], wasClasses: [b] });
  }
}

/** The sidecar classes of a list, once per list; undefined when one excludes outbound ports. */
function sidecarsOf(idx: MeshIndex, all: readonly ClientClass[]): readonly ClientClass[] | undefined {
  const sidecarLists = idx.weakMemo(T_SIDECAR_LISTS);
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

function sharedBreaks(scan: RuleScan, at: PortRef, all: readonly ClientClass[], was: Verdict, now: Verdict): void {
  const { before, after, out } = scan;
  const same = after.sharesLayer(before, 'views');
  const sidecars = same ? sidecarsOf(after, all) : undefined;
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
  if (classes.length === 0) return;
  // A port like the one before it joins that port's set: a rule that reaches every service then
  // makes few sets, and findings work per set.
  const last = out[out.length - 1];
  const views = scan.views ??= viewsMatching(after, at.svc);
  if (last && last === scan.growable && scan.growableViews === views && last.classes === classes && last.wasClasses === wasClasses && last.wasVerdict === was && last.nowVerdict === now) {
    (last.at as PortRef[]).push(at);
    return;
  }
  const set: BreakSet = { at: [at], wasVerdict: was, nowVerdict: now, classes, wasClasses };
  scan.growable = set;
  scan.growableViews = views;
  out.push(set);
}
