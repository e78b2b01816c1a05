/**
 * What a DestinationRule change breaks: server shapes stay, client signatures move. Most ports
 * are settled by the one rule that clients without a rule of their own namespace use (steps 2 and
 * 3 of the lookup); the workloads of namespaces the rule moves are judged one by one.
 */
import type { Change, DestinationRule, Service, ServicePort, Workload } from '../model/model.js';
import { BudgetExceededError } from '../model/errors.js';
import { memoTable, type MeshIndex } from '../mesh/mesh-index.js';
import { hostMatches, isWildcard } from '../mesh/hosts.js';
import { drHost, ownNamespaceDecides, seesAllOwnRules } from '../policy/destination-rule.js';
import { classesAt, classFor, classKey, clientClasses, viewsMatching, type ClientClass } from '../traffic/classes.js';
import {
  knownVerdict,
  serverShape,
  sharedRule,
  sharedRuleAfter,
  sharedSignature,
  type ClientSig,
  type ServerShape,
  type Verdict,
} from '../traffic/shapes.js';
import { portRef, verdictAt, type BreakSet, type PortRef } from './break-sets.js';
import { CAPTURE_ALL } from '../mesh/capture.js';
import { callsItself, passesProxy } from '../traffic/outcome.js';
import { routedAnywhere } from '../mesh/routes.js';

const T_UNDECIDED = memoTable<Service, readonly ClientClass[]>('dr:undecided');

const T_SIDECAR_LISTS = memoTable<readonly ClientClass[], readonly ClientClass[] | null>('static:sidecarLists');

/** Namespaces whose workloads may change class when a DestinationRule replaces `prev` (or is new). */
function movedNamespaces(o: DestinationRule, prev: DestinationRule | undefined): Set<string> {
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
  if (!l) memo.set(svc, (l = internedUndecided(idx, svc)));
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

/**
 * A DestinationRule change: server shapes stay, client signatures move. Classes outside the
 * namespaces the rule moves are judged by port (`ruleBreaks`); the moved ones one by one.
 */
export function ruleChangeBreaks(
  before: MeshIndex,
  after: MeshIndex,
  change: Change,
  prev: DestinationRule | undefined,
  out: BreakSet[],
  overBudget?: () => boolean,
): void {
  const moved = movedNamespaces(change.object as DestinationRule, prev);
  const scan: RuleScan = {
    before,
    after,
    moved,
    out,
    sigWas: 'auto',
    sigNow: 'auto',
    shape: undefined,
    was: undefined,
    now: undefined,
    reachable: undefined,
    views: undefined,
    growable: undefined,
    growableViews: undefined,
  };
  const movers = movedWorkloads(before, after, moved);
  const ns = change.object.namespace;
  const hostNow = drHost(after, change.object as DestinationRule);
  const hostWas = prev ? drHost(before, prev) : hostNow;
  // A rule for one host reaches at most two services; a wildcard is matched against the scans of
  // every service, made once per index.
  const scans =
    isWildcard(hostNow) || isWildcard(hostWas) ? serviceScans(before) : scanServices(before, exactServices(before, hostNow, hostWas));
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
  return {
    services,
    fqdns: services.map((svc) => idx.fqdn(svc)),
    rulesWas: services.map((svc) => sharedRule(idx, svc)),
    start,
    refs,
    shapes,
  };
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
  return (scan.reachable ??= reachableClasses(scan.before, scan.after, svc, scan.moved));
}

/**
 * A DestinationRule change: the classes it can reach, against their own before. Most ports are
 * settled by one signature on each side (`sharedSignature`): server shapes do not move with rules,
 * so an unchanged signature cannot break, and a changed one breaks every sidecar class it covers.
 */
function ruleBreaks(
  scan: RuleScan,
  ref: PortRef,
  shape: ServerShape,
  ruleWas: DestinationRule | null | undefined,
  ruleNow: DestinationRule | null | undefined,
): void {
  const { before, after } = scan;
  const { svc, port } = ref;
  // Subsets a VirtualService routes to have policies of their own, which no shared signature reads.
  if (ruleWas !== undefined && ruleNow !== undefined && !routedAnywhere(after, svc)) {
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
      if (svc.headless) selfBreaks(scan, ref, shape);
      return;
    }
    // Verdicts that no port has computed yet are computed below, and the pair is looked up again.
    scan.shape = undefined;
  }
  classBreaks(scan, ref, shape, scanReachable(scan, svc));
}

/** Each class against its own before, at one port. */
function classBreaks(scan: RuleScan, ref: PortRef, shape: ServerShape, classes: readonly ClientClass[]): void {
  const { before, after } = scan;
  const { svc, port } = ref;
  const beforeClasses = clientClasses(before).byKey;
  for (const c of classes) {
    const b = beforeClasses.get(c.key);
    if (!b) continue;
    const now = verdictAt(after, c, shape, svc, port);
    if (!now.failed) continue;
    const was = verdictAt(before, b, shape, svc, port);
    if (!was.failed) scan.out.push({ at: [ref], wasVerdict: was, nowVerdict: now, classes: [c], wasClasses: [b] });
  }
}

/** The classes that reach their own pod through a headless Service port, which the shared signature leaves out. */
function selfBreaks(scan: RuleScan, ref: PortRef, shape: ServerShape): void {
  const selves = scanReachable(scan, ref.svc).filter((c) => callsItself(scan.after, c.rep, ref.svc, ref.port));
  if (selves.length) classBreaks(scan, ref, shape, selves);
}

/** The sidecar classes of a list, once per list; undefined when one excludes outbound ports. */
function sidecarsOf(idx: MeshIndex, all: readonly ClientClass[]): readonly ClientClass[] | undefined {
  const sidecarLists = idx.weakMemo(T_SIDECAR_LISTS);
  let l = sidecarLists.get(all);
  if (l === undefined) {
    l = all.some((c) => c.kind === 'sidecar' && (c.rep.outbound !== CAPTURE_ALL || c.rep.egress !== null || c.rep.self !== null))
      ? null
      : all.filter((c) => c.kind === 'sidecar');
    sidecarLists.set(all, l);
  }
  return l ?? undefined;
}

/**
 * True when a reachable class takes the shared signature towards a port: a sidecar that captures
 * it, and does not reach its own pod there (`callsItself`: judged on its own, see `selfBreaks`).
 */
function takesShared(idx: MeshIndex, c: ClientClass, svc: Service, port: ServicePort): boolean {
  return c.kind === 'sidecar' && passesProxy(idx, c.rep, svc, port) === null && !callsItself(idx, c.rep, svc, port);
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
      if (!b || !takesShared(after, c, at.svc, at.port)) continue;
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
  const views = (scan.views ??= viewsMatching(after, at.svc));
  if (
    last &&
    last === scan.growable &&
    scan.growableViews === views &&
    last.classes === classes &&
    last.wasClasses === wasClasses &&
    last.wasVerdict === was &&
    last.nowVerdict === now
  ) {
    (last.at as PortRef[]).push(at);
    return;
  }
  const set: BreakSet = { at: [at], wasVerdict: was, nowVerdict: now, classes, wasClasses };
  scan.growable = set;
  scan.growableViews = views;
  out.push(set);
}
