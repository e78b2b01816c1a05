import type { Labels, MeshKind, OutcomeCode, Service, ServicePort } from './model.js';
import { memoTable, type MeshIndex } from './index.js';
import type { Code } from './codes.js';
import { endpointsOf, protocolAt, type Endpoint, type PortProtocol } from './endpoints.js';
import { resolveClientTls, type DrResolution } from './destination-rule.js';
import { namespaceMode, serverMode, legacyPolicyFor, legacyMode, LEGACY_NONE, BETA_DEFAULT, type ResolvedMode } from './peer-auth.js';
import { objectRef } from './model.js';

const T_SERVICE_MODE = memoTable<ServicePort, ResolvedMode | 'headless-plaintext'>('auth', 'serviceMode');
const T_RESOLUTION = memoTable<ServicePort, Map<string, DrResolution>>('dr', 'resolution');

/** A client as the engine sees it: one representative of a class of workloads. */
export interface ClientRep {
  readonly kind: MeshKind;
  readonly namespace: string;
  readonly labels: Labels;
  readonly excludeOutboundPorts: readonly number[];
}

/** What goes on the wire from the client (proxy) to one endpoint. */
export type Wire = 'plaintext' | 'istio-mtls' | 'tls' | 'hbone';

/** The client's decision for one endpoint. */
interface Send {
  readonly wire: Wire;
  /** The TLS mode in DestinationRule terms, for JSON output: DISABLE, ISTIO_MUTUAL, SIMPLE, MUTUAL, auto, none, HBONE. */
  readonly tlsMode: string;
  readonly why: string;
}

/** The predicted outcome of one client → service port connection. */
export interface Outcome {
  readonly code: OutcomeCode;
  /** curl's exit code for 000: 56 (reset) or 35 (TLS handshake failure). */
  readonly exit?: number | undefined;
  /** The finding code that explains a failure. */
  readonly cause?: Code | undefined;
  readonly reason: string;
  readonly tlsMode: string;
  /** The DestinationRule that set the client's TLS, if any. */
  readonly rule?: string | undefined;
  /** The object that set the server's mode, if any. */
  readonly serverSource?: string | undefined;
  /** True when only some endpoints fail. */
  readonly partial?: boolean | undefined;
}

const RANK: Record<OutcomeCode, number> = { '200': 0, '503': 1, '000': 2 };

/** True when an outcome is a failure. */
export function failed(o: Outcome): boolean {
  return o.code !== '200';
}

/** The service-wide mode that auto mTLS infers on the client side, memoised with the policies it reads. */
export function serviceMode(idx: MeshIndex, svc: Service, port: ServicePort): ResolvedMode | 'headless-plaintext' {
  const modes = idx.memo(T_SERVICE_MODE);
  let m = modes.get(port);
  if (!m) modes.set(port, m = inferredServiceMode(idx, svc, port));
  return m;
}

/** The service-wide mode that auto mTLS infers on the client side (istio-semantics.md §4.3–§4.4). */
function inferredServiceMode(idx: MeshIndex, svc: Service, port: ServicePort): ResolvedMode | 'headless-plaintext' {
  if (svc.headless) {
    const eps = endpointsOf(idx, svc, port);
    if (eps.length === 0 || eps.some((e) => e.workload?.labels['security.istio.io/tlsMode'] !== 'istio')) return 'headless-plaintext';
  }
  const f = idx.features;
  if (f.peerAuthentication) {
    const m = namespaceMode(idx, svc.namespace);
    if (m) return m;
  }
  if (f.legacyPolicies) return legacyMode(legacyPolicyFor(idx, svc, port), f.legacyCoexistence ? BETA_DEFAULT : LEGACY_NONE);
  return BETA_DEFAULT;
}

/** A sidecar client's decision for one endpoint, given its DR resolution. */
function sidecarSend(idx: MeshIndex, dr: DrResolution, svc: Service, port: ServicePort, ep: Endpoint): Send {
  const tls = dr.tls;
  if (tls) {
    switch (tls.mode) {
      case 'DISABLE': return { wire: 'plaintext', tlsMode: 'DISABLE', why: `${dr.via} sets tls.mode DISABLE` };
      case 'ISTIO_MUTUAL': return { wire: 'istio-mtls', tlsMode: 'ISTIO_MUTUAL', why: `${dr.via} sets ISTIO_MUTUAL` };
      default:
        if (tls.credentialName && idx.features.credentialNameNeedsSelector && !dr.rule?.workloadSelector) {
          return { wire: 'plaintext', tlsMode: tls.mode, why: `${dr.via} uses credentialName without workloadSelector, so the sidecar sends plaintext` };
        }
        return { wire: 'tls', tlsMode: tls.mode, why: `${dr.via} originates ${tls.mode} TLS` };
    }
  }
  if (!idx.autoMtls) {
    const by = dr.rule ? `${dr.via} sets no TLS` : 'no DestinationRule sets TLS';
    return { wire: 'plaintext', tlsMode: 'none', why: `${by} and auto mTLS is off (Istio ${idx.version.raw}), so the sidecar sends plaintext` };
  }
  const svcMode = serviceMode(idx, svc, port);
  if (svcMode === 'headless-plaintext') {
    return { wire: 'plaintext', tlsMode: 'auto', why: 'auto mTLS sends plaintext to every endpoint of a headless service that has an endpoint without tlsMode=istio' };
  }
  if (svcMode.mode === 'DISABLE') {
    return { wire: 'plaintext', tlsMode: 'auto', why: `auto mTLS sends plaintext to the whole service because ${svcMode.source} is DISABLE` };
  }
  const w = ep.workload;
  if (w?.labels['security.istio.io/tlsMode'] !== 'istio') {
    return { wire: 'plaintext', tlsMode: 'auto', why: 'auto mTLS sends plaintext (endpoint has no security.istio.io/tlsMode=istio label)' };
  }
  if (idx.features.autoMtlsChecksWorkloadPolicy && ep.kind === 'sidecar') {
    const m = serverMode(idx, w, ep.containerPort, svc, port);
    if (m.mode === 'DISABLE') return { wire: 'plaintext', tlsMode: 'auto', why: `auto mTLS sends plaintext because ${m.source} is DISABLE for the endpoint` };
  }
  return { wire: 'istio-mtls', tlsMode: 'auto', why: 'auto mTLS sends Istio mTLS (endpoint has security.istio.io/tlsMode=istio)' };
}

function clientSend(idx: MeshIndex, client: ClientRep, dr: DrResolution | null, svc: Service, port: ServicePort, ep: Endpoint): Send {
  if (client.kind === 'none' || !dr) return { wire: 'plaintext', tlsMode: 'none', why: 'the client has no sidecar and sends plaintext' };
  if (client.kind === 'ambient') {
    if (ep.kind === 'ambient' || ep.kind === 'sidecar') return { wire: 'hbone', tlsMode: 'HBONE', why: 'ztunnel sends HBONE (mTLS)' };
    return { wire: 'plaintext', tlsMode: 'none', why: 'ztunnel sends plaintext to a destination outside the mesh' };
  }
  return sidecarSend(idx, dr, svc, port, ep);
}

/** Builds an outcome; every outcome has the same shape, which keeps the hot path monomorphic. */
function outcome(code: OutcomeCode, exit: number | undefined, cause: Code | undefined, reason: string, tlsMode: string,
  serverSource: string | undefined, rule?: string, partial?: boolean): Outcome {
  return { code, exit, cause, reason, tlsMode, serverSource, rule, partial };
}

/** The outcome for one endpoint. */
function endpointOutcome(idx: MeshIndex, client: ClientRep, svc: Service, port: ServicePort, ep: Endpoint, s: Send, proto: PortProtocol): Outcome {
  const appTls = proto === 'tls' || ep.kind === 'apiserver';
  // A client sidecar answers 503 on HTTP ports; on TCP/TLS ports, or without a sidecar, the connection just closes.
  const viaSidecar = client.kind === 'sidecar' && proto === 'http' && !appTls;
  let source: string | undefined;
  const ok = (reason: string): Outcome => outcome('200', undefined, undefined, reason, s.tlsMode, source);
  const fail = (cause: Code, reason: string): Outcome => (viaSidecar
    ? outcome('503', undefined, cause, reason, s.tlsMode, source)
    : outcome('000', appTls ? 35 : 56, cause, reason, s.tlsMode, source));
  const who = ep.workload ? `${ep.workload.name}.${ep.workload.namespace}` : `${svc.name}.${svc.namespace}`;

  if (ep.kind === 'none' || ep.kind === 'external' || ep.kind === 'apiserver') {
    const what = ep.kind === 'apiserver' ? 'the Kubernetes API server (no sidecar, speaks TLS itself)' : `${who} (no sidecar)`;
    if (s.wire === 'istio-mtls') {
      if (appTls) return fail('MG105', `${s.why}; ${what} cannot terminate Istio mTLS and the application's own TLS handshake fails`);
      return fail('MG103', `${s.why}; ${what} cannot terminate Istio mTLS`);
    }
    return ok(`${s.why}; ${what} accepts it`);
  }

  const m = serverMode(idx, ep.workload!, ep.containerPort, svc, port);
  source = m.source;
  const portDesc = `${who} port ${ep.containerPort} is ${m.mode} (${m.source})`;
  if (ep.kind === 'ambient') {
    if (s.wire === 'hbone') return ok(`${s.why}; ${portDesc}`);
    if (s.wire === 'istio-mtls') return fail('MG103', `${s.why}; ${who} is an ambient workload without a sidecar to terminate it`);
    if (m.mode === 'STRICT') return fail('MG107', `${s.why}; ${portDesc}, so ztunnel rejects plaintext`);
    return ok(`${s.why}; ${portDesc}`);
  }

  switch (s.wire) {
    case 'hbone':
      return ok(`${s.why}; ${portDesc}`);
    case 'istio-mtls':
      if (m.mode === 'DISABLE') return fail('MG104', `${s.why}; ${portDesc} and accepts only plaintext`);
      return ok(`${s.why}; ${portDesc}`);
    case 'tls':
      if (m.mode === 'STRICT') return fail('MG106', `${s.why}; ${portDesc} and requires an Istio client certificate`);
      if (proto === 'http' || !appTls) return fail('MG106', `${s.why}; ${portDesc} and the application does not speak TLS`);
      return ok(`${s.why}; ${portDesc}`);
    case 'plaintext':
      if (m.mode !== 'STRICT') return ok(`${s.why}; ${portDesc}`);
      if (client.kind === 'sidecar' && !client.excludeOutboundPorts.includes(port.port)) {
        return fail('MG102', `${s.why}; ${portDesc} and refuses plaintext`);
      }
      return fail('MG101', `${s.why}; ${portDesc} and refuses plaintext`);
  }
}

/** The DR resolution for a sidecar client, memoised per client view (and selector DRs), service port. */
export function drFor(idx: MeshIndex, viewKey: string, client: ClientRep, svc: Service, port: ServicePort): DrResolution | null {
  if (client.kind !== 'sidecar' || client.excludeOutboundPorts.includes(port.port)) return null;
  const memo = idx.memo(T_RESOLUTION);
  let perPort = memo.get(port);
  if (!perPort) memo.set(port, perPort = new Map());
  let r = perPort.get(viewKey);
  if (!r) perPort.set(viewKey, r = resolveClientTls(idx, client, idx.fqdn(svc), svc.namespace, port.port));
  return r;
}

/**
 * The outcome of a client → service port connection: the worst over the service's endpoints,
 * saying so when the endpoints disagree. Null when the port has no endpoints or is not TCP.
 */
export function connectionOutcome(idx: MeshIndex, client: ClientRep, dr: DrResolution | null, svc: Service, port: ServicePort): Outcome | null {
  const proto = protocolAt(idx, port);
  if (proto === 'udp') return null;
  const eps = endpointsOf(idx, svc, port);
  if (eps.length === 0) return null;
  const effective: ClientRep = client.kind === 'sidecar' && client.excludeOutboundPorts.includes(port.port)
    ? { ...client, kind: 'none' } : client;
  let worst: Outcome | null = null;
  let okCount = 0;
  for (const ep of eps) {
    const o = endpointOutcome(idx, effective, svc, port, ep, clientSend(idx, effective, dr, svc, port, ep), proto);
    if (!failed(o)) okCount++;
    if (!worst || RANK[o.code] > RANK[worst.code]) worst = o;
  }
  if (!worst) return null;
  const partial = failed(worst) && okCount > 0;
  if (!dr?.rule && !partial) return worst;
  const reason = partial ? `${worst.reason} (endpoints disagree: ${eps.length - okCount} of ${eps.length} fail; the worst outcome is shown)` : worst.reason;
  return outcome(worst.code, worst.exit, worst.cause, reason, worst.tlsMode, worst.serverSource, dr?.rule ? objectRef(dr.rule) : undefined, partial || undefined);
}
