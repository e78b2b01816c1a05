import type { Service, ServicePort, Workload } from '../model/model.js';
import { memoTable, type MeshIndex } from './mesh-index.js';
import { capturesInbound } from './capture.js';

const T_PROTOCOL = memoTable<ServicePort, PortProtocol | 'udp'>('static:protocol');
const T_ENDPOINTS = memoTable<ServicePort, readonly Endpoint[]>('static:endpoints');
const T_DIALLED = memoTable<ServicePort, readonly (string | undefined)[]>('static:dialled');

/** What sits behind a Service port. */
export type EndpointKind = 'sidecar' | 'ambient' | 'none' | 'apiserver' | 'external';

/** One backend of a Service port. `containerPort` is the resolved targetPort. */
export interface Endpoint {
  readonly kind: EndpointKind;
  readonly workload?: Workload;
  readonly containerPort: number;
}

/** How a port's traffic is handled by a client sidecar. */
export type PortProtocol = 'http' | 'tcp' | 'tls';

// The protocols Istio knows by name (pkg/config/protocol Parse, and the Kubernetes appProtocol
// names of pkg/config/kube ConvertProtocol). Any other name is sniffed, like an unnamed port.
const HTTP: ReadonlySet<string> = new Set(['http', 'http2', 'http_proxy', 'grpc', 'grpc-web', 'kubernetes.io/h2c', 'kubernetes.io/ws']);
const TLS: ReadonlySet<string> = new Set(['https', 'tls', 'kubernetes.io/wss']);
const TCP: ReadonlySet<string> = new Set(['tcp', 'mongo', 'redis', 'mysql']);
/** SMTP, DNS, MySQL and MongoDB: Istio never sniffs these ports, whose servers speak first. */
const SERVER_FIRST_PORTS: ReadonlySet<number> = new Set([25, 53, 3306, 27017]);

/**
 * The protocol of a Service port as Istio reads it: `appProtocol` when set, else the port name up to
 * its first `-` (`http-web`; any `grpc-web…` is gRPC-Web). A name Istio does not know, or none, means protocol
 * sniffing: the sidecar detects plaintext HTTP and treats it as HTTP (the application is taken to
 * speak HTTP), except on the ports whose servers speak first, which are TCP.
 */
export function portProtocol(p: ServicePort): PortProtocol | 'udp' {
  if (p.protocol && p.protocol.toUpperCase() !== 'TCP') return 'udp';
  const raw = (p.appProtocol ?? p.name ?? '').toLowerCase();
  // Any name that starts with grpc-web is gRPC-Web, whatever follows (`ConvertProtocol` in
  // pkg/config/kube/conversion.go checks this prefix before it splits the name).
  if (raw.startsWith('grpc-web')) return 'http';
  const name = raw.startsWith('kubernetes.io/') ? raw : raw.split('-')[0]!;
  if (HTTP.has(name)) return 'http';
  if (TLS.has(name)) return 'tls';
  if (TCP.has(name)) return 'tcp';
  return SERVER_FIRST_PORTS.has(p.port) ? 'tcp' : 'http';
}

/** `portProtocol`, memoised per Service port. */
export function protocolAt(idx: MeshIndex, p: ServicePort): PortProtocol | 'udp' {
  const memo = idx.memo(T_PROTOCOL);
  let proto = memo.get(p);
  if (!proto) memo.set(p, (proto = portProtocol(p)));
  return proto;
}

/** The container port a targetPort means on one workload, or null when the workload has no such port. */
export function resolveTargetPort(w: Workload, target: number | string): number | null {
  if (typeof target === 'number') return target;
  const n = Number(target);
  if (Number.isInteger(n) && String(n) === target) return n;
  return w.ports.find((p) => p.name === target)?.port ?? null;
}

/** True for the `kubernetes` Service in `default`: the API server, which speaks TLS and has no sidecar. */
export function isApiServer(s: Service): boolean {
  return s.name === 'kubernetes' && s.namespace === 'default' && s.selector === null;
}

/** The endpoints of a Service port. Services without a selector have one endpoint outside the mesh. */
export function endpointsOf(idx: MeshIndex, s: Service, p: ServicePort): readonly Endpoint[] {
  const memo = idx.memo(T_ENDPOINTS);
  let e = memo.get(p);
  if (!e) memo.set(p, (e = computeEndpoints(idx, s, p)));
  return e;
}

function computeEndpoints(idx: MeshIndex, s: Service, p: ServicePort): readonly Endpoint[] {
  if (s.selector === null) {
    const port = typeof p.targetPort === 'number' ? p.targetPort : p.port;
    return [{ kind: isApiServer(s) ? 'apiserver' : 'external', containerPort: port }];
  }
  const out: Endpoint[] = [];
  for (const w of idx.endpoints(s)) {
    const cp = resolveTargetPort(w, p.targetPort);
    if (cp === null) continue;
    // Ports the sidecar's inbound rules do not capture reach the application directly.
    const bypass = !capturesInbound(w.inbound, cp);
    out.push({ kind: bypass ? 'none' : w.mesh, workload: w, containerPort: cp });
  }
  // Memoised for the life of the index: without the room push keeps for more.
  return out.slice();
}

/**
 * The addresses a client's application dials for a service port: the Service's clusterIP, or for a
 * headless Service its endpoints' pod addresses. `undefined` stands for an address the snapshot
 * does not know (no clusterIP, pods of a template).
 */
export function dialledAddresses(idx: MeshIndex, s: Service, p: ServicePort): readonly (string | undefined)[] {
  const memo = idx.memo(T_DIALLED);
  let a = memo.get(p);
  if (!a) memo.set(p, (a = s.headless ? podAddresses(idx, s, p) : [s.clusterIP]));
  return a;
}

function podAddresses(idx: MeshIndex, s: Service, p: ServicePort): (string | undefined)[] {
  const known = new Set<string>();
  let unknown = false;
  for (const ep of endpointsOf(idx, s, p)) {
    if (ep.workload?.addresses?.length) for (const ip of ep.workload.addresses) known.add(ip);
    else unknown = true;
  }
  return unknown || known.size === 0 ? [...known, undefined] : [...known];
}
