import type { Evidence, ObservedEdge, Service, Workload } from './model.js';
import type { MeshIndex } from './index.js';
import type { Outcome } from './outcome.js';

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
  return idx.cached('traffic', () => {
    const byService = new Map<string, ObservedEdge[]>();
    const byWorkload = new Map<string, ObservedEdge[]>();
    for (const e of t.edges) {
      if (!(e.value > 0)) continue;
      if (e.destinationService) (byService.get(e.destinationService) ?? byService.set(e.destinationService, []).get(e.destinationService)!).push(e);
      const wk = `${e.destinationWorkload}.${e.destinationNamespace}`;
      if (e.destinationWorkload && e.destinationWorkload !== 'unknown') (byWorkload.get(wk) ?? byWorkload.set(wk, []).get(wk)!).push(e);
    }
    return { byService, byWorkload };
  });
}

/** Observed series into a Service: by its FQDN or by one of its endpoint workloads. */
export function edgesInto(idx: MeshIndex, svc: Service): ObservedEdge[] {
  const ti = trafficIndex(idx);
  if (!ti) return [];
  const out = [...(ti.byService.get(idx.fqdn(svc)) ?? [])];
  for (const w of idx.endpoints(svc)) {
    for (const e of ti.byWorkload.get(`${w.name}.${w.namespace}`) ?? []) {
      if (!out.includes(e) && (!e.destinationService || e.destinationService === idx.fqdn(svc))) out.push(e);
    }
  }
  return out;
}

function describe(e: ObservedEdge, source: string): string {
  const tls = e.plaintext ? 'plaintext' : 'mTLS';
  return `${e.metric}{reporter="${e.reporter}"} ${e.sourceWorkload}.${e.sourceNamespace} -> ${e.destinationService || e.destinationWorkload} (${tls}) = ${e.value} in ${source}`;
}

/** Qualified host names a workload's spec may use for a Service. */
function hostForms(idx: MeshIndex, svc: Service): string[] {
  return [`${svc.name}.${svc.namespace}`, `${svc.name}.${svc.namespace}.svc`, idx.fqdn(svc)];
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A bare service name counts only as a URL host or `name:port`: `sleep` alone is too common a word. */
function namesBare(w: Workload, name: string): boolean {
  const re = new RegExp(`(://${escape(name)}([:/]|$))|(^|[\\s=,])${escape(name)}:\\d+`);
  return w.declaredHosts.some((h) => re.test(h));
}

const HOST_TOKEN = /[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?/g;

function declaredTokens(idx: MeshIndex, w: Workload): ReadonlySet<string> {
  return idx.cached(`decl|${w.namespace}|${w.name}|${w.kind}`, () => {
    const s = new Set<string>();
    for (const h of w.declaredHosts) for (const m of h.toLowerCase().matchAll(HOST_TOKEN)) s.add(m[0]);
    return s;
  });
}

/**
 * True when a breakage is a contradiction in the configuration itself (DESIGN.md §2, `certain`):
 * Istio mTLS towards a server that cannot take it, on every endpoint.
 */
export function isCertain(now: Outcome): string | undefined {
  if (now.partial) return undefined;
  const by = now.rule ?? 'auto mTLS';
  if (now.cause === 'MG105') return `${by} covers the Kubernetes API server, which has no sidecar`;
  if (now.cause === 'MG103') return `${by} sends Istio mTLS to a server without a sidecar`;
  if (now.cause === 'MG104') return `${by} sends Istio mTLS to a server that accepts only plaintext (${now.serverSource ?? 'DISABLE'})`;
  return undefined;
}

/** Evidence for one client workload calling a Service. */
export function evidenceFor(idx: MeshIndex, w: Workload, svc: Service): EvidenceResult {
  const src = idx.data.traffic?.source ?? '';
  const seen = edgesInto(idx, svc).find((e) => e.sourceWorkload === w.name && e.sourceNamespace === w.namespace);
  if (seen) return { level: 'observed', detail: describe(seen, src) };
  const tokens = declaredTokens(idx, w);
  const host = hostForms(idx, svc).find((h) => tokens.has(h)) ?? (w.namespace === svc.namespace && namesBare(w, svc.name) ? svc.name : undefined);
  if (host) return { level: 'declared', detail: `the pod spec of ${w.name}.${w.namespace} names ${host}` };
  return { level: 'possible' };
}

/** Observed plaintext from sources Istio could not identify (callers outside the mesh). */
export function unknownPlaintextInto(idx: MeshIndex, svc: Service): EvidenceResult | undefined {
  const e = edgesInto(idx, svc).find((x) => x.plaintext && x.reporter === 'destination' && (x.sourceWorkload === 'unknown' || x.sourceWorkload === ''));
  return e ? { level: 'observed', detail: describe(e, idx.data.traffic?.source ?? '') } : undefined;
}
