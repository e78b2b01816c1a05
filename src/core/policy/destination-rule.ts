import type { ClientTls, DestinationRule, Labels, PortTrafficPolicy, Subset, TlsMode, TrafficPolicy } from '../model/model.js';
import { objectRef } from '../model/model.js';
import { compareSpecificity, hostMatches, resolveShortName } from '../mesh/hosts.js';
import { memoTable, byCreation, hasWorkloadSelector, type MeshIndex } from '../mesh/mesh-index.js';
import {
  consolidatedForClient,
  exportedTo,
  fileRules,
  filingOrder,
  mostSpecificHost,
  ruleForClient,
  type ConsolidatedRule,
  type Filed,
  type RulePool,
} from './consolidated-rules.js';

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

function hasSelector(idx: MeshIndex, dr: DestinationRule): boolean {
  return idx.features.drWorkloadSelector && hasWorkloadSelector(dr);
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

/** A namespace's rules as Istio files them (`setDestinationRules`), built once per set of rules. */
interface Pools {
  /** What the namespace's own clients search first: rules exported to `*`, `.` or the namespace itself. */
  readonly local: RulePool;
  /** What clients of other namespaces search: rules exported beyond the namespace. */
  readonly exported: RulePool;
  /** For the root namespace, what its own clients search first: its private rules only. */
  readonly rootLocal: RulePool;
  /** How many of the namespace's rules its own clients search first (`local`, or `rootLocal` at the root). */
  readonly ownCount: number;
}

function poolsOf(idx: MeshIndex, ns: string): Pools {
  const memo = idx.cachedMap<string, Pools>('dr', 'pools');
  let p = memo.get(ns);
  if (!p) memo.set(ns, (p = filePools(idx, ns)));
  return p;
}

function filePools(idx: MeshIndex, ns: string): Pools {
  const privateByDefault = (idx.mesh.defaultDestinationRuleExportTo ?? []).includes('.');
  const filed: Filed[] = idx.destinationRules(ns).map((rule) => {
    const selector = hasSelector(idx, rule) ? rule.workloadSelector : null;
    // A rule with a selector is never exported, whatever its exportTo says.
    const set: ReadonlySet<string> = selector ? new Set(['.']) : new Set(rule.exportTo ?? []);
    return { rule, host: drHost(idx, rule), exportTo: set, selector };
  });
  filed.sort(filingOrder);
  const local = filed.filter((f) => f.exportTo.size === 0 || f.exportTo.has('*') || f.exportTo.has('.') || f.exportTo.has(ns));
  // Mesh config's default exportTo counts only when it is `.`; a named default reads as everywhere.
  const privateOnly = (f: Filed): boolean =>
    f.exportTo.size === 0 ? privateByDefault : f.exportTo.size === 1 && (f.exportTo.has('.') || f.exportTo.has(ns));
  const apart = idx.features.drKeepExportsApart;
  const rootLocal = ns === idx.root ? filed.filter(privateOnly) : [];
  return {
    local: fileRules(local, apart),
    exported: fileRules(
      filed.filter((f) => !privateOnly(f)),
      apart,
    ),
    rootLocal: fileRules(rootLocal, apart),
    ownCount: ns === idx.root ? rootLocal.length : local.length,
  };
}

/** The pool a namespace's clients search first: the root namespace's clients see only its private rules. */
function ownPool(idx: MeshIndex, ns: string): RulePool {
  const p = poolsOf(idx, ns);
  return ns === idx.root ? p.rootLocal : p.local;
}

/** Step 1: the client's own namespace. Returns undefined when no host matches (lookup continues). */
function fromClientNamespace(idx: MeshIndex, client: DrClient, fqdn: string): ConsolidatedRule | null | undefined {
  const pool = ownPool(idx, client.namespace);
  const host = mostSpecificHost(pool, fqdn);
  // A namespace whose rules for the host select none of this client's labels still wins the lookup, with no rule.
  return host === undefined ? undefined : consolidatedForClient(pool.byHost.get(host)!, client.namespace, client.labels);
}

/** True when a namespace's clients see every rule of their own namespace in step 1 (no exportTo keeps one away). */
export function seesAllOwnRules(idx: MeshIndex, ns: string): boolean {
  return poolsOf(idx, ns).ownCount === idx.destinationRules(ns).length;
}

/**
 * True when step 1 of the lookup decides for every client of a namespace towards a host: some DR
 * the namespace sees matches it. Rules elsewhere cannot then change what these clients use.
 */
export function ownNamespaceDecides(idx: MeshIndex, ns: string, fqdn: string): boolean {
  if (idx.features.drGlobalLookup) return false;
  return mostSpecificHost(ownPool(idx, ns), fqdn) !== undefined;
}

/** Steps 2 and 3: the exported rules of another namespace; the most specific host first, exportTo checked after. */
function fromExported(idx: MeshIndex, ns: string, client: DrClient, fqdn: string): ConsolidatedRule | null | undefined {
  const pool = poolsOf(idx, ns).exported;
  const host = mostSpecificHost(pool, fqdn);
  if (host === undefined) return undefined;
  const visible = pool.byHost.get(host)!.filter((c) => exportedTo(c, client.namespace));
  return visible.length ? consolidatedForClient(visible, client.namespace, client.labels) : undefined;
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
  const pool = poolsOf(idx, ns).exported;
  const host = mostSpecificHost(pool, fqdn);
  if (host === undefined) return null;
  const rules = pool.byHost.get(host)!;
  // Exported rules carry no selector, so only their exportTo can tell clients apart.
  if (!rules.every((c) => c.exportTo.size === 0 || c.exportTo.has('*'))) return undefined;
  return ruleForClient(rules, '', {});
}

/** Istio 1.0: every DR in every namespace, one most-specific match, the newest DR for equal hosts. */
function globalLookup(idx: MeshIndex, fqdn: string): DestinationRule | null {
  const all = [...idx.drNamespaces()].flatMap((ns) => idx.destinationRules(ns));
  let host: string | undefined;
  for (const d of all) {
    const h = drHost(idx, d);
    if (hostMatches(h, fqdn) && (host === undefined || compareSpecificity(h, host) < 0)) host = h;
  }
  if (host === undefined) return null;
  const same = all.filter((d) => drHost(idx, d) === host).sort(byCreation);
  return same[same.length - 1] ?? null;
}

/** The DestinationRule that a client uses for a host (docs/semantics.md §3.4–§3.6). */
export function lookupDestinationRule(idx: MeshIndex, client: DrClient, fqdn: string, serviceNs: string): DestinationRule | null {
  if (idx.features.drGlobalLookup) return globalLookup(idx, fqdn);
  const c = lookupConsolidated(idx, client, fqdn, serviceNs);
  return c ? (c.policyFrom ?? c.first) : null;
}

/** The consolidated rule a client uses for a host: the rules merged into it give the subsets. */
function lookupConsolidated(idx: MeshIndex, client: DrClient, fqdn: string, serviceNs: string): ConsolidatedRule | null {
  const own = fromClientNamespace(idx, client, fqdn);
  if (own !== undefined) return own;
  const svc = fromExported(idx, serviceNs, client, fqdn);
  if (svc !== undefined) return svc;
  return fromExported(idx, idx.root, client, fqdn) ?? null;
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

/** The TLS mode a policy gives one port: a port entry's own `tls`, else the top level's (`trafficPolicyTLSModeForPort`). */
function modeAt(tp: TrafficPolicy | null, port: number): TlsMode | null {
  if (!tp) return null;
  return portEntry(tp, port)?.tls?.mode ?? tp.tls?.mode ?? null;
}

/**
 * What a rule says for one of its subsets at one service port. The cluster merges the subset's
 * policy over the rule's (`MergeSubsetTrafficPolicy` in pilot/pkg/networking/util/util.go): each
 * side's port entry first replaces its top level; then the subset's `tls` wins when it sets one, or
 * when the subset has an entry for the port (the entry then replaces even an absent `tls`). Auto
 * mTLS infers the service's mode from the subset's own top level (`buildSubsetCluster`), and the
 * endpoints take their TLS metadata from the subset's mode for the port, else the rule's
 * (`tlsModeForDestinationRule` in pilot/pkg/xds/endpoints/mtls_checker.go).
 */
export function subsetPolicy(tp: TrafficPolicy | null, subset: Subset, port: number): PortPolicy {
  const base = tp ? (portEntry(tp, port) ?? tp) : null;
  const sp = subset.trafficPolicy;
  const subEntry = sp ? portEntry(sp, port) : undefined;
  const own = subEntry ?? sp;
  const tls = own && (own.tls || subEntry) ? own.tls : (base?.tls ?? null);
  const passthrough = own?.passthrough === true || (!subEntry && base?.passthrough === true);
  const inferPassthrough = sp?.passthrough === true;
  const endpointMode = tls ? null : (modeAt(sp, port) ?? modeAt(tp, port));
  if (!tls && !passthrough && !inferPassthrough && !endpointMode) return NO_POLICY;
  return { tls, passthrough, inferPassthrough, endpointMode };
}

/**
 * The DR resolution of a client's call routed to a subset of a host: null when the rule the client
 * uses for the host has no such subset (Istio then builds no cluster for the route).
 */
export function resolveSubsetTls(
  idx: MeshIndex,
  client: DrClient,
  fqdn: string,
  serviceNs: string,
  port: number,
  name: string,
): { readonly resolution: DrResolution; readonly subset: Subset } | null {
  // One lookup gives both the rule whose policy applies and the subsets merged with it.
  let dr: DestinationRule | null;
  let subsets: readonly Subset[] | undefined;
  if (idx.features.drGlobalLookup) subsets = (dr = globalLookup(idx, fqdn))?.subsets;
  else {
    const c = lookupConsolidated(idx, client, fqdn, serviceNs);
    dr = c ? (c.policyFrom ?? c.first) : null;
    subsets = c?.subsets;
  }
  const subset = subsets?.find((s) => s.name === name);
  if (!dr || !subset) return null;
  const via = `${objectRef(dr)} (host ${dr.host}, subset ${name})`;
  return { resolution: { rule: dr, ...subsetPolicy(dr.trafficPolicy, subset, port), via }, subset };
}
