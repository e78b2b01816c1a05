import * as k8s from '@kubernetes/client-node';
import type { IstioObject, Labels, Traffic } from '../core/model/model.js';
import { MeshIndex } from '../core/mesh/mesh-index.js';
import { prepare } from '../core/evaluate.js';
import { asObject, isJudged, type Json } from '../core/model/objects.js';
import { apiStatusOf } from '../core/model/errors.js';
import type { LoadedDoc } from './manifests.js';
import { istioObjectOf, projectSnapshot, type ProjectOptions } from './project.js';
import { prune } from './prune.js';
import { compact, materializer, Store, type Compact } from './intern.js';

/** A kind the snapshot lists and watches. `group` '' is the core API. */
export interface KindSpec {
  readonly group: string;
  /** Versions to try, most preferred first; the served one is found by discovery. */
  readonly versions: readonly string[];
  readonly kind: string;
  readonly plural: string;
  readonly fieldSelector?: string;
  /** Istio CRDs may be absent; the core kinds may not. */
  readonly optional: boolean;
}

/** Every kind the engine reads (issue: live mesh snapshot). */
export const KINDS: readonly KindSpec[] = [
  { group: '', versions: ['v1'], kind: 'Namespace', plural: 'namespaces', optional: false },
  { group: '', versions: ['v1'], kind: 'Pod', plural: 'pods', optional: false },
  { group: '', versions: ['v1'], kind: 'Service', plural: 'services', optional: false },
  { group: '', versions: ['v1'], kind: 'ConfigMap', plural: 'configmaps', fieldSelector: 'metadata.name=istio', optional: false },
  { group: 'apps', versions: ['v1'], kind: 'Deployment', plural: 'deployments', optional: false },
  { group: 'apps', versions: ['v1'], kind: 'StatefulSet', plural: 'statefulsets', optional: false },
  { group: 'apps', versions: ['v1'], kind: 'DaemonSet', plural: 'daemonsets', optional: false },
  { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], kind: 'ServiceEntry', plural: 'serviceentries', optional: true },
  { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], kind: 'Sidecar', plural: 'sidecars', optional: true },
  {
    group: 'networking.istio.io',
    versions: ['v1', 'v1beta1', 'v1alpha3'],
    kind: 'VirtualService',
    plural: 'virtualservices',
    optional: true,
  },
  {
    group: 'networking.istio.io',
    versions: ['v1', 'v1beta1', 'v1alpha3'],
    kind: 'DestinationRule',
    plural: 'destinationrules',
    optional: true,
  },
  { group: 'security.istio.io', versions: ['v1', 'v1beta1'], kind: 'PeerAuthentication', plural: 'peerauthentications', optional: true },
  { group: 'security.istio.io', versions: ['v1', 'v1beta1'], kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', optional: true },
  { group: 'authentication.istio.io', versions: ['v1alpha1'], kind: 'Policy', plural: 'policies', optional: true },
  { group: 'authentication.istio.io', versions: ['v1alpha1'], kind: 'MeshPolicy', plural: 'meshpolicies', optional: true },
  // Objects that name callers from outside the mesh (issue: known callers).
  {
    group: 'admissionregistration.k8s.io',
    versions: ['v1'],
    kind: 'ValidatingWebhookConfiguration',
    plural: 'validatingwebhookconfigurations',
    optional: true,
  },
  {
    group: 'admissionregistration.k8s.io',
    versions: ['v1'],
    kind: 'MutatingWebhookConfiguration',
    plural: 'mutatingwebhookconfigurations',
    optional: true,
  },
  {
    group: 'apiextensions.k8s.io',
    versions: ['v1'],
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    optional: true,
  },
  { group: 'apiregistration.k8s.io', versions: ['v1'], kind: 'APIService', plural: 'apiservices', optional: true },
  { group: 'networking.k8s.io', versions: ['v1'], kind: 'Ingress', plural: 'ingresses', optional: true },
  { group: 'networking.k8s.io', versions: ['v1'], kind: 'IngressClass', plural: 'ingressclasses', optional: true },
  { group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], kind: 'Gateway', plural: 'gateways', optional: true },
  { group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], kind: 'HTTPRoute', plural: 'httproutes', optional: true },
  { group: 'monitoring.coreos.com', versions: ['v1'], kind: 'ServiceMonitor', plural: 'servicemonitors', optional: true },
  { group: 'monitoring.coreos.com', versions: ['v1'], kind: 'PodMonitor', plural: 'podmonitors', optional: true },
];

/** How long one watch request lasts before the server ends it and the loop resumes it. */
export const WATCH_SECONDS = 25;

/** Timing and options of the cluster source. */
export interface ClusterOptions extends ProjectOptions {
  /** Page size of the initial lists. */
  readonly pageSize?: number;
  /** Wait this long after the last change before rebuilding the indexes. */
  readonly debounceMs?: number;
  readonly maxBackoffMs?: number;
  /** Called on errors that the source recovers from (logged by the caller). */
  readonly onError?: (kind: string, err: Error) => void;
  /** Called when a kind is listed again because its watch could not resume (410 Gone). */
  readonly onRelist?: (kind: string, reason: string) => void;
  /** The clock, ms since the epoch. */
  readonly now?: () => number;
}

interface KindState {
  readonly spec: KindSpec;
  version?: string;
  served: boolean;
  listed: boolean;
  resourceVersion: string;
  lastEventMs: number;
  objects: Store;
  abort?: AbortController;
  /** Set when the resourceVersion expired (410 Gone): why the next round lists again. */
  expired?: string;
  relists: number;
}

function namespaceOf(o: Json): string {
  return String(asObject(o['metadata'])['namespace'] ?? '');
}

/** A Pod that names a controller: every Pod of its shape projects to the same workload. */
function ownedByController(pod: Json): boolean {
  const refs = asObject(pod['metadata'])['ownerReferences'];
  return Array.isArray(refs) && refs.length > 0 && asObject(refs[0])['controller'] === true;
}

/**
 * True when an event changes nothing the engine reads, so that the index stays as it is: a
 * status-only update keeps the pruned shape (the same text); a Pod
 * added next to (or deleted from beside) a Pod of the same shape and controller adds or removes no
 * workload, only one in its count, which the engine does not read.
 */
function changesNothing(k: KindState, o: Json, prev: Compact | undefined, next: Compact | undefined): boolean {
  if (prev && next) return prev.shape === next.shape;
  if (k.spec.kind !== 'Pod') return false;
  const shape = (next ?? prev)?.shape;
  // After the store was updated: another Pod still (or already) uses this shape. `o` is the
  // event's pruned Pod, the one that shape was written from.
  return shape !== undefined && ownedByController(o) && k.objects.usesOf(shape) >= (next ? 2 : 1);
}

/**
 * The mesh snapshot from a live cluster: a paginated list and a watch (with bookmarks) per kind,
 * relisting on 410 Gone and reconnecting with backoff. It keeps pruned projections, not whole
 * objects. Events that change nothing the engine reads leave the index alone; Istio security
 * objects change it in place; other kinds rebuild it in the background (debounced). An admission
 * request only ever reads the last index.
 */
export class ClusterSnapshot {
  private readonly kinds: KindState[];
  private readonly api: k8s.KubernetesObjectApi;
  private readonly watch: k8s.Watch;
  private readonly opts: Required<Pick<ClusterOptions, 'pageSize' | 'debounceMs' | 'maxBackoffMs' | 'now'>> & ClusterOptions;
  private idx: MeshIndex | null = null;
  private rebuildTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private traffic: Traffic | null;
  private lastRebuildMs = 0;
  private prepareTimer: NodeJS.Timeout | undefined;
  private inPlace = 0;
  private rebuilds = 0;
  private unchanged = 0;
  private discovered = false;
  /** Optional kinds the cluster does not serve, for the one warning. */
  readonly missing: string[] = [];

  constructor(
    private readonly kc: k8s.KubeConfig,
    opts: ClusterOptions = {},
  ) {
    this.opts = { pageSize: 500, debounceMs: 200, maxBackoffMs: 30_000, now: () => Date.now(), ...opts };
    this.api = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.watch = new k8s.Watch(kc);
    this.traffic = opts.traffic ?? null;
    this.kinds = KINDS.map((spec) => ({
      spec,
      served: false,
      listed: false,
      resourceVersion: '',
      lastEventMs: 0,
      objects: new Store(spec.kind === 'Pod'),
      relists: 0,
    }));
  }

  /**
   * Discovers which versions are served, then starts a list+watch loop per kind. While the API
   * server cannot be reached it keeps trying, with backoff, and resolves once discovery succeeds
   * (or the snapshot is stopped); `ready()` stays false until every served kind is listed.
   */
  async start(): Promise<void> {
    let backoff = 250;
    while (!this.stopped) {
      try {
        await this.discover();
        this.discovered = true;
        break;
      } catch (e) {
        if (this.stopped) return;
        this.opts.onError?.('discovery', e as Error);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs);
      }
    }
    for (const k of this.kinds) if (k.served && !this.stopped) void this.loop(k);
  }

  private async discover(): Promise<void> {
    const apis = this.kc.makeApiClient(k8s.ApisApi);
    const groups = new Map<string, string[]>();
    const list = await apis.getAPIVersions();
    for (const g of list.groups)
      groups.set(
        g.name,
        g.versions.map((v) => v.version),
      );
    for (const k of this.kinds) {
      if (k.spec.group === '') {
        k.version = 'v1';
        k.served = true;
        continue;
      }
      const served = groups.get(k.spec.group) ?? [];
      k.version = k.spec.versions.find((v) => served.includes(v));
      k.served = k.version !== undefined;
      if (!k.served) this.missing.push(`${k.spec.plural}.${k.spec.group}`);
    }
  }

  private apiVersion(k: KindState): string {
    return k.spec.group ? `${k.spec.group}/${k.version}` : k.version!;
  }

  private path(k: KindState): string {
    return k.spec.group ? `/apis/${k.spec.group}/${k.version}/${k.spec.plural}` : `/api/v1/${k.spec.plural}`;
  }

  private async list(k: KindState): Promise<void> {
    const fresh = new Store(k.spec.kind === 'Pod');
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.api.list(
        this.apiVersion(k),
        k.spec.kind,
        undefined,
        undefined,
        undefined,
        undefined,
        k.spec.fieldSelector,
        undefined,
        this.opts.pageSize,
        cont,
      );
      for (const item of page.items as unknown as Json[]) {
        const o = prune({ ...item, apiVersion: this.apiVersion(k), kind: k.spec.kind });
        fresh.set(namespaceOf(o), compact(o));
      }
      cont = page.metadata?._continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    k.objects = fresh;
    k.resourceVersion = rv;
    k.listed = true;
    k.lastEventMs = this.opts.now();
    this.changed();
  }

  private watchOnce(k: KindState): Promise<void> {
    return new Promise((resolve, reject) => {
      // The server ends each watch after WATCH_SECONDS, before any client-side idle timeout.
      const params: Record<string, string | boolean | number> = {
        resourceVersion: k.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: WATCH_SECONDS,
      };
      if (k.spec.fieldSelector) params['fieldSelector'] = k.spec.fieldSelector;
      this.watch
        .watch(
          this.path(k),
          params,
          (type, obj: Json) => {
            k.lastEventMs = this.opts.now();
            const md = asObject(obj?.['metadata']);
            if (type === 'ERROR') {
              // The watch window expired: only a new list can catch up.
              if (apiStatusOf(obj) === 410) this.expire(k, obj);
              return;
            }
            if (typeof md['resourceVersion'] === 'string') k.resourceVersion = md['resourceVersion'];
            if (type === 'BOOKMARK') return;
            const o = prune({ ...obj, apiVersion: this.apiVersion(k), kind: k.spec.kind });
            const ns = namespaceOf(o);
            const name = String(asObject(o['metadata'])['name'] ?? '');
            const prev = k.objects.get(ns, name);
            let next: Compact | undefined;
            if (type === 'DELETED') k.objects.delete(ns, name);
            else next = k.objects.set(ns, compact(o));
            if (changesNothing(k, o, prev, next)) this.unchanged++;
            else if (!this.applyInPlace(k, type === 'DELETED', o)) this.changed();
          },
          (err) => (err && !this.stopped ? reject(err) : resolve()),
        )
        .then((a) => {
          k.abort = a;
        }, reject);
    });
  }

  /** The resourceVersion is too old to watch from: only a new list can catch up. */
  private expire(k: KindState, why: unknown): void {
    const msg = (why as { message?: string })?.message;
    k.expired = `410 Gone at resourceVersion ${k.resourceVersion}${msg ? ` (${msg.replace(/\.$/, '')})` : ''}`;
    k.resourceVersion = '';
  }

  /** How many times each kind was listed again after its first list. */
  relistCounts(): ReadonlyMap<string, number> {
    return new Map(this.kinds.map((k) => [k.spec.kind, k.relists]));
  }

  private async loop(k: KindState): Promise<void> {
    let backoff = 250;
    while (!this.stopped) {
      try {
        if (!k.resourceVersion) {
          if (k.listed) {
            k.relists++;
            this.opts.onRelist?.(k.spec.kind, k.expired ?? 'the watch could not resume');
          }
          k.expired = undefined;
          await this.list(k);
        }
        await this.watchOnce(k);
        backoff = 250;
      } catch (e) {
        if (this.stopped) return;
        if (apiStatusOf(e) === 410) this.expire(k, e);
        else this.opts.onError?.(k.spec.kind, e as Error);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs);
      }
    }
  }

  /**
   * A judged Istio object (PeerAuthentication, DestinationRule, Policy, MeshPolicy) updates the
   * index in place: the next request already sees it, and nothing is rebuilt. False when it cannot
   * (no index yet, another kind, an object the engine refuses), so that a rebuild handles it.
   */
  private applyInPlace(k: KindState, deleted: boolean, o: Json): boolean {
    if (!this.idx || !isJudged(o)) return false;
    let object: IstioObject;
    try {
      // The same projection a rebuild makes of this object.
      object = istioObjectOf({ obj: o, file: `cluster:${k.spec.kind}`, doc: 0 });
    } catch {
      // The rebuild reports it, as it would for any object it cannot read.
      return false;
    }
    this.idx = this.idx.apply({ operation: deleted ? 'DELETE' : 'UPDATE', object });
    this.inPlace++;
    this.schedulePrepare();
    return true;
  }

  /** Prepares the index again after in-place changes, once they pause (see `prepare`). */
  private schedulePrepare(): void {
    if (this.prepareTimer) return;
    this.prepareTimer = setTimeout(() => {
      this.prepareTimer = undefined;
      if (this.idx) prepare(this.idx);
    }, this.opts.debounceMs);
  }

  /** How many events were applied to the index in place, left it as it was, or led to a full rebuild. */
  updateCounts(): { inPlace: number; rebuilds: number; unchanged: number } {
    return { inPlace: this.inPlace, rebuilds: this.rebuilds, unchanged: this.unchanged };
  }

  private changed(): void {
    // A stopped snapshot (or one listed once) is not rebuilt in the background.
    if (this.rebuildTimer || this.stopped) return;
    // Under constant churn a large cluster would rebuild back to back: waiting four times the last
    // rebuild keeps the background work under a fifth of a core, at the price of a little staleness.
    const wait = Math.max(this.opts.debounceMs, 4 * this.lastRebuildMs);
    this.rebuildTimer = setTimeout(
      () => {
        this.rebuildTimer = undefined;
        this.rebuild();
      },
      this.ready() && this.idx ? wait : 0,
    );
  }

  /** The kept projections as the documents the projection reads. */
  private documents(): LoadedDoc[] {
    const docs: LoadedDoc[] = [];
    const materialize = materializer();
    for (const k of this.kinds)
      for (const o of k.objects.values()) docs.push({ obj: materialize(o), file: `cluster:${k.spec.kind}`, doc: 0 });
    return docs;
  }

  /**
   * Lists every served kind once, with no watch and no background rebuild, and returns what a
   * rebuild would project (with `unique: true`): the CLI's one read of a live cluster, made by
   * the same discovery, lists and pruning as this snapshot's. Errors are the API client's.
   */
  async listOnce(): Promise<LoadedDoc[]> {
    this.stopped = true;
    await this.discover();
    this.discovered = true;
    await Promise.all(this.kinds.filter((k) => k.served).map((k) => this.list(k)));
    return this.documents();
  }

  /** Builds the index from the current projections (in the background, never on a request). */
  rebuild(): void {
    if (!this.ready()) return;
    const docs = this.documents();
    const t0 = this.opts.now();
    try {
      this.idx = prepare(MeshIndex.build(projectSnapshot(docs, { ...this.opts, traffic: this.traffic, unique: true }).data));
      this.rebuilds++;
    } catch (e) {
      this.opts.onError?.('snapshot', e as Error);
    }
    this.lastRebuildMs = this.opts.now() - t0;
  }

  /** Replaces the traffic evidence and rebuilds. */
  setTraffic(t: Traffic | null): void {
    this.traffic = t;
    this.changed();
  }

  /**
   * A namespace's labels as the last watch event left them, before any rebuild: what the mode
   * label says now. Undefined for a namespace not seen.
   */
  namespaceLabels(ns: string): Labels | undefined {
    const c = this.kinds.find((k) => k.spec.kind === 'Namespace')?.objects.get('', ns);
    if (!c) return undefined;
    const labels = asObject(asObject(JSON.parse(c.shape) as Json)['metadata'])['labels'];
    return (labels && typeof labels === 'object' ? labels : {}) as Labels;
  }

  /** True once discovery succeeded and every served kind has been listed once. */
  ready(): boolean {
    return this.discovered && this.kinds.every((k) => !k.served || k.listed);
  }

  /** The last built index, or null before the first. */
  index(): MeshIndex | null {
    return this.idx;
  }

  /** Seconds since the last event (or list) per kind. */
  kindAges(): Map<string, number> {
    const now = this.opts.now();
    return new Map(this.kinds.filter((k) => k.served).map((k) => [k.spec.kind, k.lastEventMs ? (now - k.lastEventMs) / 1000 : -1]));
  }

  /** Seconds since any kind last heard from the API server. */
  ageSeconds(): number | null {
    const last = Math.max(0, ...this.kinds.map((k) => k.lastEventMs));
    return last ? (this.opts.now() - last) / 1000 : null;
  }

  /** Stops every watch. */
  stop(): void {
    this.stopped = true;
    if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
    if (this.prepareTimer) clearTimeout(this.prepareTimer);
    for (const k of this.kinds) k.abort?.abort();
  }
}
