import type {
  Change,
  DestinationRule,
  IstioObject,
  IstioVersion,
  Labels,
  LegacyPolicy,
  MeshConfig,
  MeshData,
  Namespace,
  PeerAuthentication,
  Service,
  ServiceEntry,
  Workload,
} from '../model/model.js';
import { features, type VersionFeatures } from './version.js';
import { resolveShortName, serviceFqdn } from './hosts.js';
import { LAYERS, newLayer, type Layer, type MemoLayer, type MemoTable } from '../memo/layers.js';

export { memoTable, type MemoLayer, type MemoTable } from '../memo/layers.js';

/** True when every label of `selector` is on `labels`. */
export function selectorMatches(selector: Labels, labels: Labels): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

/**
 * True when a DestinationRule sets a workloadSelector, even an empty one: istiod tests the field for
 * presence, so `{}` picks every sidecar of the rule's namespace and keeps the rule unexported
 * (docs/semantics.md §3.5).
 */
export function hasWorkloadSelector(dr: { readonly workloadSelector: Labels | null }): boolean {
  return dr.workloadSelector !== null;
}

/** True when a selector is null or has no labels. */
export function isEmptySelector(s: Labels | null): boolean {
  if (!s) return true;
  for (const _ in s) return false;
  return true;
}

/**
 * Istio's config order: oldest creationTimestamp first, ties broken by name then namespace.
 * An unknown timestamp sorts as the newest.
 */
export function byCreation(a: { created: string; name: string; namespace: string }, b: typeof a): number {
  return byCreationWith(a, b, createdAt);
}

/** `byCreation` with the timestamps read through `at`, e.g. a parse once per distinct string. */
function byCreationWith(a: { created: string; name: string; namespace: string }, b: typeof a, at: (s: string) => number): number {
  const ta = at(a.created);
  const tb = at(b.created);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0;
}

/** A creation timestamp in ms; unknown sorts as the newest. */
function createdAt(s: string): number {
  return s ? Date.parse(s) : Number.POSITIVE_INFINITY;
}

/** `byCreation` reading timestamps through `at`. */
function creationOrder(at: (s: string) => number): (a: IstioObject, b: IstioObject) => number {
  return (a, b) => byCreationWith(a, b, at);
}

/** `createdAt` that parses each distinct string once: a snapshot's objects share few timestamps. */
function createdAtOnce(): (s: string) => number {
  const parsed = new Map<string, number>();
  return (s) => {
    let t = parsed.get(s);
    if (t === undefined) parsed.set(s, (t = createdAt(s)));
    return t;
  };
}

/** A stable key for an Istio object: `Kind/namespace/name`. */
export function objectKey(o: { kind: string; namespace: string; name: string }): string {
  return `${o.kind}/${o.namespace}/${o.name}`;
}

/** The empty list, shared: most namespaces hold no object of a kind. */
const NOTHING: readonly never[] = Object.freeze([]);

/** The longest chain of derived configuration indexes before one is flattened. */
const MAX_DEPTH = 32;

type Kind = IstioObject['kind'];

const KINDS: readonly Kind[] = ['PeerAuthentication', 'DestinationRule', 'Policy', 'MeshPolicy'];

/** The one list a derived index changes: its kind, its namespace and the list after (undefined when emptied). */
interface Overlay {
  readonly kind: Kind;
  readonly ns: string;
  readonly list: IstioObject[] | undefined;
}

/** The Istio security configuration, grouped by namespace and sorted by creation. */
class ConfigIndex {
  /**
   * Lists by kind, then namespace; the cluster-scoped MeshPolicy sits under the namespace ''. A
   * derived index shares its parent's maps and reads the one list it changed from `overlay`:
   * copying the changed kind's map cost every admission request a map of every namespace.
   */
  private readonly lists: Record<Kind, Map<string, IstioObject[]>>;
  private readonly overlay: Overlay | undefined;
  /** The overlay kind's map with the overlay applied, made on first need (`namespaces`, `all`, a further change). */
  private merged: Map<string, IstioObject[]> | undefined;
  /** Objects by key; a derived index holds only its one change and defers to its parent. */
  private readonly own = new Map<string, IstioObject | null>();

  /** How many changes this index sits on top of; lookups walk that far. */
  private readonly depth: number;
  /** Istio's order, with each creation timestamp parsed once for the whole chain of derived indexes. */
  private readonly order: (a: IstioObject, b: IstioObject) => number;

  private constructor(
    private readonly parent?: ConfigIndex,
    overlay?: Overlay,
  ) {
    this.depth = parent ? parent.depth + 1 : 0;
    this.overlay = overlay;
    this.order = parent ? parent.order : creationOrder(createdAtOnce());
    this.lists = {
      PeerAuthentication: parent ? parent.map('PeerAuthentication') : new Map(),
      DestinationRule: parent ? parent.map('DestinationRule') : new Map(),
      Policy: parent ? parent.map('Policy') : new Map(),
      MeshPolicy: parent ? parent.map('MeshPolicy') : new Map(),
    };
  }

  /** Indexes a set of objects. */
  static of(objects: Iterable<IstioObject>): ConfigIndex {
    const c = new ConfigIndex();
    for (const o of objects) {
      c.own.set(objectKey(o), o);
      pushInto(c.lists[o.kind], o.namespace, o);
    }
    for (const m of Object.values(c.lists)) for (const list of m.values()) list.sort(c.order);
    return c;
  }

  /** The whole map of a kind, the overlay applied. */
  private map(kind: Kind): Map<string, IstioObject[]> {
    const o = this.overlay;
    if (!o || o.kind !== kind) return this.lists[kind];
    if (!this.merged) {
      // Copied entry by entry: a Map built from another's iterator allocates a pair per entry.
      const m = new Map<string, IstioObject[]>();
      this.lists[kind].forEach((l, ns) => {
        m.set(ns, l);
      });
      if (o.list) m.set(o.ns, o.list);
      else m.delete(o.ns);
      this.merged = m;
    }
    return this.merged;
  }

  /** The objects of a kind in a namespace, oldest first. */
  list<T extends IstioObject>(kind: T['kind'], ns: string): readonly T[] {
    const o = this.overlay;
    if (o && o.kind === kind && o.ns === ns) return (o.list ?? NOTHING) as readonly T[];
    return (this.lists[kind].get(ns) ?? NOTHING) as readonly T[];
  }

  /** Namespaces that hold objects of a kind. */
  namespaces(kind: Kind): Iterable<string> {
    return this.map(kind).keys();
  }

  /** Every object in force. */
  all(): IstioObject[] {
    const out: IstioObject[] = [];
    for (const k of KINDS) for (const l of this.map(k).values()) out.push(...l);
    return out;
  }

  /** The object with this key, if any. */
  get(key: string): IstioObject | undefined {
    for (let c: ConfigIndex | undefined = this; c; c = c.parent) {
      const v = c.own.get(key);
      if (v !== undefined) return v ?? undefined;
    }
    return undefined;
  }

  /** A copy with one object replaced or removed; only the list it sits in is rebuilt. */
  with(key: string, obj: IstioObject | undefined, prev: IstioObject | undefined): ConfigIndex {
    const o = (obj ?? prev)!;
    const list = this.list(o.kind, o.namespace).filter((x) => objectKey(x) !== key);
    if (obj) {
      list.push(obj);
      list.sort(this.order);
    }
    const next = new ConfigIndex(this, { kind: o.kind, ns: o.namespace, list: list.length ? list : undefined });
    next.own.set(key, obj ?? null);
    // A long-lived source applies change after change: past a few dozen, start a fresh chain.
    return next.depth > MAX_DEPTH ? next.flattened() : next;
  }

  /** The same objects in an index of its own, with no parent to walk. */
  private flattened(): ConfigIndex {
    return ConfigIndex.of(this.all());
  }
}

/**
 * Adds `v` to the list of `k`. A new list is `[v]`, not `[]` pushed to: a push to an empty array
 * reserves room for 17, and most lists of a lookup hold one or two.
 */
export function pushInto<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** Workloads and Services, grouped once and shared by every MeshIndex derived from the same snapshot. */
class Inventory {
  readonly namespaces = new Map<string, Namespace>();
  readonly workloadsByNs = new Map<string, Workload[]>();
  readonly servicesByNs = new Map<string, Service[]>();
  readonly servicesByFqdn = new Map<string, Service>();
  readonly serviceEntries: readonly ServiceEntry[];
  readonly endpointCache = new Map<Service, readonly Workload[]>();
  /** Each Service's host, built once: host matching runs per (rule, service) on flat strings. */
  readonly fqdnOf = new Map<Service, string>();
  readonly servicesOfWorkload = new Map<Workload, Service[]>();
  readonly memo: Layer = newLayer();
  /** A list of numbers reused by every computation of the snapshot that fills and reads one in a single call. */
  scratch: number[] = [];

  constructor(data: MeshData) {
    for (const n of data.namespaces) this.namespaces.set(n.name, n);
    for (const w of data.workloads) pushInto(this.workloadsByNs, w.namespace, w);
    for (const s of data.services) {
      pushInto(this.servicesByNs, s.namespace, s);
      const fqdn = s.host ?? serviceFqdn(s.name, s.namespace, data.mesh.clusterDomain);
      this.servicesByFqdn.set(fqdn, s);
      this.fqdnOf.set(s, fqdn);
    }
    this.serviceEntries = data.serviceEntries;
    for (const s of data.services) {
      for (const w of this.endpoints(s)) pushInto(this.servicesOfWorkload, w, s);
    }
    // Arrays grown by push keep room for more; these are read for the life of the index.
    for (const m of [this.workloadsByNs, this.servicesByNs, this.servicesOfWorkload] as Map<unknown, unknown[]>[]) {
      for (const [k, l] of m) m.set(k, l.slice());
    }
  }

  /**
   * This inventory with some workloads replaced by new versions of themselves (same owner, new
   * labels or mesh): what a fix that enrols workloads is tried on. Only the namespaces of the moved
   * workloads are regrouped; everything else is shared or copied.
   */
  replacing(moved: ReadonlyMap<Workload, Workload>, data: MeshData): Inventory {
    const inv = Object.create(Inventory.prototype) as Inventory;
    const touched = new Set<string>();
    for (const w of moved.keys()) touched.add(w.namespace);
    const byNs = new Map(this.workloadsByNs);
    for (const ns of touched)
      byNs.set(
        ns,
        (this.workloadsByNs.get(ns) ?? []).map((w) => moved.get(w) ?? w),
      );
    const endpointCache = new Map<Service, readonly Workload[]>();
    for (const [s, e] of this.endpointCache) if (!touched.has(s.namespace)) endpointCache.set(s, e);
    const servicesOf = new Map(this.servicesOfWorkload);
    for (const ns of touched) for (const w of this.workloadsByNs.get(ns) ?? []) servicesOf.delete(w);
    Object.assign(inv, {
      namespaces: this.namespaces,
      workloadsByNs: byNs,
      servicesByNs: this.servicesByNs,
      servicesByFqdn: this.servicesByFqdn,
      serviceEntries: data.serviceEntries,
      endpointCache,
      fqdnOf: this.fqdnOf,
      servicesOfWorkload: servicesOf,
      memo: newLayer(),
      scratch: [],
    });
    for (const ns of touched) for (const s of this.servicesByNs.get(ns) ?? []) for (const w of inv.endpoints(s)) pushInto(servicesOf, w, s);
    return inv;
  }

  endpoints(s: Service): readonly Workload[] {
    let e = this.endpointCache.get(s);
    if (e) return e;
    const sel = s.selector;
    e = sel && !isEmptySelector(sel) ? (this.workloadsByNs.get(s.namespace) ?? []).filter((w) => selectorMatches(sel, w.labels)) : [];
    this.endpointCache.set(s, e);
    return e;
  }
}

/**
 * Indexes over one mesh snapshot. `apply` derives the index after a change; workloads and
 * services are shared, only the Istio configuration is regrouped, so a change never rebuilds
 * the world.
 */
export class MeshIndex {
  /** The snapshot as loaded. Istio objects in force are read through the indexes, not from here. */
  readonly data: MeshData;
  readonly inv: Inventory;
  readonly cfg: ConfigIndex;
  readonly features: VersionFeatures;
  readonly autoMtls: boolean;
  /**
   * Memo tables by what they depend on: `static` on workloads and services only (shared by every
   * derived index), `views` on client classes and DR views (which namespaces have rules, with which
   * hosts, selectors and exportTo), `dr` on DestinationRules, `auth` on PeerAuthentications and
   * legacy policies, `own` on everything. `apply` hands unaffected layers to the derived index, so
   * a change only recomputes what it can alter.
   */
  private readonly layers: Record<MemoLayer, Layer>;
  /** The slot tables of the layers, by `LAYERS` index: `memo` runs on every hot path. */
  private readonly slots: readonly Layer['slots'][];

  private constructor(data: MeshData, inv: Inventory, cfg: ConfigIndex, layers?: Partial<Record<MemoLayer, Layer>>) {
    this.data = data;
    this.inv = inv;
    this.cfg = cfg;
    this.layers = {
      static: inv.memo,
      views: layers?.views ?? newLayer(),
      dr: layers?.dr ?? newLayer(),
      auth: layers?.auth ?? newLayer(),
      own: newLayer(),
    };
    this.slots = LAYERS.map((l) => this.layers[l].slots);
    this.features = features(data.version);
    this.autoMtls = this.features.autoMtlsAvailable && (data.mesh.enableAutoMtls ?? this.features.autoMtlsDefault);
  }

  /** Indexes a snapshot. */
  static build(data: MeshData): MeshIndex {
    return new MeshIndex(data, new Inventory(data), ConfigIndex.of(allObjects(data)));
  }

  /**
   * This index with some workloads replaced by new versions of themselves, and the configuration
   * in force here. Nothing memoised carries over: every layer can depend on a workload.
   */
  withWorkloads(moved: ReadonlyMap<Workload, Workload>): MeshIndex {
    const data: MeshData = { ...this.data, workloads: this.data.workloads.map((w) => moved.get(w) ?? w) };
    return new MeshIndex(data, this.inv.replacing(moved, data), this.cfg);
  }

  get mesh(): MeshConfig {
    return this.data.mesh;
  }
  get version(): IstioVersion {
    return this.data.version;
  }
  get root(): string {
    return this.data.mesh.rootNamespace;
  }

  /** The index after a change. */
  apply(change: Change): MeshIndex {
    const key = objectKey(change.object);
    const prev = this.cfg.get(key);
    let obj: IstioObject | undefined;
    if (change.operation !== 'DELETE') {
      // UPDATE keeps the stored creationTimestamp: Istio orders by it and an update never changes it.
      obj = prev && !change.object.created ? ({ ...change.object, created: prev.created } as IstioObject) : change.object;
    }
    if (!obj && !prev) return this;
    const cfg = this.cfg.with(key, obj, prev);
    // `data` stays the snapshot as loaded: the configuration in force is read through `cfg` only.
    if (change.object.kind !== 'DestinationRule')
      return new MeshIndex(this.data, this.inv, cfg, { views: this.layers.views, dr: this.layers.dr });
    const views = this.viewsStable(prev as DestinationRule | undefined, obj as DestinationRule | undefined)
      ? { views: this.layers.views }
      : {};
    return new MeshIndex(this.data, this.inv, cfg, { ...views, auth: this.layers.auth });
  }

  /**
   * True when a DestinationRule change leaves client classes and DR views as they are: no
   * workload selector and no exportTo naming a namespace on either side, and a namespace that
   * keeps a view of its own with the same hosts (the root namespace always has one).
   */
  private viewsStable(prev: DestinationRule | undefined, next: DestinationRule | undefined): boolean {
    if (this.features.drGlobalLookup) return true;
    const either = [prev, next].filter((d): d is DestinationRule => d !== undefined);
    for (const d of either) {
      if (this.features.drWorkloadSelector && hasWorkloadSelector(d)) return false;
      if (d.exportTo?.some((e) => e !== '*' && e !== '.')) return false;
    }
    const ns = either[0]!.namespace;
    if (ns === this.root) return true;
    const host = (d: DestinationRule): string => resolveShortName(d.host, ns, this.mesh.clusterDomain);
    return prev !== undefined && next !== undefined && host(prev) === host(next);
  }

  /** The snapshot with the Istio configuration in force here (after every change applied), for a fresh build. */
  snapshot(): MeshData {
    const objects = this.cfg.all();
    const of = <K extends IstioObject['kind']>(...kinds: K[]): Extract<IstioObject, { kind: K }>[] =>
      objects.filter((o): o is Extract<IstioObject, { kind: K }> => (kinds as string[]).includes(o.kind));
    return {
      ...this.data,
      peerAuthentications: of('PeerAuthentication'),
      destinationRules: of('DestinationRule'),
      legacyPolicies: of('Policy', 'MeshPolicy'),
    };
  }

  /** Every Istio object in force here. */
  configObjects(): IstioObject[] {
    return this.cfg.all();
  }

  /** The object with the same kind, namespace and name, if any. */
  find(o: { kind: string; namespace: string; name: string }): IstioObject | undefined {
    return this.cfg.get(objectKey(o));
  }

  namespace(name: string): Namespace | undefined {
    return this.inv.namespaces.get(name);
  }
  workloads(ns: string): readonly Workload[] {
    return this.inv.workloadsByNs.get(ns) ?? [];
  }
  allWorkloads(): readonly Workload[] {
    return this.data.workloads;
  }
  services(ns: string): readonly Service[] {
    return this.inv.servicesByNs.get(ns) ?? [];
  }
  allServices(): readonly Service[] {
    return this.data.services;
  }
  /** Namespaces that hold Services, in the order of their first Service. */
  serviceNamespaces(): Iterable<string> {
    return this.inv.servicesByNs.keys();
  }
  endpoints(s: Service): readonly Workload[] {
    return this.inv.endpoints(s);
  }
  servicesOf(w: Workload): readonly Service[] {
    return this.inv.servicesOfWorkload.get(w) ?? [];
  }
  serviceByFqdn(fqdn: string): Service | undefined {
    return this.inv.servicesByFqdn.get(fqdn);
  }
  fqdn(s: Service): string {
    return this.inv.fqdnOf.get(s) ?? s.host ?? serviceFqdn(s.name, s.namespace, this.mesh.clusterDomain);
  }
  peerAuthentications(ns: string): readonly PeerAuthentication[] {
    return this.cfg.list<PeerAuthentication>('PeerAuthentication', ns);
  }
  destinationRules(ns: string): readonly DestinationRule[] {
    return this.cfg.list<DestinationRule>('DestinationRule', ns);
  }
  drNamespaces(): Iterable<string> {
    return this.cfg.namespaces('DestinationRule');
  }
  policies(ns: string): readonly LegacyPolicy[] {
    return this.cfg.list<LegacyPolicy>('Policy', ns);
  }
  meshPolicies(): readonly LegacyPolicy[] {
    return this.cfg.list<LegacyPolicy>('MeshPolicy', '');
  }

  /** True when two indexes share a memo layer: what it holds is the same in both. */
  sharesLayer(other: MeshIndex, layer: MemoLayer): boolean {
    return this.layers[layer] === other.layers[layer];
  }

  /** A map memoised under `key` in a layer: `cached` without a closure, for hot paths. */
  cachedMap<K, V>(layer: MemoLayer, key: string): Map<K, V> {
    const m = this.layers[layer].values;
    let v = m.get(key) as Map<K, V> | undefined;
    if (!v) m.set(key, (v = new Map<K, V>()));
    return v;
  }

  /**
   * One object per key in a layer's table `name`: the one there already, else what `make` builds.
   * Lists that many ports or services would build alike are shared this way, so that later work
   * can group by identity.
   */
  intern<V>(layer: MemoLayer, name: string, key: string, make: () => V): V {
    const shared = this.cachedMap<string, V>(layer, name);
    let v = shared.get(key);
    if (v === undefined) shared.set(key, (v = make()));
    return v;
  }

  /**
   * Memoises `fn` under `key` in a layer. `fn` gets the index, so that hot callers can pass a
   * module-level function instead of a closure made on every call.
   */
  cached<T>(layer: MemoLayer, key: string, fn: (idx: MeshIndex) => T): T {
    const m = this.layers[layer].values;
    if (m.has(key)) return m.get(key) as T;
    const v = fn(this);
    m.set(key, v);
    return v;
  }

  /** The map of a memo table in this index (see `memoTable`): a slot lookup, no key strings. */
  memo<K extends object, V>(t: MemoTable<K, V>): Map<K, V> {
    const slots = this.slots[t.layerIndex]!;
    let m = slots[t.slot];
    if (!m) slots[t.slot] = m = new Map();
    return m as Map<K, V>;
  }

  /**
   * A list with room for `n` numbers, shared by every index of the snapshot: a caller fills it
   * and reads it before anything else can ask for it, so lookups that find their answer allocate
   * nothing.
   */
  scratch(n: number): number[] {
    if (this.inv.scratch.length < n) this.inv.scratch = new Array<number>(n).fill(0);
    return this.inv.scratch;
  }

  /** The weak map of a memo table keyed by immutable objects: it keeps no key alive. */
  weakMemo<K extends object, V>(t: MemoTable<K, V>): WeakMap<K, V> {
    const slots = this.slots[t.layerIndex]!;
    let m = slots[t.slot];
    if (!m) slots[t.slot] = m = new WeakMap();
    return m as WeakMap<K, V>;
  }
}

function allObjects(d: MeshData): IstioObject[] {
  return [...d.peerAuthentications, ...d.legacyPolicies, ...d.destinationRules];
}
