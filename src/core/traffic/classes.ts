import type { MeshKind, Service, Workload } from '../model/model.js';
import { hasWorkloadSelector, memoTable, pushInto, selectorMatches, type MeshIndex } from '../mesh/mesh-index.js';
import { drHost, namedExportNamespaces } from '../policy/destination-rule.js';
import { hostMatches, isWildcard } from '../mesh/hosts.js';
import type { ClientRep } from './outcome.js';
import { isControlPlane } from '../mesh/membership.js';
import { CAPTURE_ALL, outboundKey } from '../mesh/capture.js';
import { sidecarScopeOf } from '../mesh/egress.js';
import { routeViews } from '../mesh/routes.js';

const T_CLASS_KEY = memoTable<Workload, string>('views:classKey');
const T_VIEWS_MATCHING = memoTable<Service, ReadonlySet<string>>('views:viewsMatching');
const T_WILDCARD_FORMS = memoTable<Service, readonly string[]>('static:wildcardForms');
const T_REPRESENTED = memoTable<Service, Map<string, readonly ClientClass[]>>('views:represented');
const T_ALONE = memoTable<ClientClass, readonly ClientClass[]>('views:alone');
const T_REPRESENTED_TOTALS = memoTable<readonly ClientClass[], Represented>('views:representedTotals');

/**
 * A class of client workloads that behave identically towards every service: same mesh kind,
 * same DestinationRule view, same selector DRs, same outbound capture rules. The engine computes
 * outcomes per class, so the cost follows the number of distinct behaviours, not of pods.
 */
export interface ClientClass {
  readonly key: string;
  readonly kind: MeshKind;
  /** The DR view: a namespace whose own rules can matter, or `*` for the shared view. */
  readonly view: string;
  /** The key that DR lookups are memoised under: the view and the selector DRs. */
  readonly drKey: string;
  /** The class that stands for this one towards services its own namespace's DRs do not match. */
  readonly fallbackKey: string;
  readonly rep: ClientRep;
  readonly members: Workload[];
  /** Members by namespace. */
  readonly byNamespace: Map<string, Workload[]>;
}

/** All classes of an index. */
export interface ClassSet {
  readonly byKey: ReadonlyMap<string, ClientClass>;
  /** Classes with the shared view, which stand in for the others towards most services. */
  readonly fallbacks: readonly ClientClass[];
  /** Classes with a view of their own, by view. */
  readonly byView: ReadonlyMap<string, readonly ClientClass[]>;
  /** Views that always matter: the root namespace and namespaces named in some exportTo. */
  readonly special: ReadonlySet<string>;
}

/** The class of callers outside the mesh, present even when no such workload is in the snapshot. */
export const OUTSIDE_KEY = 'none';

/** A namespace name that cannot exist: the representative namespace of the shared view. */
const SHARED_NS = '*';

/** The DR view of a namespace: its own name when its rules (or exportTo lists) can differ. */
export function viewOf(idx: MeshIndex, ns: string): string {
  if (idx.features.drGlobalLookup) return '*';
  if (ns === idx.root || idx.destinationRules(ns).length > 0 || namedExportNamespaces(idx).has(ns) || routeViews(idx).has(ns)) return ns;
  return '*';
}

/**
 * Sidecar workloads of one pod that a headless Service selects: calling that Service, such a client
 * can reach its own pod, which the injected iptables rules send past both sidecars. Each is a class
 * of its own.
 */
export function selfCallers(idx: MeshIndex): ReadonlySet<Workload> {
  return idx.cached('static', 'selfCallers', (x) => {
    const out = new Set<Workload>();
    for (const s of x.allServices()) {
      if (!s.headless || !s.selector) continue;
      for (const w of x.endpoints(s)) if (w.mesh === 'sidecar' && onePod(w)) out.add(w);
    }
    return out;
  });
}

/** A workload of one pod: with more, the others are endpoints like any other, with the same config. */
function onePod(w: Workload): boolean {
  return w.pods === 1 || (w.pods === 0 && (w.replicas ?? 2) <= 1);
}

function keyParts(idx: MeshIndex, w: Workload): { kind: MeshKind; view: string; sel: string; excl: string } {
  if (w.mesh !== 'sidecar') return { kind: w.mesh, view: '*', sel: '', excl: '' };
  // A Sidecar resource's scope can read the workload's own namespace (`./…`): its classes keep it.
  const scope = sidecarScopeOf(idx, w);
  const self = selfCallers(idx).has(w) ? `!${w.namespace}/${w.name}` : '';
  const excl = outboundKey(w.outbound) + (scope ? `#${scope.namespace}/${scope.name}@${w.namespace}` : '') + self;
  const view = viewOf(idx, w.namespace);
  let sel = '';
  if (view !== '*' && idx.features.drWorkloadSelector) {
    for (const dr of idx.destinationRules(w.namespace)) {
      if (hasWorkloadSelector(dr) && selectorMatches(dr.workloadSelector!, w.labels)) sel += `${dr.name},`;
    }
  }
  return { kind: 'sidecar', view, sel, excl };
}

function keyOf(kind: MeshKind, view: string, sel: string, excl: string): string {
  return kind === 'sidecar' ? `sidecar|${view}|${sel}|${excl}` : kind;
}

/** The class key of a workload. */
export function classKey(idx: MeshIndex, w: Workload): string {
  const memo = idx.memo(T_CLASS_KEY);
  let k = memo.get(w);
  if (k === undefined) {
    const p = keyParts(idx, w);
    memo.set(w, (k = keyOf(p.kind, p.view, p.sel, p.excl)));
  }
  return k;
}

function newClass(
  key: string,
  kind: MeshKind,
  view: string,
  sel: string,
  excl: string,
  labels: Workload['labels'],
  ns: string,
  how: Behaviour,
): ClientClass {
  return {
    key,
    kind,
    view,
    drKey: `${view}|${sel}`,
    fallbackKey: keyOf(kind, '*', '', excl),
    rep: { kind, namespace: view === '*' ? SHARED_NS : ns, labels, ...how },
    members: [],
    byNamespace: new Map(),
  };
}

/** What a class's members share besides their kind and DR view: capture rules, Sidecar scope, and the pod a self-caller is. */
type Behaviour = Pick<ClientRep, 'outbound' | 'egress' | 'home' | 'self'>;

const OUTSIDE_BEHAVIOUR: Behaviour = { outbound: CAPTURE_ALL, egress: null, home: '', self: null };

/** Only what a stand-in shares with the class it stands in for: not its namespace or labels, which would bring in that namespace's rules. */
function behaviourOfRep(rep: ClientRep): Behaviour {
  return { outbound: rep.outbound, egress: rep.egress, home: rep.home, self: rep.self };
}

function behaviourOf(idx: MeshIndex, w: Workload): Behaviour {
  const egress = w.mesh === 'sidecar' ? sidecarScopeOf(idx, w) : null;
  const self = selfCallers(idx).has(w) ? w : null;
  return { outbound: w.outbound, egress, home: egress ? w.namespace : '', self };
}

/** The client classes of an index, memoised with the DestinationRules they depend on. */
export function clientClasses(idx: MeshIndex): ClassSet {
  return idx.cached('views', 'classes', buildClasses);
}

function buildClasses(idx: MeshIndex): ClassSet {
  const byKey = new Map<string, ClientClass>();
  byKey.set(OUTSIDE_KEY, newClass(OUTSIDE_KEY, 'none', '*', '', '', {}, SHARED_NS, OUTSIDE_BEHAVIOUR));
  const keys = idx.memo(T_CLASS_KEY);
  for (const w of idx.allWorkloads()) {
    if (isControlPlane(w.labels)) continue;
    const p = keyParts(idx, w);
    const key = keyOf(p.kind, p.view, p.sel, p.excl);
    let c = byKey.get(key);
    if (!c) byKey.set(key, (c = newClass(key, p.kind, p.view, p.sel, p.excl, w.labels, w.namespace, behaviourOf(idx, w))));
    // One key string per class, not one per workload.
    keys.set(w, c.key);
    c.members.push(w);
    const l = c.byNamespace.get(w.namespace);
    if (l) l.push(w);
    else c.byNamespace.set(w.namespace, [w]);
  }
  // Every class needs its shared-view stand-in, even when no workload has the shared view itself.
  for (const c of [...byKey.values()]) {
    if (!byKey.has(c.fallbackKey))
      byKey.set(
        c.fallbackKey,
        newClass(c.fallbackKey, c.kind, '*', '', c.fallbackKey.split('|')[3] ?? '', {}, SHARED_NS, behaviourOfRep(c.rep)),
      );
  }
  const byView = new Map<string, ClientClass[]>();
  for (const c of byKey.values()) if (c.view !== '*') pushInto(byView, c.view, c);
  const special = new Set([idx.root, ...namedExportNamespaces(idx), ...routeViews(idx)]);
  return { byKey, fallbacks: [...byKey.values()].filter((c) => c.view === '*'), byView, special };
}

/** Views whose own namespace holds a DR matching the service's host, or that always matter. */
export function viewsMatching(idx: MeshIndex, svc: Service): ReadonlySet<string> {
  const memo = idx.memo(T_VIEWS_MATCHING);
  let s = memo.get(svc);
  if (!s) memo.set(svc, (s = findViews(idx, svc)));
  return s;
}

function findViews(idx: MeshIndex, svc: Service): ReadonlySet<string> {
  const hosts = viewHosts(idx);
  const fqdn = idx.fqdn(svc);
  const out = new Set<string>(hosts.always);
  for (const v of hosts.exact.get(fqdn) ?? []) out.add(v);
  if (hosts.wildcard.size) {
    // `*.suffix` patterns are found by the host's own suffixes; odd wildcards are matched one by one.
    for (const suffix of wildcardForms(idx, svc)) for (const v of hosts.wildcard.get(suffix) ?? []) out.add(v);
    for (const [pattern, views] of hosts.oddWildcard) if (hostMatches(pattern, fqdn)) for (const v of views) out.add(v);
  }
  // Services that bring in the same views share one set: most bring in none of their own.
  return out.size === hosts.always.length
    ? hosts.alwaysSet
    : idx.intern<ReadonlySet<string>>('views', 'viewSets', [...out].sort().join(','), () => out);
}

/** The DR hosts of the views that have classes, inverted: which views a host pattern brings in. */
interface ViewHosts {
  readonly always: readonly string[];
  readonly alwaysSet: ReadonlySet<string>;
  readonly exact: ReadonlyMap<string, readonly string[]>;
  /** `*.suffix` patterns and `*`. */
  readonly wildcard: ReadonlyMap<string, readonly string[]>;
  /** Wildcards of another form (`*suffix`), rare. */
  readonly oddWildcard: ReadonlyMap<string, readonly string[]>;
}

/** The wildcard patterns of the `*.suffix` form that match a Service's host, and `*`; they depend on the name only. */
export function wildcardForms(idx: MeshIndex, svc: Service): readonly string[] {
  const memo = idx.memo(T_WILDCARD_FORMS);
  const forms = memo.get(svc);
  if (forms) return forms;
  const fqdn = idx.fqdn(svc);
  const out = ['*'];
  for (let i = fqdn.indexOf('.'); i >= 0; i = fqdn.indexOf('.', i + 1)) out.push(`*${fqdn.slice(i)}`);
  memo.set(svc, out);
  return out;
}

function viewHosts(idx: MeshIndex): ViewHosts {
  return idx.cached('views', 'viewHosts', buildViewHosts);
}

function buildViewHosts(idx: MeshIndex): ViewHosts {
  const cs = clientClasses(idx);
  const always: string[] = [];
  const exact = new Map<string, string[]>();
  const wildcard = new Map<string, string[]>();
  const oddWildcard = new Map<string, string[]>();
  for (const view of cs.byView.keys()) {
    if (cs.special.has(view)) {
      always.push(view);
      continue;
    }
    for (const dr of idx.destinationRules(view)) {
      const h = drHost(idx, dr);
      const m = !isWildcard(h) ? exact : h === '*' || h.startsWith('*.') ? wildcard : oddWildcard;
      const l = m.get(h);
      if (!l) m.set(h, [view]);
      else if (!l.includes(view)) l.push(view);
    }
  }
  return { always, alwaysSet: new Set(always), exact, wildcard, oddWildcard };
}

/** The classes that need their own evaluation towards a service: the shared ones, plus views that matter. */
export function classesAt(idx: MeshIndex, svc: Service): ClientClass[] {
  const cs = clientClasses(idx);
  const out = [...cs.fallbacks];
  for (const v of viewsMatching(idx, svc)) out.push(...(cs.byView.get(v) ?? []));
  return out;
}

/** The class that represents a workload towards a service. */
export function classAt(idx: MeshIndex, w: Workload, svc: Service): ClientClass {
  return classFor(idx, clientClasses(idx).byKey.get(classKey(idx, w))!, svc);
}

/** The class that represents the members of `c` towards a service: `c`, or its shared-view stand-in. */
export function classFor(idx: MeshIndex, c: ClientClass, svc: Service): ClientClass {
  return c.view === '*' || viewsMatching(idx, svc).has(c.view) ? c : clientClasses(idx).byKey.get(c.fallbackKey)!;
}

/** The classes whose members a class stands for towards a service. */
export function representedAt(idx: MeshIndex, c: ClientClass, svc: Service): readonly ClientClass[] {
  const cs = clientClasses(idx);
  if (c.view !== '*' || cs.byView.size === 0) return alone(idx, c);
  const memo = idx.memo(T_REPRESENTED);
  let perSvc = memo.get(svc);
  if (!perSvc) memo.set(svc, (perSvc = new Map()));
  const hit = perSvc.get(c.key);
  if (hit) return hit;
  const r = computeRepresented(idx, c, svc);
  perSvc.set(c.key, r);
  return r;
}

function alone(idx: MeshIndex, c: ClientClass): readonly ClientClass[] {
  const memo = idx.memo(T_ALONE);
  let l = memo.get(c);
  if (!l) memo.set(c, (l = [c]));
  return l;
}

function computeRepresented(idx: MeshIndex, c: ClientClass, svc: Service): readonly ClientClass[] {
  const cs = clientClasses(idx);
  const matching = viewsMatching(idx, svc);
  // Services that bring in the same views share one list, so summaries work per distinct list.
  return idx.intern<readonly ClientClass[]>('views', 'representedLists', `${c.key}|${[...matching].sort().join(',')}`, () => {
    const out = [c];
    for (const [view, list] of cs.byView) {
      if (matching.has(view)) continue;
      for (const x of list) if (x.fallbackKey === c.key) out.push(x);
    }
    return out;
  });
}

/** Totals over a list of represented classes, computed once per list. */
export interface Represented {
  /** Members in all. */
  readonly members: number;
  /** (class, namespace) pairs with members: an upper bound of the detailed findings. */
  readonly entries: number;
}

/** The totals of a list that `representedAt` returned. */
export function representedTotals(idx: MeshIndex, list: readonly ClientClass[]): Represented {
  const memo = idx.memo(T_REPRESENTED_TOTALS);
  let r = memo.get(list);
  if (!r) {
    let members = 0;
    let entries = 0;
    for (const c of list) {
      members += c.members.length;
      entries += c.byNamespace.size;
    }
    memo.set(list, (r = { members, entries }));
  }
  return r;
}
