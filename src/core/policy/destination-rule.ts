import type { ClientTls, DestinationRule, Labels, PortTrafficPolicy, TlsMode, TrafficPolicy } from '../model/model.js';
import { objectRef } from '../model/model.js';
import { compareSpecificity, hostMatches, resolveShortName } from '../mesh/hosts.js';
import { memoTable, byCreation, isEmptySelector, selectorMatches, type MeshIndex } from '../mesh/mesh-index.js';

const T_HOST = memoTable<DestinationRule, string>('dr:host');

/** The client side of a DestinationRule lookup. */
export interface DrClient {
  readonly namespace: string;
  readonly labels: Labels;
}

/** Which DestinationRule applies to a (client, host, service port), and the TLS it sets. */
export interface DrResolution extends PortPolicy {
  /** The rule whose trafficPolicy was used, or null when no DR applies. */
  readonly rule: DestinationRule | null;
  /** How the TLS was chosen, in words, for reasons and fixes. */
  readonly via: string;
}

/**
 * What a rule says for one service port, as Istio's cluster and endpoint builders each read it
 * (docs/semantics.md §3.5).
 */
export interface PortPolicy {
  /**
   * The cluster's TLS; null lets auto mTLS decide. A `portLevelSettings` entry for the port
   * replaces the top level wholesale (`MergeTrafficPolicy` in pilot/pkg/model/destination_rule.go),
   * so an entry without `tls` leaves the port to auto mTLS.
   */
  readonly tls: ClientTls | null;
  /**
   * `loadBalancer.simple: PASSTHROUGH` for the port (a port entry replaces the top level here too):
   * an ORIGINAL_DST cluster, whose one transport socket serves every endpoint.
   */
  readonly passthrough: boolean;
  /**
   * `loadBalancer.simple: PASSTHROUGH` at the rule's top level, which is what Istio infers the
   * service's mode from (`BestEffortInferServiceMTLSMode` reads the top-level policy): one endpoint
   * without the mTLS label then turns auto mTLS to plaintext for the whole service.
   */
  readonly inferPassthrough: boolean;
  /**
   * The mode the endpoints' TLS metadata is built from (`tlsModeForDestinationRule` in
   * pilot/pkg/xds/endpoints/mtls_checker.go): the port entry's `tls` when it sets one, else the
   * top level's. Set while `tls` is null only when an entry without `tls` sits under a top-level
   * `tls`: ISTIO_MUTUAL keeps each endpoint's own label and skips its policy; any other mode strips
   * the label, and auto mTLS then sends plaintext to every endpoint.
   */
  readonly endpointMode: TlsMode | null;
}

const NO_POLICY: PortPolicy = { tls: null, passthrough: false, inferPassthrough: false, endpointMode: null };
const NO_DR: DrResolution = { rule: null, ...NO_POLICY, via: 'no DestinationRule' };

/** The host pattern of a DR as Istio indexes it: short names resolved relative to the DR's namespace. */
export function drHost(idx: MeshIndex, dr: DestinationRule): string {
  const memo = idx.memo(T_HOST);
  let h = memo.get(dr);
  if (h === undefined) memo.set(dr, (h = resolveShortName(dr.host, dr.namespace, idx.mesh.clusterDomain)));
  return h;
}

/** Istio's default when neither the rule nor the mesh config sets exportTo: every namespace. */
const EVERYWHERE: readonly string[] = Object.freeze(['*']);

function exportTo(idx: MeshIndex, dr: DestinationRule): readonly string[] {
  return dr.exportTo?.length ? dr.exportTo : (idx.mesh.defaultDestinationRuleExportTo ?? EVERYWHERE);
}

/** True when a DR is visible only in its own namespace (`exportTo: ["."]`, or a selector DR). */
export function isPrivate(idx: MeshIndex, dr: DestinationRule): boolean {
  if (hasSelector(idx, dr)) return true;
  return exportTo(idx, dr).every((e) => e === '.' || e === dr.namespace);
}

function exportedTo(idx: MeshIndex, dr: DestinationRule, ns: string): boolean {
  return exportTo(idx, dr).some((e) => e === '*' || e === ns || (e === '.' && ns === dr.namespace));
}

function hasSelector(idx: MeshIndex, dr: DestinationRule): boolean {
  return idx.features.drWorkloadSelector && !isEmptySelector(dr.workloadSelector);
}

/** Namespaces that some DR's exportTo names explicitly: their clients see a view of their own. */
export function namedExportNamespaces(idx: MeshIndex): ReadonlySet<string> {
  return idx.cached('views', 'named', findNamedExports);
}

function findNamedExports(idx: MeshIndex): ReadonlySet<string> {
  const s = new Set<string>();
  for (const ns of idx.drNamespaces()) {
    for (const dr of idx.destinationRules(ns)) {
      for (const e of dr.exportTo ?? []) if (e !== '*' && e !== '.') s.add(e);
    }
  }
  for (const e of idx.mesh.defaultDestinationRuleExportTo ?? []) if (e !== '*' && e !== '.') s.add(e);
  return s;
}

/** The most specific host among `drs` that matches `fqdn`, if any. */
function mostSpecific(idx: MeshIndex, drs: readonly DestinationRule[], fqdn: string): string | undefined {
  let best: string | undefined;
  for (const dr of drs) {
    const h = drHost(idx, dr);
    if (hostMatches(h, fqdn) && (best === undefined || compareSpecificity(h, best) < 0)) best = h;
  }
  return best;
}

/**
 * Merges the DRs that share one host string in one namespace: the top-level trafficPolicy comes
 * from the oldest DR that has one (istio-semantics.md §3.6).
 */
function merged(drs: readonly DestinationRule[]): DestinationRule | null {
  return drs.find((d) => d.trafficPolicy) ?? drs[0] ?? null;
}

/** Step 1: the client's own namespace. Returns undefined when no host matches (lookup continues). */
function fromClientNamespace(idx: MeshIndex, client: DrClient, fqdn: string): DestinationRule | null | undefined {
  const visible = visibleInOwnNamespace(idx, client.namespace);
  if (visible.length === 0) return undefined;
  const host = mostSpecific(idx, visible, fqdn);
  if (host === undefined) return undefined;
  // One pass, no lists: this runs for every class view and port a change words. Selector DRs
  // come first (the first one that selects this client wins); the others merge as in `merged`.
  let first: DestinationRule | undefined;
  let withPolicy: DestinationRule | undefined;
  for (const d of visible) {
    if (drHost(idx, d) !== host) continue;
    if (hasSelector(idx, d)) {
      if (selectorMatches(d.workloadSelector!, client.labels)) return d;
      continue;
    }
    first ??= d;
    if (!withPolicy && d.trafficPolicy) withPolicy = d;
  }
  // A namespace that only holds non-matching selector DRs still wins the lookup, with no DR.
  return withPolicy ?? first ?? null;
}

/** The DRs of a namespace that its own clients see in step 1; the root namespace's clients see only its private ones. */
function visibleInOwnNamespace(idx: MeshIndex, ns: string): readonly DestinationRule[] {
  const memo = idx.cachedMap<string, readonly DestinationRule[]>('dr', 'visibleOwn');
  let l = memo.get(ns);
  if (!l) memo.set(ns, (l = findVisibleOwn(idx, ns)));
  return l;
}

function findVisibleOwn(idx: MeshIndex, ns: string): readonly DestinationRule[] {
  const isRoot = ns === idx.root;
  return idx
    .destinationRules(ns)
    .filter((dr) =>
      isRoot ? isPrivate(idx, dr) : hasSelector(idx, dr) || exportTo(idx, dr).some((e) => e === '*' || e === '.' || e === ns),
    );
}

/** True when a namespace's clients see every rule of their own namespace in step 1 (no exportTo keeps one away). */
export function seesAllOwnRules(idx: MeshIndex, ns: string): boolean {
  return visibleInOwnNamespace(idx, ns).length === idx.destinationRules(ns).length;
}

/**
 * True when step 1 of the lookup decides for every client of a namespace towards a host: some DR
 * the namespace sees matches it. Rules elsewhere cannot then change what these clients use.
 */
export function ownNamespaceDecides(idx: MeshIndex, ns: string, fqdn: string): boolean {
  if (idx.features.drGlobalLookup) return false;
  return mostSpecific(idx, visibleInOwnNamespace(idx, ns), fqdn) !== undefined;
}

/** An exported DR with what steps 2 and 3 read of it, resolved once per index. */
interface ExportedRule {
  readonly rule: DestinationRule;
  readonly host: string;
  /** True when its exportTo includes every namespace. */
  readonly toAll: boolean;
}

/** Steps 2 and 3: exported DRs of another namespace; most specific first, exportTo checked after. */
function exportedRules(idx: MeshIndex, ns: string): readonly ExportedRule[] {
  const memo = idx.cachedMap<string, readonly ExportedRule[]>('dr', 'exported');
  let l = memo.get(ns);
  if (!l) memo.set(ns, (l = findExported(idx, ns)));
  return l;
}

function findExported(idx: MeshIndex, ns: string): readonly ExportedRule[] {
  return idx
    .destinationRules(ns)
    .filter((dr) => !isPrivate(idx, dr))
    .map((rule) => ({ rule, host: drHost(idx, rule), toAll: exportTo(idx, rule).includes('*') }));
}

/** The most specific host among exported rules that matches `fqdn`, if any (`mostSpecific` on resolved hosts). */
function mostSpecificExported(exported: readonly ExportedRule[], fqdn: string): string | undefined {
  let best: string | undefined;
  for (let i = 0; i < exported.length; i++) {
    const h = exported[i]!.host;
    if (hostMatches(h, fqdn) && (best === undefined || compareSpecificity(h, best) < 0)) best = h;
  }
  return best;
}

function fromExported(idx: MeshIndex, ns: string, client: DrClient, fqdn: string): DestinationRule | undefined {
  const exported = exportedRules(idx, ns);
  if (exported.length === 0) return undefined;
  const host = mostSpecificExported(exported, fqdn);
  if (host === undefined) return undefined;
  const same = exported.filter((e) => e.host === host && exportedTo(idx, e.rule, client.namespace)).map((e) => e.rule);
  return same.length ? (merged(same) ?? undefined) : undefined;
}

/**
 * Steps 2 and 3 of the lookup for the clients whose own namespace does not decide the host: one
 * rule (or null) for all of them when every rule these steps settle on is exported to all
 * namespaces. Undefined when the answer depends on the client's namespace (an exportTo that names
 * namespaces) and under Istio 1.0's global lookup.
 */
export function exportedForAll(idx: MeshIndex, fqdn: string, serviceNs: string): DestinationRule | null | undefined {
  if (idx.features.drGlobalLookup) return undefined;
  const fromService = forAllIn(idx, serviceNs, fqdn);
  if (fromService !== null || serviceNs === idx.root) return fromService;
  return forAllIn(idx, idx.root, fqdn);
}

/** Step 3 alone (`exportedForAll` when the service's namespace has no rule for the host). */
export function rootForAll(idx: MeshIndex, fqdn: string): DestinationRule | null | undefined {
  return forAllIn(idx, idx.root, fqdn);
}

function forAllIn(idx: MeshIndex, ns: string, fqdn: string): DestinationRule | null | undefined {
  const exported = exportedRules(idx, ns);
  if (exported.length === 0) return null;
  const host = mostSpecificExported(exported, fqdn);
  if (host === undefined) return null;
  // Runs per service for a change that reaches them all: `merged`'s choice, with no list built
  // and no lookups (hosts and exportTo are resolved in `exportedRules`).
  let first: DestinationRule | undefined;
  let withPolicy: DestinationRule | undefined;
  for (let i = 0; i < exported.length; i++) {
    const e = exported[i]!;
    if (e.host !== host) continue;
    if (!e.toAll) return undefined;
    first ??= e.rule;
    if (!withPolicy && e.rule.trafficPolicy) withPolicy = e.rule;
  }
  return withPolicy ?? first ?? null;
}

/** Istio 1.0: every DR in every namespace, one most-specific match, the newest DR for equal hosts. */
function globalLookup(idx: MeshIndex, fqdn: string): DestinationRule | null {
  const all = [...idx.drNamespaces()].flatMap((ns) => idx.destinationRules(ns));
  const host = mostSpecific(idx, all, fqdn);
  if (host === undefined) return null;
  const same = all.filter((d) => drHost(idx, d) === host).sort(byCreation);
  return same[same.length - 1] ?? null;
}

/** The DestinationRule that a client uses for a host (istio-semantics.md §3.4–§3.6). */
export function lookupDestinationRule(idx: MeshIndex, client: DrClient, fqdn: string, serviceNs: string): DestinationRule | null {
  if (idx.features.drGlobalLookup) return globalLookup(idx, fqdn);
  const own = fromClientNamespace(idx, client, fqdn);
  if (own !== undefined) return own;
  // A root-namespace client saw only private rules in step 1, so exported ones still count.
  if (serviceNs !== client.namespace || client.namespace === idx.root) {
    const svc = fromExported(idx, serviceNs, client, fqdn);
    if (svc) return svc;
  }
  if (idx.root !== serviceNs) return fromExported(idx, idx.root, client, fqdn) ?? null;
  return null;
}

/** The `portLevelSettings` entry for a service port, if any. */
function portEntry(tp: TrafficPolicy, port: number): PortTrafficPolicy | undefined {
  for (const p of tp.portLevel) if (p.port === port) return p;
  return undefined;
}

/** What a rule's trafficPolicy says for one service port (see PortPolicy). */
export function portPolicy(tp: TrafficPolicy | null, port: number): PortPolicy {
  if (!tp) return NO_POLICY;
  const entry = portEntry(tp, port);
  const applied = entry ?? tp;
  const endpointMode = !applied.tls && entry && tp.tls ? tp.tls.mode : null;
  const inferPassthrough = tp.passthrough === true;
  if (!applied.tls && !applied.passthrough && !inferPassthrough && !endpointMode) return NO_POLICY;
  return { tls: applied.tls, passthrough: applied.passthrough === true, inferPassthrough, endpointMode };
}

/** The DR and what it says for one client, host and service port, without words: for signatures. */
export function clientTls(
  idx: MeshIndex,
  client: DrClient,
  fqdn: string,
  serviceNs: string,
  port: number,
): PortPolicy & { rule: DestinationRule | null } {
  const dr = lookupDestinationRule(idx, client, fqdn, serviceNs);
  return dr ? { rule: dr, ...portPolicy(dr.trafficPolicy, port) } : NO_DR;
}

/**
 * Resolutions by rule, then by port for a port-level entry (-1 for the top-level policy): the same
 * for every client and service that land on them, so each is worded once. Rules are immutable
 * once parsed, and the entries go with them.
 */
const T_RESOLUTIONS = memoTable<DestinationRule, Map<number, DrResolution>>('static:drResolutions');

/** Resolves the DR and the TLS settings for one client, host and service port. */
export function resolveClientTls(idx: MeshIndex, client: DrClient, fqdn: string, serviceNs: string, port: number): DrResolution {
  const dr = lookupDestinationRule(idx, client, fqdn, serviceNs);
  if (!dr) return NO_DR;
  const tp = dr.trafficPolicy;
  const entry = tp ? portEntry(tp, port) : undefined;
  const resolutions = idx.weakMemo(T_RESOLUTIONS);
  let byPort = resolutions.get(dr);
  if (!byPort) resolutions.set(dr, (byPort = new Map()));
  const key = entry ? port : -1;
  let r = byPort.get(key);
  if (!r)
    byPort.set(key, (r = { rule: dr, ...portPolicy(tp, port), via: `${objectRef(dr)} (host ${dr.host}${entry ? `, port ${port}` : ''})` }));
  return r;
}
