import type { Evidence, ObservedEdge, Service, Traffic, Workload } from '../model/model.js';
import { memoTable, pushInto, type MeshIndex } from '../mesh/mesh-index.js';
import { serviceFqdn } from '../mesh/hosts.js';

// Lists, not Sets: a workload names a handful of hosts, and a Set's table costs about 200 bytes.
const T_BARE_HOSTS = memoTable<Workload, readonly string[]>('static:bareHosts');
const T_DECLARED = memoTable<Workload, readonly string[]>('static:declared');
const T_CALLERS = memoTable<Service, readonly Workload[]>('static:callers');
const T_EDGES = memoTable<Service, readonly ObservedEdge[]>('static:edges');

/** The evidence for one client → service breakage, and what it rests on. */
export interface EvidenceResult {
  readonly level: Evidence;
  readonly detail?: string;
}

interface TrafficIndex {
  /** Edges by destination FQDN. */
  readonly byService: Map<string, ObservedEdge[]>;
  /** Edges by `destinationWorkload.destinationNamespace`. */
  readonly byWorkload: Map<string, ObservedEdge[]>;
}

function trafficIndex(idx: MeshIndex): TrafficIndex | null {
  const t = idx.data.traffic;
  if (!t || t.degraded) return null;
  return idx.cached('static', 'traffic', buildTrafficIndex);
}

function buildTrafficIndex(idx: MeshIndex): TrafficIndex {
  const byService = new Map<string, ObservedEdge[]>();
  const byWorkload = new Map<string, ObservedEdge[]>();
  for (const e of idx.data.traffic!.edges) {
    if (!(e.value > 0)) continue;
    if (e.destinationService) pushInto(byService, e.destinationService, e);
    const wk = `${e.destinationWorkload}.${e.destinationNamespace}`;
    if (e.destinationWorkload && e.destinationWorkload !== 'unknown') pushInto(byWorkload, wk, e);
  }
  return { byService, byWorkload };
}

/** Observed series into a Service: by its FQDN or by one of its endpoint workloads. */
export function edgesInto(idx: MeshIndex, svc: Service): readonly ObservedEdge[] {
  const ti = trafficIndex(idx);
  if (!ti) return NO_EDGES;
  const memo = idx.memo(T_EDGES);
  let l = memo.get(svc);
  if (!l) {
    const found = findEdges(idx, ti, svc);
    // Most services have no observed series: they share one empty list.
    memo.set(svc, (l = found.length ? found : NO_EDGES));
  }
  return l;
}

const NO_EDGES: readonly ObservedEdge[] = Object.freeze([]);

function findEdges(idx: MeshIndex, ti: TrafficIndex, svc: Service): ObservedEdge[] {
  const out = [...(ti.byService.get(idx.fqdn(svc)) ?? [])];
  for (const w of idx.endpoints(svc)) {
    for (const e of ti.byWorkload.get(`${w.name}.${w.namespace}`) ?? []) {
      if (!out.includes(e) && (!e.destinationService || e.destinationService === idx.fqdn(svc))) out.push(e);
    }
  }
  return out;
}

function describe(e: ObservedEdge, t: Traffic | null): string {
  const tls = e.plaintext ? 'plaintext' : 'mTLS';
  const value = t?.perSecond ? `${Number(e.value.toPrecision(3))}/s` : `${e.value}`;
  return `${e.metric}{reporter="${e.reporter}"} ${e.sourceWorkload}.${e.sourceNamespace} -> ${e.destinationService || e.destinationWorkload} (${tls}) = ${value} in ${t?.source ?? ''}`;
}

/** Qualified host names a workload's spec may use for a Service. */
function hostForms(idx: MeshIndex, svc: Service): string[] {
  if (svc.host) return [svc.host];
  return [`${svc.name}.${svc.namespace}`, `${svc.name}.${svc.namespace}.svc`, idx.fqdn(svc)];
}

const BARE_URL = /:\/\/([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)(?=[:/]|$)/g;
const BARE_PORT = /(?:^|[\s=,])([a-z0-9](?:[-a-z0-9]*[a-z0-9])?):\d+/g;

/**
 * Bare names a workload uses as hosts: only as a URL host or `name:port`, because a bare word such
 * as `sleep` is too common to count.
 */
function bareHosts(idx: MeshIndex, w: Workload): readonly string[] {
  const memo = idx.memo(T_BARE_HOSTS);
  let s = memo.get(w);
  if (!s) memo.set(w, (s = findBareHosts(w)));
  return s;
}

function findBareHosts(w: Workload): readonly string[] {
  const found = new Set<string>();
  for (const h of w.declaredHosts) {
    const lower = h.toLowerCase();
    for (const m of lower.matchAll(BARE_URL)) found.add(m[1]!);
    for (const m of lower.matchAll(BARE_PORT)) found.add(m[1]!);
  }
  return found.size ? [...found] : NONE;
}

const NONE: readonly string[] = Object.freeze([]);

const HOST_TOKEN = /[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?/g;

function declaredTokens(idx: MeshIndex, w: Workload): readonly string[] {
  const memo = idx.memo(T_DECLARED);
  let s = memo.get(w);
  if (!s) memo.set(w, (s = findTokens(w)));
  return s;
}

function findTokens(w: Workload): readonly string[] {
  const tokens = new Set<string>();
  for (const h of w.declaredHosts) for (const m of h.toLowerCase().matchAll(HOST_TOKEN)) tokens.add(m[0]);
  return tokens.size ? [...tokens] : NONE;
}

/**
 * The host by which a workload's spec names a Service, if it does: one of the Service's host forms
 * among the spec's tokens, or its bare name in the workload's own namespace. The one test of
 * "declared", for the evidence of a caller and for the lookup of callers alike.
 */
function hostNamed(idx: MeshIndex, w: Workload, svc: Service, tokens: readonly string[], bare: readonly string[]): string | undefined {
  for (const form of hostForms(idx, svc)) if (tokens.includes(form)) return form;
  return w.namespace === svc.namespace && bare.includes(svc.name) ? svc.name : undefined;
}

/** Evidence for one client workload calling a Service. */
export function evidenceFor(idx: MeshIndex, w: Workload, svc: Service): EvidenceResult {
  const seen = edgesInto(idx, svc).find((e) => e.sourceWorkload === w.name && e.sourceNamespace === w.namespace);
  if (seen) return { level: 'observed', detail: describe(seen, idx.data.traffic) };
  const host = hostNamed(idx, w, svc, declaredTokens(idx, w), bareHosts(idx, w));
  if (host) return { level: 'declared', detail: `the pod spec of ${w.name}.${w.namespace} names ${host}` };
  return { level: 'possible' };
}

/** Observed plaintext from sources Istio could not identify (callers outside the mesh). */
export function unknownPlaintextInto(idx: MeshIndex, svc: Service): EvidenceResult | undefined {
  // An indexed loop, not `find` with an arrow: this runs per service port of a mesh-wide change.
  const edges = edgesInto(idx, svc);
  for (let i = 0; i < edges.length; i++) {
    const x = edges[i]!;
    // Only a destination's report is ever plaintext (`ObservedEdge.plaintext`).
    if (x.plaintext && (x.sourceWorkload === 'unknown' || x.sourceWorkload === '')) {
      return { level: 'observed', detail: describe(x, idx.data.traffic) };
    }
  }
  return undefined;
}

/** The workloads whose spec names each Service, made once per snapshot (see `prepareCallers`). */
function declarers(idx: MeshIndex): ReadonlyMap<Service, readonly Workload[]> {
  return idx.cached('static', 'declarers', buildDeclarers);
}

function buildDeclarers(idx: MeshIndex): Map<Service, Workload[]> {
  // Keyed by Service, not by every token of every spec: most tokens (`http`, `80`, a path) name
  // no Service, and only the pairs that do are kept.
  const by = new Map<Service, Workload[]>();
  for (const w of idx.allWorkloads()) {
    if (w.declaredHosts.length === 0) continue;
    for (const svc of namedServices(idx, w)) pushInto(by, svc, w);
  }
  return by;
}

/**
 * The Services a workload's spec names, each once. Each token is looked up as each host form
 * would be, each bare name in the workload's namespace; `hostNamed` decides. Not memoised: this
 * reads every spec once, and only the witnesses' hosts are read again.
 */
function namedServices(idx: MeshIndex, w: Workload): Service[] {
  const tokens = findTokens(w);
  const bare = findBareHosts(w);
  const cd = idx.mesh.clusterDomain;
  const out: Service[] = [];
  const consider = (fqdn: string): void => {
    const svc = idx.serviceByFqdn(fqdn);
    if (svc && !out.includes(svc) && hostNamed(idx, w, svc, tokens, bare) !== undefined) out.push(svc);
  };
  for (const t of tokens) {
    consider(t);
    consider(`${t}.${cd}`);
    consider(`${t}.svc.${cd}`);
  }
  for (const name of bare) consider(serviceFqdn(name, w.namespace, cd));
  return out;
}

/**
 * Builds the reverse lookups that `callersOf` reads, off the request path: observed traffic by
 * destination, and the Services each spec names. Without it, the first request after every
 * snapshot paid for reading every spec's hosts.
 */
export function prepareCallers(idx: MeshIndex): void {
  trafficIndex(idx);
  declarers(idx);
}

/**
 * The workloads that may have observed or declared evidence for calling a Service: sources of
 * telemetry into it, and workloads whose spec names it. Found by reverse lookups, so the cost does
 * not grow with the number of clients.
 */
export function callersOf(idx: MeshIndex, svc: Service): readonly Workload[] {
  const memo = idx.memo(T_CALLERS);
  let hit = memo.get(svc);
  if (!hit) memo.set(svc, (hit = findCallers(idx, svc)));
  return hit;
}

function findCallers(idx: MeshIndex, svc: Service): Workload[] {
  const out = new Set<Workload>();
  // Sources by namespace, then name: no index-wide map of `name.namespace` keys to build and hold.
  for (const e of edgesInto(idx, svc)) for (const w of idx.workloads(e.sourceNamespace)) if (w.name === e.sourceWorkload) out.add(w);
  for (const w of declarers(idx).get(svc) ?? []) out.add(w);
  return [...out];
}
