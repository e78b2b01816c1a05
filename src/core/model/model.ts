/**
 * The data model of the pure core: projections of Kubernetes and Istio objects that hold only
 * what the prediction reads. Shells (snapshot loaders, admission decoding) build these; the core
 * never sees raw manifests.
 */

/** Kubernetes labels or a selector's matchLabels. */
export type Labels = Readonly<Record<string, string>>;

/** Where an object came from, for error messages and findings (file and document, or the cluster). */
export interface Origin {
  readonly file?: string;
  readonly doc?: number;
}

/** A namespace and its labels (injection, ambient enrolment, mtls-guard mode). */
export interface Namespace {
  readonly name: string;
  readonly labels: Labels;
}

/** How a workload takes part in the mesh. */
export type MeshKind = 'sidecar' | 'ambient' | 'none';

/** A container port of a workload. */
export interface ContainerPort {
  readonly name?: string;
  readonly port: number;
}

/** A kubelet probe that goes over the network (exec probes are not kept). */
export interface Probe {
  readonly container: string;
  readonly kind: 'liveness' | 'readiness' | 'startup';
  readonly type: 'http' | 'grpc' | 'tcp';
  /** The port as written: a number or a container port name. */
  readonly port: number | string;
}

/**
 * Which of a sidecar pod's outgoing connections its iptables rules hand to the proxy, from the
 * `traffic.sidecar.istio.io/*` annotations the injector honours (istio-iptables' ISTIO_OUTPUT
 * chain). A connection the rules let pass leaves the pod as the application wrote it.
 */
export interface OutboundCapture {
  /** `excludeOutboundPorts`: checked first, whatever the address. */
  readonly excludedPorts: readonly number[];
  /** `excludeOutboundIPRanges`: checked next. */
  readonly excludedRanges: readonly string[];
  /** `includeOutboundPorts`: captured whatever the address, once past both exclusions. */
  readonly includedPorts: readonly number[];
  /** `includeOutboundIPRanges`: `*` (the default) captures everything still undecided. */
  readonly includedRanges: '*' | readonly string[];
}

/** Which ports of a sidecar pod its iptables rules hand to the proxy on the way in (ISTIO_INBOUND). */
export interface InboundCapture {
  /** `includeInboundPorts`: `*` (the default) for every port, an empty list for none. */
  readonly includedPorts: '*' | readonly number[];
  /** `excludeInboundPorts`: only read under `*`, as istio-iptables does. */
  readonly excludedPorts: readonly number[];
}

/**
 * A client or server workload: the pods of one owner (Deployment, StatefulSet, DaemonSet, or the
 * Pod itself), or a pod template when no pods exist yet.
 */
export interface Workload {
  readonly name: string;
  readonly namespace: string;
  /** The owner kind the name comes from. */
  readonly kind: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly mesh: MeshKind;
  /** Why `mesh` was decided, in words: "istio-proxy container", "predicted: namespace istio-injection=enabled". */
  readonly meshSignal: string;
  /** True when the workload is a template and the sidecar is predicted rather than seen. */
  readonly predicted: boolean;
  readonly ports: readonly ContainerPort[];
  readonly probes: readonly Probe[];
  /** Host-like strings the pod spec names in env, args and command (for `declared` evidence). */
  readonly declaredHosts: readonly string[];
  readonly hostNetwork: boolean;
  /** Which outgoing connections the sidecar's iptables rules capture (`mesh/capture.ts`). */
  readonly outbound: OutboundCapture;
  /** Which incoming ports the sidecar's iptables rules capture. */
  readonly inbound: InboundCapture;
  /** Number of pods this entry stands for (0 for a template). */
  readonly pods: number;
  /** For a template: the pods it asks for (`spec.replicas`, 1 when unset); absent for a DaemonSet, whose count the node list decides. */
  readonly replicas?: number;
  /**
   * Pod addresses the snapshot knows (`status.podIP`), at most `MAX_POD_ADDRESSES`: a headless
   * Service is dialled at them, and a client's capture rules by IP range read them. Absent for templates.
   */
  readonly addresses?: readonly string[];
  readonly origin?: Origin;
}

/** A Service port. */
export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort: number | string;
  readonly protocol: string;
  readonly appProtocol?: string;
}

/** A Kubernetes Service. `selector` is null for services without a selector, such as `kubernetes`. */
export interface Service {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Labels | null;
  /** The Service's own labels (ServiceMonitors select by them). */
  readonly labels?: Labels;
  readonly ports: readonly ServicePort[];
  readonly headless: boolean;
  readonly type: string;
  /** The host clients dial when it is not the Service's own name: a ServiceEntry's host. */
  readonly host?: string;
  /** The ServiceEntry a host comes from, as `ServiceEntry ns/name`. */
  readonly entry?: string;
  /** The virtual IP clients connect to, when the snapshot knows it (capture rules by IP range read it). */
  readonly clusterIP?: string;
  readonly origin?: Origin;
}

/** An Istio ServiceEntry, reduced to the hosts it declares, their ports, and where they live. */
export interface ServiceEntry {
  readonly name: string;
  readonly namespace: string;
  readonly hosts: readonly string[];
  readonly location: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  /** The ports, as Service ports: `protocol` becomes `appProtocol`, `targetPort` defaults to the number. */
  readonly ports: readonly ServicePort[];
  /** Pods in the entry's namespace that serve its hosts; null when its endpoints are addresses or DNS. */
  readonly workloadSelector: Labels | null;
  readonly origin?: Origin;
}

/**
 * An Istio `Sidecar` resource, reduced to the hosts its egress listeners import: a sidecar only
 * builds clusters for those, and sends anything else through its passthrough cluster as it is.
 */
export interface SidecarScope {
  readonly name: string;
  readonly namespace: string;
  /** RFC 3339 creation timestamp; '' when unknown (sorted as the newest). */
  readonly created: string;
  /** null for the namespace's (or, in the root namespace, the mesh's) default Sidecar. */
  readonly workloadSelector: Labels | null;
  /** The `namespace/host` entries of every egress listener; null when it has none (every host is in scope). */
  readonly egressHosts: readonly string[] | null;
  readonly origin?: Origin;
}

/** One destination of a VirtualService route. */
export interface RouteDestination {
  /** The host as written: a short name resolves in the VirtualService's namespace. */
  readonly host: string;
  readonly subset: string | null;
  /** `destination.port.number`; null when the route leaves it to the called port. */
  readonly port: number | null;
}

/** One `http`, `tcp` or `tls` route of a VirtualService, reduced to where it can send. */
export interface Route {
  readonly protocol: 'http' | 'tcp' | 'tls';
  /** The ports its matches name; null when some match (or no match) takes every port. */
  readonly ports: readonly number[] | null;
  readonly destinations: readonly RouteDestination[];
}

/** `networking.istio.io` VirtualService, as far as it steers a sidecar's calls to DestinationRule subsets. */
export interface VirtualService {
  readonly name: string;
  readonly namespace: string;
  /** RFC 3339 creation timestamp; '' when unknown (sorted as the newest). */
  readonly created: string;
  readonly hosts: readonly string[];
  /** `spec.gateways`; empty means the sidecars of the mesh only. */
  readonly gateways: readonly string[];
  /** null when the field is absent (the mesh default applies). */
  readonly exportTo: readonly string[] | null;
  readonly routes: readonly Route[];
  readonly origin?: Origin;
}

/** PeerAuthentication modes as in the API (UNSET inherits). */
export type PeerMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

/** Common metadata of the Istio objects that the core judges. */
export interface IstioMeta {
  readonly name: string;
  readonly namespace: string;
  /** RFC 3339 creation timestamp; '' when unknown (sorted as the newest). */
  readonly created: string;
  /** The API version the object was written in, e.g. `security.istio.io/v1beta1`. */
  readonly apiVersion: string;
  readonly annotations: Labels;
  readonly origin?: Origin;
}

/** `security.istio.io` PeerAuthentication. */
export interface PeerAuthentication extends IstioMeta {
  readonly kind: 'PeerAuthentication';
  /** null or empty means namespace- or mesh-level. */
  readonly selector: Labels | null;
  readonly mode: PeerMode;
  /** Keyed by the workload (container) port. */
  readonly portLevel: Readonly<Record<number, PeerMode>>;
}

/** Legacy `authentication.istio.io/v1alpha1` peer mode: no `peers` means plaintext only. */
export type LegacyMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** A target of a legacy Policy: a Service name and optional Service ports (number or name). */
export interface LegacyTarget {
  readonly name: string;
  readonly ports: readonly (number | string)[];
}

/** Legacy `authentication.istio.io/v1alpha1` Policy (namespaced) or MeshPolicy (cluster-scoped). */
export interface LegacyPolicy extends IstioMeta {
  readonly kind: 'Policy' | 'MeshPolicy';
  readonly targets: readonly LegacyTarget[];
  readonly mode: LegacyMode;
}

/** DestinationRule client TLS modes. */
export type TlsMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';

/** The parts of ClientTLSSettings that change what goes on the wire. */
export interface ClientTls {
  readonly mode: TlsMode;
  readonly credentialName?: string;
  readonly subjectAltNames?: readonly string[];
}

/** A `portLevelSettings` entry; `tls` null means the entry sets no TLS. */
export interface PortTrafficPolicy {
  readonly port: number;
  readonly tls: ClientTls | null;
  /** `loadBalancer.simple: PASSTHROUGH`: the port's cluster is ORIGINAL_DST. */
  readonly passthrough?: boolean;
}

/** A DestinationRule `trafficPolicy` reduced to what decides TLS. */
export interface TrafficPolicy {
  readonly tls: ClientTls | null;
  readonly portLevel: readonly PortTrafficPolicy[];
  /** `loadBalancer.simple: PASSTHROUGH`: the cluster is ORIGINAL_DST. */
  readonly passthrough?: boolean;
}

/** A named subset of a DestinationRule: the endpoints with its labels, and a policy of its own. */
export interface Subset {
  readonly name: string;
  readonly labels: Labels;
  readonly trafficPolicy: TrafficPolicy | null;
}

/** `networking.istio.io` DestinationRule. */
export interface DestinationRule extends IstioMeta {
  readonly kind: 'DestinationRule';
  readonly host: string;
  /** null when the field is absent (the mesh default applies). */
  readonly exportTo: readonly string[] | null;
  readonly workloadSelector: Labels | null;
  readonly trafficPolicy: TrafficPolicy | null;
  /** Absent or empty: no subsets. They act only where a VirtualService route sends to them. */
  readonly subsets?: readonly Subset[];
  /**
   * The spec as its author wrote it, when parsed from one: a printed revision of the rule keeps
   * what the engine does not read (connection pools, outlier detection, certificates).
   */
  readonly written?: Readonly<Record<string, unknown>>;
}

/** An AuthorizationPolicy, reduced to its selector and the mTLS-only fields it uses. */
export interface AuthorizationPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Labels | null;
  /** Fields that only work with mTLS peers: principals, namespaces, source.principal, … */
  readonly mtlsFields: readonly string[];
  readonly origin?: Origin;
}

/** The Istio objects whose changes mtls-guard judges. */
export type IstioObject = PeerAuthentication | LegacyPolicy | DestinationRule;

/** The kinds of IstioObject. */
export type IstioKind = IstioObject['kind'];

/** The parts of the mesh config that matter here. */
export interface MeshConfig {
  readonly rootNamespace: string;
  /** null when the mesh config does not set it (the version default applies). */
  readonly enableAutoMtls: boolean | null;
  readonly defaultDestinationRuleExportTo: readonly string[] | null;
  readonly clusterDomain: string;
  /** Whether the sidecar injector rewrites HTTP probes (`sidecarInjectorWebhook.rewriteAppHTTPProbe`); null = version default. */
  readonly rewriteAppProbes: boolean | null;
  /** `enablePrometheusMerge`; null = the default (on from 1.7). */
  readonly enablePrometheusMerge?: boolean | null;
}

/** A parsed Istio version. */
export interface IstioVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly raw: string;
}

/** Where the Istio version came from. */
export type VersionSource = 'flag' | 'istiod' | 'default';

/** One observed traffic series (DESIGN.md §3). */
export interface ObservedEdge {
  readonly reporter: 'source' | 'destination';
  /** 'unknown' when Istio could not identify the source (no proxy). */
  readonly sourceWorkload: string;
  readonly sourceNamespace: string;
  readonly destinationWorkload: string;
  readonly destinationNamespace: string;
  /** FQDN, e.g. httpbin.foo.svc.cluster.local. */
  readonly destinationService: string;
  /**
   * True when the destination reported the series without mutual TLS (connection_security_policy
   * other than mutual_tls). Source-reported series are never plaintext: only the server side knows.
   */
  readonly plaintext: boolean;
  readonly value: number;
  readonly metric: string;
}

/** Observed traffic and how fresh it is. */
export interface Traffic {
  readonly edges: readonly ObservedEdge[];
  /** Human description of the source: a file name or a Prometheus URL and window. */
  readonly source: string;
  /** When set, the evidence is stale or unavailable and only `possible` may be claimed. */
  readonly degraded?: string;
  /** True when edge values are per-second rates (Prometheus), false or absent for counter values (a file). */
  readonly perSecond?: boolean;
}

/**
 * A caller from outside the mesh that the cluster's own configuration names: the API server
 * calling a webhook, an ingress controller calling its backends, Prometheus scraping a port.
 */
export interface DeclaredCaller {
  /** `kube-apiserver`, `ingress:<class>` or `prometheus`. */
  readonly client: string;
  /** The object that declares the call, e.g. `ValidatingWebhookConfiguration kyverno-cfg`. */
  readonly declaredBy: string;
  /** The kind of declaration, which decides the fix. */
  readonly via: 'webhook' | 'conversion' | 'apiservice' | 'ingress' | 'gateway' | 'scrape';
  readonly namespace: string;
  /** A Service and its port (number or name)… */
  readonly service?: string;
  /** …or a workload and its container port (number or name). */
  readonly workload?: string;
  readonly port: number | string;
  /** How the caller was placed outside the mesh (ingress controllers). */
  readonly note?: string;
  /** The caller's own pods without a sidecar, when they were found (`name.namespace`): they are this caller, not another. */
  readonly pods?: readonly string[];
}

/** Everything the prediction reads: the mesh snapshot (DESIGN.md §2). */
export interface MeshData {
  readonly namespaces: readonly Namespace[];
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  readonly serviceEntries: readonly ServiceEntry[];
  /** Istio `Sidecar` resources; absent means none. */
  readonly sidecars?: readonly SidecarScope[];
  /** VirtualServices; absent means none. */
  readonly virtualServices?: readonly VirtualService[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly legacyPolicies: readonly LegacyPolicy[];
  readonly destinationRules: readonly DestinationRule[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly mesh: MeshConfig;
  readonly version: IstioVersion;
  readonly versionSource: VersionSource;
  readonly traffic: Traffic | null;
  /** Callers from outside the mesh that the configuration declares; absent means none. */
  readonly callers?: readonly DeclaredCaller[];
}

/** A proposed change to one Istio security object. */
export interface Change {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE';
  /** The object after the change; for DELETE, the object being deleted. */
  readonly object: IstioObject;
}

/** Predicted outcome codes (DESIGN.md §2). */
export type OutcomeCode = '200' | '503' | '000';

/** Evidence levels, strongest first. */
export type Evidence = 'certain' | 'observed' | 'declared' | 'possible';

/** How many pod addresses a workload keeps: enough to judge capture by range, bounded for huge workloads. */
export const MAX_POD_ADDRESSES = 16;

/** Evidence levels ordered from strongest to weakest. */
export const EVIDENCE_ORDER: readonly Evidence[] = ['certain', 'observed', 'declared', 'possible'];

/** Namespace modes (DESIGN.md §4). */
export type Mode = 'enforce' | 'warn' | 'dry-run' | 'off';

/** All modes, for validation. */
export const MODES: readonly Mode[] = ['enforce', 'warn', 'dry-run', 'off'];

/** Default values of the mesh config when nothing sets them. */
export const DEFAULT_MESH: MeshConfig = {
  rootNamespace: 'istio-system',
  enableAutoMtls: null,
  defaultDestinationRuleExportTo: null,
  clusterDomain: 'cluster.local',
  rewriteAppProbes: null,
};

/** `kind namespace/name` for messages. */
export function objectRef(o: { kind: string; namespace: string; name: string }): string {
  return o.namespace ? `${o.kind} ${o.namespace}/${o.name}` : `${o.kind} ${o.name}`;
}

/** How findings name a Service: `name.namespace`, or a ServiceEntry's host. */
export function serviceLabel(s: Pick<Service, 'name' | 'namespace' | 'host'>): string {
  return s.host ?? `${s.name}.${s.namespace}`;
}
