import type {
  AuthorizationPolicy,
  ClientTls,
  DestinationRule,
  IstioObject,
  Labels,
  LegacyMode,
  LegacyPolicy,
  LegacyTarget,
  PeerAuthentication,
  PeerMode,
  PortTrafficPolicy,
  Route,
  RouteDestination,
  Subset,
  TlsMode,
  TrafficPolicy,
  VirtualService,
} from './model.js';
import { InvalidObjectError, UnsupportedKindError } from './errors.js';

/** A plain JSON object. */
export type Json = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The longest part of an input value that a message quotes. */
const QUOTE_MAX = 80;

/**
 * A short description of an input value for a message: a string or number quoted (cut to
 * QUOTE_MAX), a list or object named by its type. Input is untrusted, so a value is never
 * serialised whole: a list nested 10,000 deep would exhaust the stack.
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(clip(v));
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** A string cut to QUOTE_MAX characters, for messages that name it unquoted. */
export function clip(v: string): string {
  return v.length > QUOTE_MAX ? `${v.slice(0, QUOTE_MAX)}…` : v;
}

/** `v` when it is a string, else ''. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** `v` when it is an object, else an empty one: for reading optional nested fields leniently. */
export function asObject(v: unknown): Json {
  return isObject(v) ? v : {};
}

/** The objects in `v` when it is a list, else none. */
export function objectsIn(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** The API versions each judged kind is served in. */
export const JUDGED_KINDS: Readonly<Record<string, { group: string; versions: readonly string[] }>> = {
  PeerAuthentication: { group: 'security.istio.io', versions: ['v1beta1', 'v1'] },
  DestinationRule: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'] },
  Policy: { group: 'authentication.istio.io', versions: ['v1alpha1'] },
  MeshPolicy: { group: 'authentication.istio.io', versions: ['v1alpha1'] },
};

const PEER_MODES: readonly PeerMode[] = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'];
const TLS_MODES: readonly TlsMode[] = ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'];

/** What an absent map reads as; shared, and never written to. */
const NO_ENTRIES: Json = Object.freeze({});

function obj(v: unknown, field: string): Json {
  if (v === undefined || v === null) return NO_ENTRIES;
  if (!isObject(v)) throw new InvalidObjectError(field, `expected an object, got ${describeValue(v)}`);
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InvalidObjectError(field, `expected a list, got ${describeValue(v)}`);
  return v;
}

function str(v: unknown, field: string, required = false): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw new InvalidObjectError(field, 'is required');
    return undefined;
  }
  if (typeof v !== 'string') throw new InvalidObjectError(field, `expected a string, got ${describeValue(v)}`);
  return v;
}

/** Reads a string map (labels, matchLabels). */
export function labels(v: unknown, field: string): Labels {
  const o = obj(v, field);
  for (const k in o) {
    const val = o[k];
    if (typeof val !== 'string') throw new InvalidObjectError(`${field}.${clip(k)}`, `expected a string, got ${describeValue(val)}`);
  }
  // Parsed input is never written to, so the checked object itself serves: a live snapshot's
  // projections and the index then share one copy.
  return o as Labels;
}

function port(v: unknown, field: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new InvalidObjectError(field, `expected a port number from 1 to 65535, got ${describeValue(v)}`);
  }
  return n;
}

function enumValue<T extends string>(v: unknown, allowed: readonly T[], field: string, dflt: T): T {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new InvalidObjectError(field, `unknown value ${describeValue(v)}; expected one of ${allowed.join(', ')}`);
  }
  return v as T;
}

interface Meta {
  name: string;
  namespace: string;
  created: string;
  apiVersion: string;
  annotations: Labels;
}

/** Kubernetes names, namespaces and hosts are DNS names: at most 253 characters. */
const NAME_MAX = 253;

function bounded(v: string | undefined, field: string): string | undefined {
  if (v !== undefined && v.length > NAME_MAX)
    throw new InvalidObjectError(field, `is ${v.length} characters long; Kubernetes allows at most ${NAME_MAX}`);
  return v;
}

function meta(o: Json, defaultNamespace: string, clusterScoped: boolean): Meta {
  const m = obj(o['metadata'], 'metadata');
  const name = bounded(str(m['name'], 'metadata.name', true), 'metadata.name')!;
  const namespace = clusterScoped ? '' : (bounded(str(m['namespace'], 'metadata.namespace'), 'metadata.namespace') ?? defaultNamespace);
  const created = str(m['creationTimestamp'], 'metadata.creationTimestamp') ?? '';
  if (created && Number.isNaN(Date.parse(created)))
    throw new InvalidObjectError('metadata.creationTimestamp', `not a timestamp: ${describeValue(created)}`);
  return { name, namespace, created, apiVersion: text(o['apiVersion']), annotations: labels(m['annotations'], 'metadata.annotations') };
}

/** True when the kind and apiVersion name an object mtls-guard judges. */
export function isJudged(o: Json): boolean {
  const k = JUDGED_KINDS[text(o['kind'])];
  return Boolean(k && typeof o['apiVersion'] === 'string' && o['apiVersion'].startsWith(`${k.group}/`));
}

function checkApiVersion(o: Json): string {
  const kind = text(o['kind']);
  const k = JUDGED_KINDS[kind];
  const av = o['apiVersion'];
  if (!k || typeof av !== 'string' || !av.startsWith(`${k.group}/`)) {
    throw new UnsupportedKindError(`${typeof av === 'string' ? clip(av) : '(no apiVersion)'} ${kind ? clip(kind) : '(no kind)'}`);
  }
  const version = av.slice(k.group.length + 1);
  if (!k.versions.includes(version)) {
    throw new InvalidObjectError(
      'apiVersion',
      `${kind} is served as ${k.versions.map((v) => `${k.group}/${v}`).join(', ')}, not ${clip(av)}`,
    );
  }
  return kind;
}

function peerAuthentication(o: Json, ns: string): PeerAuthentication {
  const spec = obj(o['spec'], 'spec');
  const sel =
    spec['selector'] === undefined || spec['selector'] === null
      ? null
      : labels(obj(spec['selector'], 'spec.selector')['matchLabels'], 'spec.selector.matchLabels');
  const mtls = obj(spec['mtls'], 'spec.mtls');
  const mode = enumValue(mtls['mode'], PEER_MODES, 'spec.mtls.mode', 'UNSET');
  const portLevel: Record<number, PeerMode> = {};
  for (const [k, v] of Object.entries(obj(spec['portLevelMtls'], 'spec.portLevelMtls'))) {
    const p = port(k, `spec.portLevelMtls.${k}`);
    portLevel[p] = enumValue(obj(v, `spec.portLevelMtls.${k}`)['mode'], PEER_MODES, `spec.portLevelMtls.${k}.mode`, 'UNSET');
  }
  return { kind: 'PeerAuthentication', ...meta(o, ns, false), selector: sel, mode, portLevel };
}

function clientTls(v: unknown, field: string): ClientTls | null {
  if (v === undefined || v === null) return null;
  const t = obj(v, field);
  // A tls block without mode is DISABLE: the enum's zero value (docs/semantics.md §3.1).
  const mode = enumValue(t['mode'], TLS_MODES, `${field}.mode`, 'DISABLE');
  const credentialName = str(t['credentialName'], `${field}.credentialName`);
  const sans = list(t['subjectAltNames'], `${field}.subjectAltNames`).map((s, i) => str(s, `${field}.subjectAltNames[${i}]`)!);
  return { mode, ...(credentialName ? { credentialName } : {}), ...(sans.length ? { subjectAltNames: sans } : {}) };
}

const LB_SIMPLE = ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'] as const;

/** `{passthrough: true}` when a policy's `loadBalancer.simple` is PASSTHROUGH, else nothing. */
function passthrough(policy: Json, field: string): { passthrough?: true } {
  const lb = obj(policy['loadBalancer'], `${field}.loadBalancer`);
  return enumValue(lb['simple'], LB_SIMPLE, `${field}.loadBalancer.simple`, 'UNSPECIFIED') === 'PASSTHROUGH' ? { passthrough: true } : {};
}

function trafficPolicy(v: unknown, field: string): TrafficPolicy | null {
  if (v === undefined || v === null) return null;
  const tp = obj(v, field);
  const portLevel: PortTrafficPolicy[] = list(tp['portLevelSettings'], `${field}.portLevelSettings`).map((e, i) => {
    const f = `${field}.portLevelSettings[${i}]`;
    const entry = obj(e, f);
    const p = port(obj(entry['port'], `${f}.port`)['number'], `${f}.port.number`);
    return { port: p, tls: clientTls(entry['tls'], `${f}.tls`), ...passthrough(entry, f) };
  });
  return { tls: clientTls(tp['tls'], `${field}.tls`), portLevel, ...passthrough(tp, field) };
}

function destinationRule(o: Json, ns: string): DestinationRule {
  const spec = obj(o['spec'], 'spec');
  const host = bounded(str(spec['host'], 'spec.host', true), 'spec.host')!;
  if (!host) throw new InvalidObjectError('spec.host', 'must not be empty');
  const exportTo =
    spec['exportTo'] === undefined || spec['exportTo'] === null
      ? null
      : list(spec['exportTo'], 'spec.exportTo').map((e, i) => str(e, `spec.exportTo[${i}]`)!);
  const ws =
    spec['workloadSelector'] === undefined || spec['workloadSelector'] === null
      ? null
      : labels(obj(spec['workloadSelector'], 'spec.workloadSelector')['matchLabels'], 'spec.workloadSelector.matchLabels');
  const tp = trafficPolicy(spec['trafficPolicy'], 'spec.trafficPolicy');
  const subsets: Subset[] = list(spec['subsets'], 'spec.subsets').map((s, i) => {
    const f = `spec.subsets[${i}]`;
    const so = obj(s, f);
    const name = bounded(str(so['name'], `${f}.name`, true), `${f}.name`)!;
    if (!name) throw new InvalidObjectError(`${f}.name`, 'must not be empty');
    return { name, labels: labels(so['labels'], `${f}.labels`), trafficPolicy: trafficPolicy(so['trafficPolicy'], `${f}.trafficPolicy`) };
  });
  return {
    kind: 'DestinationRule',
    ...meta(o, ns, false),
    host,
    exportTo,
    workloadSelector: ws,
    trafficPolicy: tp,
    ...(subsets.length ? { subsets } : {}),
    written: spec,
  };
}

function legacyMode(peers: unknown[]): LegacyMode {
  // The first peer that configures mtls decides; `jwt` peers carry no transport setting.
  let mode: LegacyMode | undefined;
  peers.forEach((p, i) => {
    const peer = obj(p, `spec.peers[${i}]`);
    if (!('mtls' in peer)) return;
    const m = obj(peer['mtls'], `spec.peers[${i}].mtls`);
    // STRICT is the enum's zero value, so `mtls: {}` and `mtls: null` mean STRICT.
    const v = enumValue(m['mode'], ['STRICT', 'PERMISSIVE'] as const, `spec.peers[${i}].mtls.mode`, 'STRICT');
    const downgraded = m['allowTls'] === true || peer['peerIsOptional'] === true;
    mode ??= v === 'PERMISSIVE' || downgraded ? 'PERMISSIVE' : 'STRICT';
  });
  return mode ?? 'DISABLE';
}

function legacyPolicy(o: Json, ns: string, kind: 'Policy' | 'MeshPolicy'): LegacyPolicy {
  const spec = obj(o['spec'], 'spec');
  const targets: LegacyTarget[] = list(spec['targets'], 'spec.targets').map((t, i) => {
    const f = `spec.targets[${i}]`;
    const to = obj(t, f);
    const ports = list(to['ports'], `${f}.ports`).map((p, j) => {
      const po = obj(p, `${f}.ports[${j}]`);
      if (po['number'] !== undefined) return port(po['number'], `${f}.ports[${j}].number`);
      const n = str(po['name'], `${f}.ports[${j}].name`);
      if (!n) throw new InvalidObjectError(`${f}.ports[${j}]`, 'needs number or name');
      return n;
    });
    return { name: str(to['name'], `${f}.name`, true)!, ports };
  });
  if (kind === 'MeshPolicy' && targets.length) throw new InvalidObjectError('spec.targets', 'a MeshPolicy must not have targets');
  return { kind, ...meta(o, ns, kind === 'MeshPolicy'), targets, mode: legacyMode(list(spec['peers'], 'spec.peers')) };
}

/** The identity of a judged object: enough to find it, for deletes. */
export interface IstioRef {
  readonly kind: IstioObject['kind'];
  readonly namespace: string;
  readonly name: string;
}

/** Reads only the kind, namespace and name of a judged object (a DELETE needs no spec). */
export function parseIstioRef(o: unknown, defaultNamespace = 'default'): IstioRef {
  if (!isObject(o)) throw new InvalidObjectError('(document)', 'expected a Kubernetes object');
  const kind = checkApiVersion(o) as IstioObject['kind'];
  const m = meta(o, defaultNamespace, kind === 'MeshPolicy');
  return { kind, namespace: m.namespace, name: m.name };
}

/**
 * Parses a judged Istio object. Throws InvalidObjectError (with the field) for bad fields and
 * UnsupportedKindError for kinds mtls-guard does not judge.
 */
export function parseIstioObject(o: unknown, defaultNamespace = 'default'): IstioObject {
  if (!isObject(o)) throw new InvalidObjectError('(document)', 'expected a Kubernetes object');
  const kind = checkApiVersion(o);
  switch (kind) {
    case 'PeerAuthentication':
      return peerAuthentication(o, defaultNamespace);
    case 'DestinationRule':
      return destinationRule(o, defaultNamespace);
    default:
      return legacyPolicy(o, defaultNamespace, kind as 'Policy' | 'MeshPolicy');
  }
}

const MTLS_SOURCE_FIELDS: readonly string[] = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'];
const MTLS_WHEN_KEYS: readonly string[] = ['source.principal', 'source.namespace', 'connection.sni'];

/** Parses a security.istio.io AuthorizationPolicy down to its selector and mTLS-only fields. */
export function parseAuthorizationPolicy(o: Json, defaultNamespace = 'default'): AuthorizationPolicy {
  const m = meta(o, defaultNamespace, false);
  const spec = obj(o['spec'], 'spec');
  const sel =
    spec['selector'] === undefined || spec['selector'] === null
      ? null
      : labels(obj(spec['selector'], 'spec.selector')['matchLabels'], 'spec.selector.matchLabels');
  const fields = new Set<string>();
  list(spec['rules'], 'spec.rules').forEach((r, i) => {
    const rule = obj(r, `spec.rules[${i}]`);
    list(rule['from'], `spec.rules[${i}].from`).forEach((f, j) => {
      const src = obj(obj(f, `spec.rules[${i}].from[${j}]`)['source'], `spec.rules[${i}].from[${j}].source`);
      for (const k of MTLS_SOURCE_FIELDS) if (src[k] !== undefined) fields.add(`source.${k}`);
    });
    list(rule['when'], `spec.rules[${i}].when`).forEach((w, j) => {
      const key = obj(w, `spec.rules[${i}].when[${j}]`)['key'];
      if (typeof key === 'string' && MTLS_WHEN_KEYS.includes(key)) fields.add(`when ${key}`);
    });
  });
  return { name: m.name, namespace: m.namespace, selector: sel, mtlsFields: [...fields] };
}

const ROUTE_KINDS = ['http', 'tcp', 'tls'] as const;

/** A route's `match` list: the ports it names, or null when some entry takes every port; `none` when no entry is for sidecars. */
function routePorts(v: unknown, field: string): readonly number[] | null | 'none' {
  const matches = list(v, field);
  if (matches.length === 0) return null;
  const ports: number[] = [];
  let anyPort = false;
  let forSidecars = false;
  matches.forEach((m, i) => {
    const match = obj(m, `${field}[${i}]`);
    const gateways = list(match['gateways'], `${field}[${i}].gateways`).map((g, j) => str(g, `${field}[${i}].gateways[${j}]`)!);
    // A match that names gateways, but not `mesh`, is for those gateways only.
    if (gateways.length && !gateways.includes('mesh')) return;
    forSidecars = true;
    if (match['port'] === undefined || match['port'] === null) anyPort = true;
    else ports.push(port(match['port'], `${field}[${i}].port`));
  });
  if (!forSidecars) return 'none';
  return anyPort ? null : ports;
}

function routeDestination(v: unknown, field: string): RouteDestination {
  const d = obj(obj(v, field)['destination'], `${field}.destination`);
  const host = bounded(str(d['host'], `${field}.destination.host`, true), `${field}.destination.host`)!;
  if (!host) throw new InvalidObjectError(`${field}.destination.host`, 'must not be empty');
  const subset = bounded(str(d['subset'], `${field}.destination.subset`), `${field}.destination.subset`) || null;
  const p = obj(d['port'], `${field}.destination.port`)['number'];
  return { host, subset, port: p === undefined || p === null ? null : port(p, `${field}.destination.port.number`) };
}

/**
 * Parses a networking.istio.io VirtualService down to where its routes send a sidecar's calls:
 * the hosts, gateways, exportTo and every route's destinations. Matches other than the port and
 * gateways are not read: any request may take any route.
 */
export function parseVirtualService(o: Json, defaultNamespace = 'default'): VirtualService {
  const m = meta(o, defaultNamespace, false);
  const spec = obj(o['spec'], 'spec');
  const strings = (v: unknown, field: string): string[] =>
    list(v, field).map((e, i) => bounded(str(e, `${field}[${i}]`, true), `${field}[${i}]`)!);
  const routes: Route[] = [];
  for (const kind of ROUTE_KINDS) {
    list(spec[kind], `spec.${kind}`).forEach((r, i) => {
      const f = `spec.${kind}[${i}]`;
      const route = obj(r, f);
      const ports = routePorts(route['match'], `${f}.match`);
      const destinations = list(route['route'], `${f}.route`).map((d, j) => routeDestination(d, `${f}.route[${j}]`));
      if (ports !== 'none' && destinations.length) routes.push({ protocol: kind, ports, destinations });
    });
  }
  return {
    name: m.name,
    namespace: m.namespace,
    created: m.created,
    hosts: strings(spec['hosts'], 'spec.hosts'),
    gateways: strings(spec['gateways'], 'spec.gateways'),
    exportTo: spec['exportTo'] === undefined || spec['exportTo'] === null ? null : strings(spec['exportTo'], 'spec.exportTo'),
    routes,
  };
}
