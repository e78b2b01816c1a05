import type { Labels, MeshKind, OutcomeCode, Service, ServicePort, Workload } from '../model/model.js';
import { memoTable, selectorMatches, type MeshIndex } from '../mesh/mesh-index.js';
import type { Code } from '../model/codes.js';
import { dialledAddresses, endpointsOf, protocolAt, type Endpoint, type PortProtocol } from '../mesh/endpoints.js';
import { resolveClientTls, resolveSubsetTls, type DrResolution } from '../policy/destination-rule.js';
import {
  namespaceMode,
  serverMode,
  legacyPolicyFor,
  legacyMode,
  LEGACY_NONE,
  BETA_DEFAULT,
  type ResolvedMode,
} from '../policy/peer-auth.js';
import { objectRef, serviceLabel } from '../model/model.js';
import { Case } from '../model/cases.js';
import { RULE_OF_CASE } from '../rules/registry.js';
import { CAPTURE_ALL, capturesInbound, inboundBypass, outboundBypass } from '../mesh/capture.js';
import { egressBypass, httpListenerPorts } from '../mesh/egress.js';
import { routingOf, type RoutedSubset, type Routing } from '../mesh/routes.js';
import type { OutboundCapture, SidecarScope } from '../model/model.js';

const T_SERVICE_MODE = memoTable<ServicePort, ResolvedMode | 'headless-plaintext'>('auth:serviceMode');
const T_RESOLUTION = memoTable<ServicePort, Map<string, DrResolution>>('dr:resolution');

/** A client as the engine sees it: one representative of a class of workloads. */
export interface ClientRep {
  readonly kind: MeshKind;
  readonly namespace: string;
  readonly labels: Labels;
  readonly outbound: OutboundCapture;
  /** The Sidecar resource whose egress scope the client has; null for none. */
  readonly egress: SidecarScope | null;
  /** The client's namespace, where its scope reads `./…`; '' without a scope. */
  readonly home: string;
  /** The client itself, when it is the one pod of a workload that a headless Service selects (`selfCallers`). */
  readonly self: Workload | null;
}

/**
 * Why a sidecar client's connection to a service port leaves as the application wrote it, past
 * its proxy's clusters: its iptables rules do not capture it, or its Sidecar's egress scope does
 * not import the service. Null when the proxy handles it.
 */
export function passesProxy(idx: MeshIndex, client: ClientRep, svc: Service, port: ServicePort): string | null {
  if (client.kind !== 'sidecar') return null;
  const capture = captureBypass(idx, client, svc, port);
  if (capture !== null) return `the client's sidecar does not capture it (${capture}), so it leaves in plaintext`;
  const scope = egressBypass(client.egress, client.home, svc.namespace, idx.fqdn(svc));
  return scope === null ? null : `the client's sidecar has no cluster for it (${scope}): plaintext`;
}

/**
 * Why the client's iptables rules let its connection to a service port pass its sidecar, or null.
 * A headless Service is dialled at each endpoint's pod: one address that passes is enough for some
 * endpoints to get the application's bytes, and the worst endpoint decides.
 */
function captureBypass(idx: MeshIndex, client: ClientRep, svc: Service, port: ServicePort): string | null {
  if (client.outbound === CAPTURE_ALL) return null;
  for (const address of dialledAddresses(idx, svc, port)) {
    const why = outboundBypass(client.outbound, port.port, address);
    if (why !== null) return why;
  }
  return null;
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
  /** The subset a VirtualService sent the call to, when the outcome is that subset's. */
  readonly subset?: string | undefined;
}

const RANK: Record<OutcomeCode, number> = { '200': 0, '503': 1, '000': 2 };

/**
 * True when a sidecar client's connection passes its proxy's clusters (its Sidecar scope leaves
 * the service out) but not its listener: the proxy has an HTTP listener on the port (see
 * `httpListenerPorts`), so a failure reaches the client as the proxy's 503.
 */
export function meetsHttpListener(idx: MeshIndex, client: ClientRep, svc: Service, port: ServicePort): boolean {
  if (client.kind !== 'sidecar' || !client.egress || captureBypass(idx, client, svc, port) !== null) return false;
  return (
    egressBypass(client.egress, client.home, svc.namespace, idx.fqdn(svc)) !== null &&
    httpListenerPorts(idx, client.egress, client.home).has(port.port)
  );
}

/** True when an outcome is a failure. */
export function failed(o: Outcome): boolean {
  return o.code !== '200';
}

/** The service-wide mode that auto mTLS infers on the client side, memoised with the policies it reads. */
export function serviceMode(idx: MeshIndex, svc: Service, port: ServicePort): ResolvedMode | 'headless-plaintext' {
  const modes = idx.memo(T_SERVICE_MODE);
  let m = modes.get(port);
  if (!m) modes.set(port, (m = inferredServiceMode(idx, svc, port)));
  return m;
}

/**
 * True when an ORIGINAL_DST cluster (a headless service, or a rule's loadBalancer PASSTHROUGH)
 * gets plaintext: Istio infers one mode for the whole service, and an endpoint without the mTLS
 * label, or none at all, makes it plaintext (`BestEffortInferServiceMTLSMode` in
 * pilot/pkg/model/push_context.go).
 */
function passthroughPlaintext(idx: MeshIndex, svc: Service, port: ServicePort): boolean {
  const eps = endpointsOf(idx, svc, port);
  return eps.length === 0 || eps.some((e) => e.workload?.labels['security.istio.io/tlsMode'] !== 'istio');
}

/** The service-wide mode that auto mTLS infers on the client side (docs/semantics.md §4.3–§4.4). */
function inferredServiceMode(idx: MeshIndex, svc: Service, port: ServicePort): ResolvedMode | 'headless-plaintext' {
  if (svc.headless && passthroughPlaintext(idx, svc, port)) return 'headless-plaintext';
  const f = idx.features;
  if (f.peerAuthentication) {
    const m = namespaceMode(idx, svc.namespace);
    if (m) return m;
  }
  if (f.legacyPolicies) return legacyMode(legacyPolicyFor(idx, svc, port), f.legacyCoexistence ? BETA_DEFAULT : LEGACY_NONE);
  return BETA_DEFAULT;
}

/** The sends that do not depend on a rule or a policy: one object each. */
const NO_PROXY: Send = { wire: 'plaintext', tlsMode: 'none', why: 'the client has no sidecar and sends plaintext' };
const ZTUNNEL_HBONE: Send = { wire: 'hbone', tlsMode: 'HBONE', why: 'ztunnel sends HBONE (mTLS)' };
const ZTUNNEL_PLAINTEXT: Send = { wire: 'plaintext', tlsMode: 'none', why: 'ztunnel sends plaintext to a destination outside the mesh' };
const AUTO_HEADLESS: Send = {
  wire: 'plaintext',
  tlsMode: 'auto',
  why: 'auto mTLS sends plaintext to every endpoint of a headless service that has an endpoint without tlsMode=istio',
};
const AUTO_UNLABELLED: Send = {
  wire: 'plaintext',
  tlsMode: 'auto',
  why: 'auto mTLS sends plaintext (endpoint has no security.istio.io/tlsMode=istio label)',
};
const AUTO_MTLS: Send = {
  wire: 'istio-mtls',
  tlsMode: 'auto',
  why: 'auto mTLS sends Istio mTLS (endpoint has security.istio.io/tlsMode=istio)',
};

/**
 * What a client sends to every endpoint of a port, or undefined when it depends on the endpoint
 * (ztunnel by the endpoint's kind, auto mTLS by its label and policy).
 */
function portSend(idx: MeshIndex, client: ClientRep, dr: DrResolution | null, svc: Service, port: ServicePort): Send | undefined {
  // An ambient client has no DR resolution (`drFor`): ztunnel, not a sidecar, sends for it.
  if (client.kind === 'ambient') return undefined;
  if (client.kind === 'none' || !dr) return NO_PROXY;
  const tls = dr.tls;
  if (tls) {
    switch (tls.mode) {
      case 'DISABLE':
        return { wire: 'plaintext', tlsMode: 'DISABLE', why: `${dr.via} sets tls.mode DISABLE` };
      case 'ISTIO_MUTUAL':
        return { wire: 'istio-mtls', tlsMode: 'ISTIO_MUTUAL', why: `${dr.via} sets ISTIO_MUTUAL` };
      default:
        if (tls.credentialName && idx.features.credentialNameNeedsSelector && !dr.rule?.workloadSelector) {
          return {
            wire: 'plaintext',
            tlsMode: tls.mode,
            why: `${dr.via} uses credentialName without workloadSelector, so the sidecar sends plaintext`,
          };
        }
        return { wire: 'tls', tlsMode: tls.mode, why: `${dr.via} originates ${tls.mode} TLS` };
    }
  }
  if (!idx.autoMtls) {
    const by = dr.rule ? `${dr.via} sets no TLS` : 'no DestinationRule sets TLS';
    return {
      wire: 'plaintext',
      tlsMode: 'none',
      why: `${by} and auto mTLS is off (Istio ${idx.version.raw}), so the sidecar sends plaintext`,
    };
  }
  const svcMode = serviceMode(idx, svc, port);
  if (svcMode === 'headless-plaintext') return AUTO_HEADLESS;
  if (dr.inferPassthrough && passthroughPlaintext(idx, svc, port)) {
    return {
      wire: 'plaintext',
      tlsMode: 'auto',
      why: `${dr.via} sets loadBalancer PASSTHROUGH, and auto mTLS then sends plaintext to every endpoint when one has no security.istio.io/tlsMode=istio`,
    };
  }
  if (svcMode.mode === 'DISABLE') {
    return {
      wire: 'plaintext',
      tlsMode: 'auto',
      why: `auto mTLS sends plaintext to the whole service because ${svcMode.source} is DISABLE`,
    };
  }
  // An ORIGINAL_DST cluster has one transport socket, Istio mTLS, for every endpoint.
  if (dr.passthrough)
    return {
      wire: 'istio-mtls',
      tlsMode: 'auto',
      why: `${dr.via} sets loadBalancer PASSTHROUGH for the port, and auto mTLS sends Istio mTLS to every endpoint`,
    };
  // A headless Service's cluster has no per-endpoint TLS choice (no transport_socket_matches): the
  // metadata its endpoints take from the rule's top level changes nothing there.
  if (dr.endpointMode && dr.endpointMode !== 'ISTIO_MUTUAL' && !svc.headless) {
    return {
      wire: 'plaintext',
      tlsMode: 'auto',
      why: `${dr.via} leaves TLS to auto mTLS, but the endpoints take their mTLS label from its top-level tls.mode ${dr.endpointMode}, which strips it: the sidecar sends plaintext`,
    };
  }
  return undefined;
}

/** What a client sends to one endpoint when `portSend` leaves it open. */
function endpointSend(idx: MeshIndex, client: ClientRep, dr: DrResolution | null, svc: Service, port: ServicePort, ep: Endpoint): Send {
  if (client.kind === 'ambient') return ep.kind === 'ambient' || ep.kind === 'sidecar' ? ZTUNNEL_HBONE : ZTUNNEL_PLAINTEXT;
  const w = ep.workload;
  if (w?.labels['security.istio.io/tlsMode'] !== 'istio') return AUTO_UNLABELLED;
  // Since 1.12 auto mTLS reads each endpoint's own policy, through the endpoint's TLS metadata. A
  // headless service's cluster (ORIGINAL_DST) has no endpoints to carry it: its sidecar endpoints
  // get Istio mTLS whatever their port-level mode (confirmed by the Istio oracle). A rule whose
  // top-level ISTIO_MUTUAL the endpoints read keeps their label and skips their policy. The policy
  // is read whether or not a sidecar is there to apply it: a labelled pod without one, or a port
  // its sidecar does not capture, whose policy is DISABLE gets plaintext (the oracle agrees).
  if (
    idx.features.autoMtlsChecksWorkloadPolicy &&
    (ep.kind === 'sidecar' || ep.kind === 'none') &&
    !svc.headless &&
    dr?.endpointMode !== 'ISTIO_MUTUAL'
  ) {
    const m = serverMode(idx, w, ep.containerPort, svc, port);
    if (m.mode === 'DISABLE')
      return { wire: 'plaintext', tlsMode: 'auto', why: `auto mTLS sends plaintext because ${m.source} is DISABLE for the endpoint` };
  }
  return AUTO_MTLS;
}

/** Builds an outcome; every outcome has the same shape, which keeps the hot path monomorphic. */
function outcome(
  code: OutcomeCode,
  exit: number | undefined,
  cause: Code | undefined,
  reason: string,
  tlsMode: string,
  serverSource: string | undefined,
  rule?: string,
  partial?: boolean,
  subset?: string,
): Outcome {
  return { code, exit, cause, reason, tlsMode, serverSource, rule, partial, subset };
}

/** The finding code of each failing case, as the rule that claims it says; the other cases work. */
const CAUSE_OF_CASE: readonly (Code | undefined)[] = RULE_OF_CASE.map((r) => r?.code);

/** True when the port carries TLS of the application's own (a TLS port, or the API server). */
function appTlsAt(ep: Endpoint, proto: PortProtocol): boolean {
  return proto === 'tls' || ep.kind === 'apiserver';
}

/** The case of one endpoint. No words and no objects: this runs for every endpoint of every judged connection. */
function endpointCase(
  idx: MeshIndex,
  client: ClientRep,
  svc: Service | undefined,
  port: ServicePort | undefined,
  ep: Endpoint,
  s: Send,
  proto: PortProtocol,
): Case {
  if (ep.kind === 'none' || ep.kind === 'external' || ep.kind === 'apiserver') {
    // What an address outside the cluster speaks is unknown: a rule that originates TLS towards it
    // is taken to be right, as in Istio's egress TLS origination. A pod's port says what it speaks.
    if (s.wire === 'tls') return ep.kind === 'none' && !appTlsAt(ep, proto) ? Case.BareGetsTlsIntoPlainApp : Case.BareAccepts;
    if (s.wire !== 'istio-mtls') return Case.BareAccepts;
    return appTlsAt(ep, proto) ? Case.BareGetsMtlsOverTls : Case.BareGetsMtls;
  }
  const mode = serverMode(idx, ep.workload!, ep.containerPort, svc, port).mode;
  if (ep.kind === 'ambient') {
    if (s.wire === 'hbone') return Case.AmbientAccepts;
    if (s.wire === 'istio-mtls') return Case.AmbientGetsMtls;
    return mode === 'STRICT' ? Case.AmbientRejectsPlaintext : Case.AmbientAccepts;
  }
  switch (s.wire) {
    case 'hbone':
      return Case.Accepts;
    case 'istio-mtls':
      return mode === 'DISABLE' ? Case.DisabledGetsMtls : Case.Accepts;
    case 'tls':
      if (mode === 'STRICT') return Case.StrictGetsTls;
      return appTlsAt(ep, proto) ? Case.Accepts : Case.TlsIntoPlainApp;
    case 'plaintext':
      if (mode !== 'STRICT') return Case.Accepts;
      return client.kind === 'sidecar' && svc && port && passesProxy(idx, client, svc, port) === null
        ? Case.StrictRejectsSidecarPlaintext
        : Case.StrictRejectsPlaintext;
  }
}

/** The code and curl exit of a failing case: a client sidecar answers 503 on HTTP ports; elsewhere the connection just closes. */
function failCode(client: ClientRep, ep: Endpoint, proto: PortProtocol): { code: OutcomeCode; exit: number | undefined } {
  const appTls = appTlsAt(ep, proto);
  return client.kind === 'sidecar' && proto === 'http' && !appTls ? SIDECAR_503 : appTls ? CLOSED_TLS : CLOSED;
}

const SIDECAR_503 = { code: '503', exit: undefined } as const;
const CLOSED_TLS = { code: '000', exit: 35 } as const;
const CLOSED = { code: '000', exit: 56 } as const;

/** The rank of a case's outcome at an endpoint: 0 works, 1 a 503, 2 a closed connection. */
function caseRank(c: Case, client: ClientRep, ep: Endpoint, proto: PortProtocol): number {
  return CAUSE_OF_CASE[c] === undefined ? 0 : RANK[failCode(client, ep, proto).code];
}

/** The worded outcome of one endpoint's case. */
function endpointOutcome(
  idx: MeshIndex,
  svc: Service | undefined,
  port: ServicePort | undefined,
  ep: Endpoint,
  s: Send,
  c: Case,
  client: ClientRep,
  proto: PortProtocol,
): Outcome {
  const who = ep.workload ? `${ep.workload.name}.${ep.workload.namespace}` : svc ? serviceLabel(svc) : '';
  const bare = ep.kind === 'none' || ep.kind === 'external' || ep.kind === 'apiserver';
  const m = bare ? undefined : serverMode(idx, ep.workload!, ep.containerPort, svc, port);
  // The endpoint as the reason names it: without a sidecar, what it is; with one, its port's mode.
  const subject = m
    ? `${who} port ${ep.containerPort} is ${m.mode} (${m.source})`
    : ep.kind === 'apiserver'
      ? 'the Kubernetes API server (no sidecar, speaks TLS itself)'
      : `${who} (${bareWhy(ep)})`;
  // A failing case is worded by the rule that claims it; one that works, here.
  const rule = RULE_OF_CASE[c];
  const said = rule ? rule.says(c, subject, who) : c === Case.BareAccepts ? `${subject} accepts it` : subject;
  const reason = `${s.why}; ${said}`;
  const cause = rule?.code;
  if (cause === undefined) return outcome('200', undefined, undefined, reason, s.tlsMode, m?.source);
  const f = failCode(client, ep, proto);
  return outcome(f.code, f.exit, cause, reason, s.tlsMode, m?.source);
}

/** Why an endpoint has no proxy in the way: no sidecar, or one its iptables rules go around. */
function bareWhy(ep: Endpoint): string {
  const w = ep.workload;
  if (w?.mesh !== 'sidecar') return 'no sidecar';
  if (w.hostNetwork) return 'host network: its sidecar captures nothing';
  return `its sidecar does not capture port ${ep.containerPort}: ${inboundBypass(w.inbound, ep.containerPort) ?? 'bypassed'}`;
}

/** The DR resolution for a sidecar client, memoised per client view (and selector DRs), service port. */
export function drFor(idx: MeshIndex, viewKey: string, client: ClientRep, svc: Service, port: ServicePort): DrResolution | null {
  if (client.kind !== 'sidecar' || passesProxy(idx, client, svc, port) !== null) return null;
  const memo = idx.memo(T_RESOLUTION);
  let perPort = memo.get(port);
  if (!perPort) memo.set(port, (perPort = new Map()));
  let r = perPort.get(viewKey);
  if (!r) perPort.set(viewKey, (r = resolveClientTls(idx, client, idx.fqdn(svc), svc.namespace, port.port)));
  return r;
}

/**
 * The outcome of a client → service port connection: the worst over the service's endpoints,
 * saying so when the endpoints disagree. Null when the port has no endpoints or is not TCP. A
 * sidecar that a VirtualService routes to subsets is judged at the endpoints of each subset.
 */
export function connectionOutcome(
  idx: MeshIndex,
  client: ClientRep,
  dr: DrResolution | null,
  svc: Service,
  port: ServicePort,
): Outcome | null {
  const proto = protocolAt(idx, port);
  if (proto === 'udp') return null;
  const eps = endpointsOf(idx, svc, port);
  if (eps.length === 0) return null;
  const bypass = passesProxy(idx, client, svc, port);
  if (bypass === null && client.kind === 'sidecar') {
    const routing = routingOf(idx, client.namespace, svc, port);
    // A client that dials only its own pod through a headless Service never meets its routes.
    const self = svc.headless ? client.self : null;
    if (routing && !(self !== null && eps.every((ep) => ep.workload === self))) return routedOutcome(idx, client, routing, svc, proto);
  }
  // What passes the client's proxy leaves the pod as the application wrote it; through the
  // proxy's own HTTP listener, the proxy still answers the client.
  const effective: ClientRep = bypass === null || meetsHttpListener(idx, client, svc, port) ? client : { ...client, kind: 'none' };
  const send = bypass === null ? portSend(idx, effective, dr, svc, port) : { wire: 'plaintext' as const, tlsMode: 'none', why: bypass };
  const j = judgeEndpoints(idx, effective, dr, send, svc, port, eps, proto);
  return wordJudged(idx, j, effective, dr, svc, port, eps.length, proto, '');
}

/** The worst endpoint of a cluster, by case, and how many endpoints work. */
interface Judged {
  /** The worst endpoint, or null when every endpoint is the client's own pod. */
  readonly worst: Endpoint | null;
  readonly rank: number;
  readonly case: Case;
  readonly send: Send | undefined;
  readonly ok: number;
  /** The outcome already worded, for a route that reaches no endpoint. */
  readonly said?: Outcome;
}

/**
 * Judges the endpoints of one cluster by case; only the first worst one is worded later. The
 * client's own pod, dialled at its address through a headless Service, is reached past both
 * sidecars and always works.
 */
function judgeEndpoints(
  idx: MeshIndex,
  client: ClientRep,
  dr: DrResolution | null,
  send: Send | undefined,
  svc: Service,
  port: ServicePort,
  eps: readonly Endpoint[],
  proto: PortProtocol,
): Judged {
  const self = svc.headless ? client.self : null;
  let worst: Endpoint | null = null;
  let worstRank = -1;
  let worstCase: Case = Case.Accepts;
  let worstSend = send;
  let okCount = 0;
  for (let i = 0; i < eps.length; i++) {
    const ep = eps[i]!;
    if (self !== null && ep.workload === self) {
      okCount++;
      continue;
    }
    const s = send ?? endpointSend(idx, client, dr, svc, port, ep);
    const c = endpointCase(idx, client, svc, port, ep, s, proto);
    const rank = caseRank(c, client, ep, proto);
    if (rank === 0) okCount++;
    if (rank > worstRank) {
      worst = ep;
      worstRank = rank;
      worstCase = c;
      worstSend = s;
    }
  }
  return { worst, rank: worstRank, case: worstCase, send: worstSend, ok: okCount };
}

/** The worded outcome of a judged cluster of `total` endpoints; `route` says how the call got there, if routed. */
function wordJudged(
  idx: MeshIndex,
  j: Judged,
  client: ClientRep,
  dr: DrResolution | null,
  svc: Service,
  port: ServicePort,
  total: number,
  proto: PortProtocol,
  route: string,
  subset?: string,
): Outcome {
  const ruleRef = dr?.rule ? objectRef(dr.rule) : undefined;
  if (j.worst === null) return outcome('200', undefined, undefined, route + SELF_CALL, 'none', undefined, ruleRef);
  const o = j.said ?? endpointOutcome(idx, svc, port, j.worst, j.send!, j.case, client, proto);
  const partial = j.rank > 0 && j.ok > 0;
  if (!dr?.rule && !partial && !route) return o;
  const reason = partial
    ? `${route}${o.reason} (endpoints disagree: ${total - j.ok} of ${total} fail; the worst outcome is shown)`
    : route + o.reason;
  return outcome(o.code, o.exit, o.cause, reason, o.tlsMode, o.serverSource, ruleRef, partial || undefined, subset);
}

/**
 * The outcome of a sidecar's call that a VirtualService routes: the worst over the clusters its
 * routes can send to, each judged at its own endpoints with its own TLS. A subset that the client's
 * rule does not define, or that selects no endpoint, fails the calls sent to it (MG109).
 */
function routedOutcome(idx: MeshIndex, client: ClientRep, routing: Routing, svc: Service, proto: PortProtocol): Outcome {
  let worst: (Destination & { readonly to: RoutedSubset }) | null = null;
  let ok = 0;
  let total = 0;
  for (const to of routing.to) {
    const d = judgeDestination(idx, client, svc, to, proto);
    ok += d.j.ok;
    total += d.total;
    if (worst === null || d.j.rank > worst.j.rank) worst = { ...d, to };
  }
  const { j, dr, to } = worst!;
  const route = `${routeRef(routing)} sends it to ${to.subset === null ? 'the whole service' : `subset ${to.subset}`}; `;
  // Routes spread the calls: the whole of them disagree when some cluster works and another fails.
  return wordJudged(idx, { ...j, ok }, client, dr, svc, to.port, total, proto, route, to.subset ?? undefined);
}

/** One cluster a route sends to, judged at its endpoints, with the rule that set its TLS. */
interface Destination {
  readonly j: Judged;
  readonly dr: DrResolution | null;
  /** How many endpoints it stands for (one for a subset without any). */
  readonly total: number;
}

function judgeDestination(idx: MeshIndex, client: ClientRep, svc: Service, to: RoutedSubset, proto: PortProtocol): Destination {
  const fqdn = idx.fqdn(svc);
  const all = endpointsOf(idx, svc, to.port);
  const judge = (dr: DrResolution, eps: readonly Endpoint[]): Destination => ({
    j: judgeEndpoints(idx, client, dr, portSend(idx, client, dr, svc, to.port), svc, to.port, eps, proto),
    dr,
    total: eps.length,
  });
  if (to.subset === null) return judge(resolveClientTls(idx, client, fqdn, svc.namespace, to.port.port), all);
  const r = resolveSubsetTls(idx, client, fqdn, svc.namespace, to.port.port, to.subset);
  // An ORIGINAL_DST cluster (a headless Service, or PASSTHROUGH) sends to the address the
  // application dialled: the subset's labels choose its TLS, not its endpoints.
  const eps = !r
    ? []
    : svc.headless || r.resolution.passthrough
      ? all
      : all.filter((ep) => ep.workload !== undefined && selectorMatches(r.subset.labels, ep.workload.labels));
  if (eps.length) return judge(r!.resolution, eps);
  // The client's own pod, dialled at its address through a headless Service, still gets its calls.
  const selves = svc.headless && client.self ? all.filter((ep) => ep.workload === client.self).length : 0;
  const c = r ? Case.SubsetEmpty : Case.SubsetUndefined;
  const dr = r?.resolution ?? null;
  return { j: noEndpoint(client, c, `subset ${to.subset} of ${serviceLabel(svc)}`, proto, dr, selves), dr, total: 1 + selves };
}

/** A routed call that reaches no endpoint: the sidecar answers 503 on HTTP ports and closes the connection elsewhere. */
function noEndpoint(client: ClientRep, c: Case, subject: string, proto: PortProtocol, dr: DrResolution | null, selves: number): Judged {
  const rule = RULE_OF_CASE[c]!;
  const f = failCode(client, NO_ENDPOINT, proto);
  const said = outcome(f.code, f.exit, rule.code, rule.says(c, subject, subject), dr?.tls?.mode ?? 'none', undefined);
  return { worst: NO_ENDPOINT, rank: RANK[f.code], case: c, send: undefined, ok: selves, said };
}

/** The endpoint a routed call without one is judged at. */
const NO_ENDPOINT: Endpoint = { kind: 'none', containerPort: 0 };

function routeRef(r: Routing): string {
  return `VirtualService ${r.vs.namespace}/${r.vs.name}`;
}

/** Why a client that calls its own pod through a headless Service gets through, whatever the policies. */
const SELF_CALL =
  "the client dials its own pod's address (a headless Service): the injected iptables rules send the call past both " +
  'sidecars, and its application gets its own bytes';

/**
 * True when a client can reach its own pod through a service port: a headless Service that selects
 * the client (`ClientRep.self`). Its outcome there is its own, not its class signature's.
 */
export function callsItself(idx: MeshIndex, client: ClientRep, svc: Service, port: ServicePort): boolean {
  const self = client.self;
  return self !== null && svc.headless && endpointsOf(idx, svc, port).some((ep) => ep.workload === self);
}

/** A client outside the mesh. */
const OUTSIDE: ClientRep = { kind: 'none', namespace: '', labels: {}, outbound: CAPTURE_ALL, egress: null, home: '', self: null };

/**
 * What a caller without a sidecar gets when it sends plaintext straight to a workload's container
 * port, as a scrape of a pod does: the endpoint's case, worded by the rule that claims it.
 */
export function plaintextIntoPod(idx: MeshIndex, w: Workload, containerPort: number, caller: string): Outcome {
  // Ports the sidecar does not capture, and host-network pods, have no sidecar in the way.
  const kind = w.hostNetwork || !capturesInbound(w.inbound, containerPort) ? 'none' : w.mesh;
  const ep: Endpoint = { kind, workload: w, containerPort };
  const send: Send = { wire: 'plaintext', tlsMode: 'DISABLE', why: `${caller} has no sidecar and sends plaintext` };
  return endpointOutcome(
    idx,
    undefined,
    undefined,
    ep,
    send,
    endpointCase(idx, OUTSIDE, undefined, undefined, ep, send, 'tcp'),
    OUTSIDE,
    'tcp',
  );
}
