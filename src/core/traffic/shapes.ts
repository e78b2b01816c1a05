import type { ClientTls, DestinationRule, OutcomeCode, Service, ServicePort } from '../model/model.js';
import { memoTable, type MeshIndex } from '../mesh/mesh-index.js';
import type { Code } from '../model/codes.js';
import { classesAt, type ClientClass } from './classes.js';
import { endpointsOf, protocolAt, type EndpointKind } from '../mesh/endpoints.js';
import { callsItself, connectionOutcome, drFor, failed, meetsHttpListener, passesProxy, serviceMode, type Outcome } from './outcome.js';
import { routingOf } from '../mesh/routes.js';
import { clientTls, exportedForAll, portPolicy, rootForAll, type PortPolicy } from '../policy/destination-rule.js';
import { serverMode, type ResolvedMode } from '../policy/peer-auth.js';
import { certainty } from '../rules/registry.js';

const T_SHAPE = memoTable<ServicePort, ServerShape | null>('auth:shape');
const T_VERDICTS = memoTable<ServerShape, Map<ClientSig, Verdict>>('static:verdicts');
const T_GROUPS = memoTable<ServicePort, readonly SignatureGroup[]>('dr:groups');
const T_SHARED_RULE = memoTable<Service, DestinationRule | null | typeof VARIES>('dr:sharedRule');
/** A memoised `undefined`. */
const VARIES = 0;

/*
 * Outcome codes depend on far fewer inputs than outcome reasons: what the client puts on the wire
 * (its signature) and what each endpoint accepts (the server shape). A change that reaches every
 * service is judged by comparing shapes and looking codes up per (signature, shape); reasons are
 * only written for the connections that end up in a finding.
 */

/**
 * How a client treats one service port, as far as the outcome code goes. `auto` is auto mTLS per
 * endpoint (its label and its own policy), with variants from a DestinationRule: `-infer` when a
 * top-level loadBalancer PASSTHROUGH makes one unlabelled endpoint turn the whole service to
 * plaintext; `-odst` when the port's cluster is ORIGINAL_DST (one transport socket for every
 * endpoint); `-labels` when the endpoints read a top-level ISTIO_MUTUAL (their label alone decides).
 * `passthrough-http` is a sidecar whose Sidecar scope leaves the service out, on a port where its
 * proxy still has an HTTP listener: plaintext as the application wrote it, answered by the proxy.
 * `self:<class>|<signature>` is a client that reaches its own pod through a headless Service
 * (`callsItself`): its outcome is its own, shared with no other class. `route:<class>|<port>` is a
 * sidecar that a VirtualService routes to subsets (`routingOf`): its verdict is computed on each
 * index from the connection itself, as subsets split endpoints in ways no shape records.
 */
export type ClientSig =
  | 'none'
  | 'passthrough-http'
  | 'ambient'
  | 'disable'
  | 'istio'
  | 'tls'
  | 'tls-as-plaintext'
  | 'auto'
  | 'auto-labels'
  | 'auto-odst'
  | 'auto-infer'
  | 'auto-infer-labels'
  | 'auto-infer-odst'
  | `self:${string}`
  | `route:${string}`;

/** The client signature of a class towards a port, from its DestinationRule resolution. */
export function signatureOf(idx: MeshIndex, c: ClientClass, dr: (PortPolicy & { rule: DestinationRule | null }) | null): ClientSig {
  if (c.kind === 'ambient') return 'ambient';
  // A sidecar client has no resolution only on an excluded outbound port: it then sends plaintext itself.
  if (c.kind === 'none' || !dr) return 'none';
  return sidecarSignature(idx, dr.rule, dr);
}

function sidecarSignature(idx: MeshIndex, rule: DestinationRule | null, p: PortPolicy): ClientSig {
  const tls = p.tls;
  if (!tls) {
    if (p.passthrough) return p.inferPassthrough ? 'auto-infer-odst' : 'auto-odst';
    // Endpoints whose mTLS label a top-level DISABLE, SIMPLE or MUTUAL strips all get plaintext.
    if (p.endpointMode && p.endpointMode !== 'ISTIO_MUTUAL') return 'disable';
    const labels = p.endpointMode === 'ISTIO_MUTUAL';
    return p.inferPassthrough ? (labels ? 'auto-infer-labels' : 'auto-infer') : labels ? 'auto-labels' : 'auto';
  }
  return tlsSignature(idx, rule, tls);
}

/** The signature of a sidecar that originates the TLS a rule sets for the port. */
function tlsSignature(idx: MeshIndex, rule: DestinationRule | null, tls: ClientTls): ClientSig {
  switch (tls.mode) {
    case 'DISABLE':
      return 'disable';
    case 'ISTIO_MUTUAL':
      return 'istio';
    default:
      return tls.credentialName && idx.features.credentialNameNeedsSelector && !rule?.workloadSelector ? 'tls-as-plaintext' : 'tls';
  }
}

/**
 * Everything server-side of a service port that an outcome code reads: the protocol, the mode
 * auto mTLS infers for the service and, per distinct endpoint, its kind, its tlsMode label and
 * its inbound mode. Interned: two ports with equal shapes share one object.
 */
export interface ServerShape {
  readonly key: number | string;
  /** Protocol and inferred service mode: `1 + protocol × 3 + (headless-plaintext 0, DISABLE 1, other 2)`. */
  readonly lead: number;
  /** The distinct endpoint parts, in order of first appearance: `(kind × 2 + labelled) × 4 + mode`. */
  readonly parts: readonly number[];
}

/** The server shape of a port, or null when the port has no outcome (UDP, no endpoints). Memoised with the policies it reads. */
export function serverShape(idx: MeshIndex, svc: Service, port: ServicePort): ServerShape | null {
  const memo = idx.memo(T_SHAPE);
  let s = memo.get(port);
  if (s === undefined) memo.set(port, (s = computeShape(idx, svc, port)));
  return s;
}

/**
 * The server shape of a port on an index that is judged once (the index after a change): read
 * from the memo if there, never written to it: a mesh-wide change computes the shapes of hundreds
 * of ports that nothing reads again, and memoising them only grew a map per change.
 */
export function shapeOnce(idx: MeshIndex, svc: Service, port: ServicePort): ServerShape | null {
  const s = idx.memo(T_SHAPE).get(port);
  return s !== undefined ? s : computeShape(idx, svc, port);
}

const PROTOCOL_CODE = { http: 0, tcp: 1, tls: 2 } as const;
const KIND_CODE: Record<EndpointKind, number> = { sidecar: 0, ambient: 1, none: 2, apiserver: 3, external: 4 };
const MODE_CODE = { '': 0, STRICT: 1, PERMISSIVE: 2, DISABLE: 3 } as const;
/** Endpoint parts are 0..39, written as the digits 1..40. */
const BASE = 41;

/**
 * A shape's lead digit: the protocol, the service-wide mode auto mTLS infers, and whether the
 * service is headless (its cluster carries no per-endpoint TLS choice). The headless offset is a
 * multiple of 3, so `shapeWithBase` reads the mode part the same way.
 */
function leadOf(proto: keyof typeof PROTOCOL_CODE, disabled: boolean | 'headless', headless: boolean): number {
  return 1 + PROTOCOL_CODE[proto] * 3 + (disabled === 'headless' ? 0 : disabled ? 1 : 2) + (headless ? 9 : 0);
}

function computeShape(idx: MeshIndex, svc: Service, port: ServicePort): ServerShape | null {
  const proto = protocolAt(idx, port);
  if (proto === 'udp') return null;
  const eps = endpointsOf(idx, svc, port);
  if (eps.length === 0) return null;
  const sm = serviceMode(idx, svc, port);
  // Parts go into one scratch list: a lookup that finds the shape interned allocates nothing.
  const parts = idx.scratch(eps.length);
  for (let i = 0; i < eps.length; i++) {
    const ep = eps[i]!;
    const w = ep.workload;
    const labelled = w?.labels['security.istio.io/tlsMode'] === 'istio';
    // A labelled endpoint without a sidecar in the way still has its policy read by auto mTLS.
    const mode =
      w && (ep.kind === 'sidecar' || ep.kind === 'ambient' || (ep.kind === 'none' && labelled))
        ? serverMode(idx, w, ep.containerPort, svc, port).mode
        : '';
    parts[i] = (KIND_CODE[ep.kind] * 2 + (labelled ? 1 : 0)) * 4 + MODE_CODE[mode];
  }
  return internShape(idx, leadOf(proto, sm === 'headless-plaintext' ? 'headless' : sm.mode === 'DISABLE', svc.headless), parts, eps.length);
}

/** The interned shape of a lead and the first `n` endpoint parts; repeated parts count once. */
function internShape(idx: MeshIndex, lead: number, parts: readonly number[], n: number): ServerShape {
  // Shapes are keyed by a number on the hot path: one base-41 digit per distinct endpoint part.
  // Every digit is at least 1, so that distinct sequences never give the same number.
  let key: number | string = lead;
  let seenLow = 0;
  let seenHigh = 0;
  for (let i = 0; i < n; i++) {
    const part = parts[i]!;
    // Repeats change neither the worst outcome nor whether some endpoint gets through.
    if (part < 30) {
      if (seenLow & (1 << part)) continue;
      seenLow |= 1 << part;
    } else {
      if (seenHigh & (1 << (part - 30))) continue;
      seenHigh |= 1 << (part - 30);
    }
    key = typeof key === 'number' && key < 2 ** 46 ? key * BASE + part + 1 : `${key}|${part}`;
  }
  const interned = idx.cachedMap<number | string, ServerShape>('static', 'shapes');
  let s = interned.get(key);
  if (!s) interned.set(key, (s = { key, lead, parts: distinctParts(parts, n) }));
  return s;
}

/** The first `n` parts with repeats dropped, in order. */
function distinctParts(parts: readonly number[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!out.includes(parts[i]!)) out.push(parts[i]!);
  return out;
}

/**
 * The shape of a port after a change of the namespace or mesh level, from its shape before, for a
 * namespace where no workload policy applies (PeerAuthentication alone in force): every sidecar
 * endpoint (and labelled endpoint past its sidecar) then takes the namespace's base mode, every
 * ambient endpoint the same with DISABLE read as PERMISSIVE, and the service its namespace mode.
 * Transforms are memoised per (shape, base mode, DISABLE or not), so most ports cost a lookup.
 */
export function shapeWithBase(idx: MeshIndex, before: ServerShape, base: ResolvedMode['mode'], disabled: boolean): ServerShape {
  const memo = idx.cachedMap<ServerShape, Map<number, ServerShape>>('static', 'baseTransforms');
  let perShape = memo.get(before);
  if (!perShape) memo.set(before, (perShape = new Map()));
  const k = MODE_CODE[base] + (disabled ? 4 : 0);
  let s = perShape.get(k);
  if (s) return s;
  const leadRest = (before.lead - 1) % 3;
  const lead = leadRest === 0 ? before.lead : before.lead - leadRest + (disabled ? 1 : 2);
  const ambient = base === 'DISABLE' ? MODE_CODE.PERMISSIVE : MODE_CODE[base];
  const n = before.parts.length;
  const parts = idx.scratch(n);
  for (let i = 0; i < n; i++) {
    const p = before.parts[i]!;
    const kind = p >> 3;
    // A labelled endpoint past its sidecar has its policy read like a sidecar's (computeShape).
    const takesBase = kind === KIND_CODE.sidecar || (kind === KIND_CODE.none && (p & 4) !== 0);
    parts[i] = takesBase ? (p & ~3) | MODE_CODE[base] : kind === KIND_CODE.ambient ? (p & ~3) | ambient : p;
  }
  perShape.set(k, (s = internShape(idx, lead, parts, n)));
  return s;
}

/** An outcome without its reason: enough to tell a break and to group findings. */
export interface Verdict {
  readonly code: OutcomeCode;
  readonly cause: Code | undefined;
  readonly failed: boolean;
  /** True when the failure follows from the config alone (see `certainty`: the rule says so). */
  readonly certain: boolean;
  /** Equal for verdicts that read the same: code, cause and certainty. */
  readonly key: string;
}

/**
 * The verdict for a client signature towards a server shape. The first time a pair is seen it is
 * computed from a real connection (the class towards the port), so codes never diverge from
 * `connectionOutcome`; every later port with the same pair reuses it.
 */
export function verdictOf(idx: MeshIndex, c: ClientClass, sig: ClientSig, shape: ServerShape, svc: Service, port: ServicePort): Verdict {
  const memo = idx.memo(T_VERDICTS);
  let perShape = memo.get(shape);
  if (!perShape) memo.set(shape, (perShape = new Map()));
  let v = perShape.get(sig);
  if (!v) {
    v = verdictFrom(connectionOutcome(idx, c.rep, drFor(idx, c.drKey, c.rep, svc, port), svc, port)!);
    // A routed call's verdict holds for this index only (a self-caller's signature may wrap one).
    if (!sig.startsWith('route:') && !sig.includes('|route:')) perShape.set(sig, v);
  }
  return v;
}

function verdictFrom(o: Outcome): Verdict {
  const certain = certainty(o) !== undefined;
  return {
    code: o.code,
    cause: o.cause,
    failed: failed(o),
    certain,
    key: `${o.code} ${o.cause ?? ''} ${certain ? 'certain' : 'possible'}`,
  };
}

/**
 * The client signature of a class towards a service port. Not memoised: callers keep the result
 * per port group (`signatureGroups`), and the worded resolutions of `drFor` are not needed here.
 */
export function classSignature(idx: MeshIndex, c: ClientClass, svc: Service, port: ServicePort): ClientSig {
  const sig = wireSignature(idx, c, svc, port);
  // Verdicts are kept per signature while rules change: a self-caller's keeps what it sends, too.
  return callsItself(idx, c.rep, svc, port) ? `self:${c.key}|${sig}` : sig;
}

function wireSignature(idx: MeshIndex, c: ClientClass, svc: Service, port: ServicePort): ClientSig {
  if (c.kind !== 'sidecar' || passesProxy(idx, c.rep, svc, port) !== null)
    return meetsHttpListener(idx, c.rep, svc, port) ? 'passthrough-http' : signatureOf(idx, c, null);
  if (routingOf(idx, c.rep.namespace, svc, port)) return `route:${c.key}|${svc.namespace}/${svc.name}:${port.port}`;
  return signatureOf(idx, c, clientTls(idx, c.rep, idx.fqdn(svc), svc.namespace, port.port));
}

/**
 * The rule that every sidecar class without a rule of its own namespace for a Service's host uses
 * (see `exportedForAll`): null for none, undefined when it depends on the client's namespace.
 * Memoised with the rules.
 */
export function sharedRule(idx: MeshIndex, svc: Service): DestinationRule | null | undefined {
  const memo = idx.memo(T_SHARED_RULE);
  let r = memo.get(svc);
  if (r === undefined) {
    const found = exportedForAll(idx, idx.fqdn(svc), svc.namespace);
    memo.set(svc, (r = found === undefined ? VARIES : found));
  }
  return r === VARIES ? undefined : r;
}

/**
 * `sharedRule` after a change of a rule in namespace `ns`, for a service with host `fqdn`, from
 * `was`, the one before: a lookup step is read again only where the change is. The index after is
 * judged once, so nothing is memoised.
 */
export function sharedRuleAfter(
  after: MeshIndex,
  ns: string,
  svc: Service,
  fqdn: string,
  was: DestinationRule | null | undefined,
): DestinationRule | null | undefined {
  if (was === undefined || (ns !== svc.namespace && ns !== after.root)) return was;
  if (ns === svc.namespace) return exportedForAll(after, fqdn, svc.namespace);
  // A root rule: the service's namespace settled the lookup before, and still does.
  return was !== null && was.namespace === svc.namespace ? was : rootForAll(after, fqdn);
}

/** The signature of a sidecar class towards a port through its shared rule. */
export function sharedSignature(idx: MeshIndex, rule: DestinationRule | null, port: ServicePort): ClientSig {
  if (!rule) return 'auto';
  const tp = rule.trafficPolicy;
  // Most rules set TLS at their top level alone, which then holds for every port as it is.
  if (tp?.tls && tp.portLevel.length === 0) return tlsSignature(idx, rule, tp.tls);
  return sidecarSignature(idx, rule, portPolicy(tp, port.port));
}

/** The verdict for a signature towards a shape if some port has already computed it. */
export function knownVerdict(idx: MeshIndex, sig: ClientSig, shape: ServerShape): Verdict | undefined {
  return idx.memo(T_VERDICTS).get(shape)?.get(sig);
}

/** Classes that need their own evaluation towards a service port, grouped by signature. */
export interface SignatureGroup {
  readonly sig: ClientSig;
  readonly classes: readonly ClientClass[];
}

/** The classes at a service port by signature, memoised with the DestinationRules they read. */
export function signatureGroups(idx: MeshIndex, svc: Service, port: ServicePort): readonly SignatureGroup[] {
  const memo = idx.memo(T_GROUPS);
  let g = memo.get(port);
  if (g) return g;
  const by = new Map<ClientSig, ClientClass[]>();
  for (const c of classesAt(idx, svc)) {
    const sig = classSignature(idx, c, svc, port);
    const l = by.get(sig);
    if (l) l.push(c);
    else by.set(sig, [c]);
  }
  // Most ports group their classes alike; they share one list.
  let key = '';
  for (const [sig, classes] of by) key += `${sig}:${classes.map((c) => c.key).join(',')};`;
  g = idx.intern<readonly SignatureGroup[]>('dr', 'groupLists', key, () => [...by].map(([sig, classes]) => ({ sig, classes })));
  memo.set(port, g);
  return g;
}
