/**
 * Random meshes for differential testing (issue 17): fast-check arbitraries of small Kubernetes +
 * Istio meshes, and the manifests a mesh stands for, to run through both the engine and the oracle.
 *
 * A generated mesh (`GenMesh`) refers to namespaces, services and apps by slot numbers, not by
 * name, and `meshObjects` turns the slots into names: shrinking can then drop a namespace or a
 * service without leaving references that fast-check would have to repair. Everything generated is
 * valid input (Kubernetes' and Istio's validation would accept it), and stays inside what the oracle
 * models (README.md beside this file, "Not modelled"): no ambient, no gateways, no legacy policies,
 * no AuthorizationPolicy, one Istio release. VirtualServices only route a Service to its own
 * subsets.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';

/**
 * The istiod image of every generated mesh. Its tag is the release the oracle computes with (the
 * oracle says "1.31-dev" in its notes: istio.io/istio's VERSION file), and the engine reads the
 * tag as its `--istio-version`, so both judge the same Istio.
 */
export const ISTIOD_IMAGE = 'gcr.io/istio-testing/pilot:1.31-dev';

/** The mesh's root namespace, where istiod runs and mesh-wide policies live. */
export const ROOT_NAMESPACE = 'istio-system';

/** A namespace slot: an index into the mesh's application namespaces (modulo their number), or the root namespace. */
export type NsSlot = number | 'root';

/** A PeerAuthentication mode. */
export type PeerMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';
/** The DestinationRule TLS modes generated (MUTUAL needs certificates the oracle cannot check). */
export type ClientTlsMode = 'DISABLE' | 'ISTIO_MUTUAL' | 'SIMPLE';

/** Application names: Services select Pods by `app`, and several workloads may share one. */
export const APPS = ['web', 'api', 'db', 'cache'] as const;
/** One of `APPS`. */
export type App = (typeof APPS)[number];

/** Application namespace names, in slot order. */
export const NAMESPACES = ['foo', 'bar', 'baz', 'qux'] as const;

/** Container ports. */
export const CONTAINER_PORTS = [80, 8080, 9000, 5432, 443, 3000] as const;
/** Names a container may give its ports (a Service's targetPort may name one). */
export const CONTAINER_PORT_NAMES = ['http', 'web', 'grpc', 'tcp-db', 'metrics', 'https'] as const;

/** Service ports. */
export const SERVICE_PORTS = [80, 443, 8000, 8080, 9000, 5432] as const;
/** Service port names: every prefix Istio reads, and one (`web`) it does not. */
export const SERVICE_PORT_NAMES = [
  'http',
  'http-web',
  'tcp',
  'tcp-db',
  'grpc',
  'grpc-api',
  'https',
  'tls',
  'web',
  'mongo',
  'http2',
] as const;
/** Service port appProtocols, which Istio reads before the name. */
export const APP_PROTOCOLS = ['http', 'tcp', 'grpc', 'https', 'HTTP', 'kubernetes.io/h2c'] as const;

/** An application namespace (its name comes from its slot). */
export interface GenNamespace {
  /** `istio-injection: enabled`, `disabled`, or no label. */
  readonly injection: 'enabled' | 'disabled' | null;
}

/** A container port of a workload's application container. */
export interface GenContainerPort {
  readonly port: number;
  readonly name: string | null;
}

/** A workload: one Deployment (its pod predicted) or one Pod, named `<app>-<index>`. */
export interface GenWorkload {
  readonly ns: NsSlot;
  readonly kind: 'Deployment' | 'Pod';
  readonly app: App;
  readonly version: 'v1' | 'v2';
  /**
   * `injected`: shaped like an injected pod (istio-proxy container, `sidecar.istio.io/status`,
   * `security.istio.io/tlsMode`); `plain`: no sidecar (a Deployment's template is then injected
   * or not as the injection webhook decides); `tls-label`: plain, yet labelled `tlsMode: istio`.
   */
  readonly shape: 'injected' | 'plain' | 'tls-label';
  /** The `security.istio.io/tlsMode` value of an injected shape (the injector keeps an existing one). */
  readonly tlsMode: 'istio' | 'disabled';
  /** A `sidecar.istio.io/inject` label or annotation on the pod (template). */
  readonly inject: { readonly on: 'label' | 'annotation'; readonly value: 'true' | 'false' } | null;
  readonly ports: readonly GenContainerPort[];
  readonly excludeInbound: readonly number[];
  readonly excludeOutbound: readonly number[];
  /** The other capture annotations; null: not set (Istio's defaults: every port, every address). */
  readonly capture: GenCapture | null;
  /** A Deployment's `spec.replicas`; null: unset (one pod). */
  readonly replicas: 2 | 3 | null;
}

/** `traffic.sidecar.istio.io/` capture annotations beyond the excluded ports; a null field is left unset. */
export interface GenCapture {
  /** `includeInboundPorts`: '*' or a port list ('' captures no inbound port). */
  readonly includeInbound: string | null;
  /** `includeOutboundPorts`. */
  readonly includeOutboundPorts: string | null;
  /** `includeOutboundIPRanges`: '*' or CIDRs ('' captures no address). */
  readonly includeRanges: string | null;
  /** `excludeOutboundIPRanges`. */
  readonly excludeRanges: string | null;
}

/** One port of a Service. */
export interface GenServicePort {
  readonly port: number;
  readonly name: string | null;
  readonly appProtocol: string | null;
  /** Omitted (the port itself), a number, or a container port name. */
  readonly targetPort: number | string | null;
}

/** A Service, named after its app. */
export interface GenService {
  /**
   * Where the Service is and which app it is for: those of a workload (an index into the mesh's
   * workloads, modulo their number), so that most Services have endpoints; or its own `ns` and `app`.
   */
  readonly of: number | null;
  readonly ns: NsSlot;
  /** The Service's name and, unless `selector` is false, the app it selects. */
  readonly app: App;
  /** A Service without a selector has one endpoint outside the mesh. */
  readonly selector: boolean;
  readonly headless: boolean;
  readonly ports: readonly GenServicePort[];
}

/** A PeerAuthentication: mesh level (root, no selector), namespace level, or workload level. */
export interface GenPeerAuthentication {
  readonly ns: NsSlot;
  readonly name: 'default' | 'pa-1' | 'pa-2';
  readonly selector: App | null;
  /** null leaves `mtls` out (UNSET). */
  readonly mode: PeerMode | null;
  /** portLevelMtls by container port; only with a selector (Istio rejects it otherwise). */
  readonly portLevel: readonly (readonly [number, PeerMode])[];
  /** Index into a few creation times (0 is the oldest), or none: the object is created when the mesh is applied. */
  readonly created: number | null;
}

/** A `tls` block: `{}` when `mode` is null. */
export interface GenClientTls {
  readonly mode: ClientTlsMode | null;
  readonly credentialName: boolean;
}

/** A DestinationRule trafficPolicy: tls, load balancer, port-level settings. */
export interface GenTrafficPolicy {
  readonly tls: GenClientTls | null;
  readonly loadBalancer: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH' | null;
  readonly portLevel: readonly {
    readonly port: number;
    readonly tls: GenClientTls | null;
    readonly loadBalancer: 'ROUND_ROBIN' | 'RANDOM' | null;
  }[];
}

/** How a DestinationRule names its target: `web`, `web.foo`, `web.foo.svc.cluster.local`, `*.local`, `*.foo.svc.cluster.local`, `*`. */
export type HostForm = 'short' | 'name.ns' | 'fqdn' | '*.local' | '*.ns' | '*';

/** A DestinationRule for one of the mesh's Services. */
export interface GenDestinationRule {
  /** Where the rule lives: the target service's namespace, the root namespace, or a namespace slot. */
  readonly ns: 'service' | NsSlot;
  readonly name: 'dr-1' | 'dr-2' | 'dr-3';
  /** Index of the target service (modulo the number of services). */
  readonly target: number;
  readonly host: HostForm;
  /** null: no exportTo; `ns` names a namespace slot. */
  readonly exportTo: null | '.' | '*' | { readonly ns: NsSlot };
  readonly workloadSelector: App | null;
  readonly trafficPolicy: GenTrafficPolicy | null;
  /** Subsets by version, each with an optional tls of its own. */
  readonly subsets: readonly { readonly version: 'v1' | 'v2'; readonly tls: GenClientTls | null }[];
  /** As for PeerAuthentications. */
  readonly created: number | null;
}

/** A route's destination: a subset of the VirtualService's Service, or the whole Service (null). */
export type GenRouteDest = 'v1' | 'v2' | null;

/** A VirtualService that routes one of the mesh's Services back to itself, to subsets. */
export interface GenVirtualService {
  /** Where it lives: the target service's namespace, or a namespace slot. */
  readonly ns: 'service' | NsSlot;
  readonly name: 'vs-1' | 'vs-2';
  readonly target: number;
  readonly host: 'short' | 'fqdn';
  readonly exportTo: null | '.' | '*';
  /** The destinations of one `http` route (weighted when two), or no http route. */
  readonly http: readonly GenRouteDest[] | null;
  /** The same for one `tcp` route. */
  readonly tcp: readonly GenRouteDest[] | null;
  readonly created: number | null;
}

/** What the `istio` ConfigMap's mesh config sets. */
export interface GenMeshConfig {
  readonly enableAutoMtls: boolean | null;
  readonly defaultDestinationRuleExportTo: null | '.' | '*';
}

/** A generated mesh, by slots. */
export interface GenMesh {
  readonly namespaces: readonly GenNamespace[];
  readonly workloads: readonly GenWorkload[];
  readonly services: readonly GenService[];
  readonly peerAuthentications: readonly GenPeerAuthentication[];
  readonly destinationRules: readonly GenDestinationRule[];
  readonly virtualServices: readonly GenVirtualService[];
  /** The `istio` ConfigMap, or none (Istio's defaults). */
  readonly meshConfig: GenMeshConfig | null;
}

const nsSlot: fc.Arbitrary<NsSlot> = fc.oneof({ arbitrary: fc.nat(3), weight: 9 }, { arbitrary: fc.constant('root' as const), weight: 1 });
const peerMode = fc.constantFrom<PeerMode>('UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT');
const app = fc.constantFrom(...APPS);

/** An application namespace. */
export const namespaceArb: fc.Arbitrary<GenNamespace> = fc.record({
  injection: fc.oneof(
    { arbitrary: fc.constant('enabled' as const), weight: 6 },
    { arbitrary: fc.constant(null), weight: 3 },
    { arbitrary: fc.constant('disabled' as const), weight: 1 },
  ),
});

const containerPorts: fc.Arbitrary<GenContainerPort[]> = fc.uniqueArray(
  fc.record({ port: fc.constantFrom(...CONTAINER_PORTS), name: fc.option(fc.constantFrom(...CONTAINER_PORT_NAMES), { nil: null }) }),
  // Kubernetes: container port numbers and names are unique within a pod.
  { minLength: 1, maxLength: 3, comparator: (a, b) => a.port === b.port || (a.name !== null && a.name === b.name) },
);

const excluded = fc.oneof(
  { arbitrary: fc.constant([] as number[]), weight: 9 },
  { arbitrary: fc.uniqueArray(fc.constantFrom(...CONTAINER_PORTS, ...SERVICE_PORTS), { minLength: 1, maxLength: 2 }), weight: 1 },
);

/**
 * Address ranges for the capture annotations: the Services' block (meshToYaml gives them 10.96.1.1, 10.96.1.2, … in order), one Service's
 * address, the oracle's pod block (headless Services are dialled at pod addresses), and ranges
 * that hold no address of the mesh.
 */
const CAPTURE_RANGES = [
  '10.96.0.0/12',
  '10.96.1.0/24',
  '10.96.1.1/32',
  '10.96.1.2/32',
  '10.244.0.0/16',
  '192.168.0.0/16',
  'fd00::/8',
] as const;
const portListArb = fc
  .uniqueArray(fc.constantFrom(...CONTAINER_PORTS, ...SERVICE_PORTS), { minLength: 0, maxLength: 2 })
  .map((l) => l.join(','));
const rangeListArb = fc.uniqueArray(fc.constantFrom(...CAPTURE_RANGES), { minLength: 0, maxLength: 2 }).map((l) => l.join(','));
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ arbitrary: fc.constant(null), weight: 2 }, { arbitrary: a, weight: 1 });
const captureArb: fc.Arbitrary<GenCapture | null> = fc.oneof(
  { arbitrary: fc.constant(null), weight: 9 },
  {
    arbitrary: fc.record({
      includeInbound: maybe(fc.oneof(fc.constant('*'), portListArb)),
      includeOutboundPorts: maybe(portListArb),
      includeRanges: maybe(fc.oneof(fc.constant('*'), rangeListArb)),
      excludeRanges: maybe(rangeListArb),
    }),
    weight: 1,
  },
);

/** A workload: a Deployment (one pod predicted from its template) or a bare Pod. */
export const workloadArb: fc.Arbitrary<GenWorkload> = fc.record({
  ns: nsSlot,
  kind: fc.constantFrom('Deployment' as const, 'Pod' as const),
  app,
  version: fc.constantFrom('v1' as const, 'v2' as const),
  shape: fc.oneof(
    { arbitrary: fc.constant('plain' as const), weight: 6 },
    { arbitrary: fc.constant('injected' as const), weight: 4 },
    { arbitrary: fc.constant('tls-label' as const), weight: 1 },
  ),
  tlsMode: fc.oneof({ arbitrary: fc.constant('istio' as const), weight: 9 }, { arbitrary: fc.constant('disabled' as const), weight: 1 }),
  inject: fc.oneof(
    { arbitrary: fc.constant(null), weight: 6 },
    {
      arbitrary: fc.record({
        on: fc.constantFrom('label' as const, 'annotation' as const),
        value: fc.constantFrom('true' as const, 'false' as const),
      }),
      weight: 2,
    },
  ),
  ports: containerPorts,
  excludeInbound: excluded,
  excludeOutbound: excluded,
  capture: captureArb,
  replicas: fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: fc.constantFrom(2 as const, 3 as const), weight: 1 }),
});

const servicePortOf = (named: boolean): fc.Arbitrary<GenServicePort> =>
  fc.record({
    port: fc.constantFrom(...SERVICE_PORTS),
    name: named ? fc.constantFrom<string | null>(...SERVICE_PORT_NAMES) : fc.option(fc.constantFrom(...SERVICE_PORT_NAMES), { nil: null }),
    appProtocol: fc.oneof(
      { arbitrary: fc.constant(null), weight: 4 },
      { arbitrary: fc.constantFrom<string | null>(...APP_PROTOCOLS), weight: 1 },
    ),
    targetPort: fc.oneof(
      { arbitrary: fc.constant(null), weight: 2 },
      { arbitrary: fc.constantFrom<number | string | null>(...CONTAINER_PORTS), weight: 3 },
      { arbitrary: fc.constantFrom<number | string | null>(...CONTAINER_PORT_NAMES), weight: 1 },
    ),
  });

/** A Service: one port (named or not), or several named ones, as Kubernetes requires. */
export const serviceArb: fc.Arbitrary<GenService> = fc.record({
  of: fc.oneof({ arbitrary: fc.nat(7), weight: 3 }, { arbitrary: fc.constant(null), weight: 1 }),
  ns: nsSlot,
  app,
  selector: fc.oneof({ arbitrary: fc.constant(true), weight: 12 }, { arbitrary: fc.constant(false), weight: 1 }),
  headless: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
  ports: fc.oneof(
    { arbitrary: servicePortOf(false).map((p) => [p]), weight: 1 },
    {
      arbitrary: fc.uniqueArray(servicePortOf(true), {
        minLength: 2,
        maxLength: 3,
        comparator: (a, b) => a.port === b.port || a.name === b.name,
      }),
      weight: 1,
    },
  ),
});

/** A PeerAuthentication: mesh level (root, no selector), namespace level, or workload level with portLevelMtls. */
export const peerAuthenticationArb: fc.Arbitrary<GenPeerAuthentication> = fc
  .record({
    ns: fc.oneof({ arbitrary: fc.nat(3) as fc.Arbitrary<NsSlot>, weight: 3 }, { arbitrary: fc.constant('root' as const), weight: 1 }),
    name: fc.constantFrom('default' as const, 'pa-1' as const, 'pa-2' as const),
    selector: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: app, weight: 2 }),
    mode: fc.oneof({ arbitrary: peerMode, weight: 9 }, { arbitrary: fc.constant(null), weight: 1 }),
    portLevel: fc.uniqueArray(fc.tuple(fc.constantFrom(...CONTAINER_PORTS), peerMode), {
      maxLength: 2,
      selector: ([p]) => p,
    }),
    created: fc.option(fc.nat(3), { nil: null, freq: 3 }),
  })
  .map((p) => (p.selector === null && p.portLevel.length ? { ...p, portLevel: [] } : p));

const clientTlsArb: fc.Arbitrary<GenClientTls> = fc.record({
  mode: fc.oneof(
    { arbitrary: fc.constantFrom<ClientTlsMode | null>('DISABLE', 'ISTIO_MUTUAL', 'SIMPLE'), weight: 6 },
    { arbitrary: fc.constant(null), weight: 1 },
  ),
  credentialName: fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, { arbitrary: fc.constant(true), weight: 1 }),
});

const trafficPolicyArb: fc.Arbitrary<GenTrafficPolicy> = fc
  .record({
    tls: fc.oneof({ arbitrary: clientTlsArb, weight: 3 }, { arbitrary: fc.constant(null), weight: 1 }),
    loadBalancer: fc.oneof(
      { arbitrary: fc.constant(null), weight: 6 },
      {
        arbitrary: fc.constantFrom('ROUND_ROBIN' as const, 'LEAST_REQUEST' as const, 'RANDOM' as const, 'PASSTHROUGH' as const),
        weight: 1,
      },
    ),
    portLevel: fc.uniqueArray(
      fc.record({
        port: fc.constantFrom(...SERVICE_PORTS),
        tls: fc.option(clientTlsArb, { nil: null }),
        loadBalancer: fc.option(fc.constantFrom('ROUND_ROBIN' as const, 'RANDOM' as const), { nil: null }),
      }),
      { maxLength: 2, selector: (p) => p.port },
    ),
  })
  // Istio: a traffic policy, and each port entry, needs at least one field.
  .map((tp) => ({
    ...tp,
    tls:
      tp.tls === null && tp.loadBalancer === null && tp.portLevel.length === 0
        ? { mode: 'ISTIO_MUTUAL' as const, credentialName: false }
        : tp.tls,
    portLevel: tp.portLevel.map((p) => (p.tls === null && p.loadBalancer === null ? { ...p, loadBalancer: 'ROUND_ROBIN' as const } : p)),
  }));

/** A DestinationRule for one of the mesh's services, in one of the host forms Istio matches. */
export const destinationRuleArb: fc.Arbitrary<GenDestinationRule> = fc
  .record({
    ns: fc.oneof(
      { arbitrary: fc.constant('service' as const), weight: 3 },
      { arbitrary: fc.constant('root' as const), weight: 2 },
      { arbitrary: fc.nat(3) as fc.Arbitrary<NsSlot>, weight: 3 },
    ),
    name: fc.constantFrom('dr-1' as const, 'dr-2' as const, 'dr-3' as const),
    target: fc.nat(5),
    host: fc.oneof(
      { arbitrary: fc.constantFrom<HostForm>('fqdn', 'short'), weight: 6 },
      { arbitrary: fc.constantFrom<HostForm>('name.ns', '*.local', '*.ns'), weight: 3 },
      { arbitrary: fc.constant<HostForm>('*'), weight: 1 },
    ),
    exportTo: fc.oneof(
      { arbitrary: fc.constant(null), weight: 6 },
      { arbitrary: fc.constantFrom('.' as const, '*' as const), weight: 2 },
      { arbitrary: nsSlot.map((ns) => ({ ns })), weight: 1 },
    ),
    workloadSelector: fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: app, weight: 1 }),
    trafficPolicy: fc.oneof({ arbitrary: trafficPolicyArb, weight: 5 }, { arbitrary: fc.constant(null), weight: 1 }),
    subsets: fc.uniqueArray(
      fc.record({ version: fc.constantFrom('v1' as const, 'v2' as const), tls: fc.option(clientTlsArb, { nil: null }) }),
      {
        maxLength: 2,
        selector: (s) => s.version,
      },
    ),
    created: fc.option(fc.nat(3), { nil: null, freq: 3 }),
  })
  // Istio: a rule with a workloadSelector may only be exported to its own namespace.
  .map((d) => (d.workloadSelector !== null && d.exportTo !== null && d.exportTo !== '.' ? { ...d, exportTo: '.' as const } : d));

const routeArb: fc.Arbitrary<readonly GenRouteDest[] | null> = fc.option(
  fc.uniqueArray(fc.constantFrom<GenRouteDest>('v1', 'v2', null), { minLength: 1, maxLength: 2 }),
  { nil: null, freq: 3 },
);

/** A VirtualService that sends one of the mesh's Services to its own subsets. */
export const virtualServiceArb: fc.Arbitrary<GenVirtualService> = fc.record({
  ns: fc.oneof({ arbitrary: fc.constant('service' as const), weight: 3 }, { arbitrary: nsSlot, weight: 1 }),
  name: fc.constantFrom('vs-1' as const, 'vs-2' as const),
  target: fc.nat(5),
  host: fc.constantFrom('short' as const, 'fqdn' as const),
  exportTo: fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.constantFrom('.' as const, '*' as const), weight: 1 }),
  http: routeArb,
  tcp: routeArb,
  created: fc.option(fc.nat(3), { nil: null, freq: 3 }),
});

/** The `istio` ConfigMap's mesh config. */
export const meshConfigArb: fc.Arbitrary<GenMeshConfig> = fc.record({
  enableAutoMtls: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.boolean(), weight: 2 }),
  defaultDestinationRuleExportTo: fc.oneof(
    { arbitrary: fc.constant(null), weight: 8 },
    { arbitrary: fc.constantFrom('.' as const, '*' as const), weight: 1 },
  ),
});

/** Size limits of a generated mesh. */
export interface MeshLimits {
  readonly namespaces: readonly [number, number];
  readonly workloads: readonly [number, number];
  readonly services: readonly [number, number];
  readonly peerAuthentications: number;
  readonly destinationRules: number;
  readonly virtualServices: number;
}

/** Small meshes: each is judged in a fraction of a second by both sides. */
export const DEFAULT_LIMITS: MeshLimits = {
  namespaces: [2, 4],
  workloads: [2, 8],
  services: [1, 6],
  peerAuthentications: 5,
  destinationRules: 4,
  virtualServices: 2,
};

/** A random mesh. */
export function meshArb(limits: MeshLimits = DEFAULT_LIMITS): fc.Arbitrary<GenMesh> {
  return fc.record({
    namespaces: fc.array(namespaceArb, { minLength: limits.namespaces[0], maxLength: limits.namespaces[1] }),
    workloads: fc.array(workloadArb, { minLength: limits.workloads[0], maxLength: limits.workloads[1] }),
    services: fc.array(serviceArb, { minLength: limits.services[0], maxLength: limits.services[1] }),
    peerAuthentications: fc.array(peerAuthenticationArb, { maxLength: limits.peerAuthentications }),
    destinationRules: fc.array(destinationRuleArb, { maxLength: limits.destinationRules }),
    virtualServices: fc.array(virtualServiceArb, { maxLength: limits.virtualServices }),
    meshConfig: fc.option(meshConfigArb, { nil: null, freq: 4 }),
  });
}

// ---------------------------------------------------------------------------------------------
// From slots to manifests.

/** Creation times a generated object may have; several objects may share one. */
const CREATED = ['2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z', '2024-04-01T00:00:00Z'];

type Obj = Record<string, unknown>;

/** The namespace a slot names in a mesh with `n` application namespaces. */
export function nsName(slot: NsSlot, n: number): string {
  return slot === 'root' ? ROOT_NAMESPACE : NAMESPACES[slot % Math.max(1, n)]!;
}

function tlsOf(t: GenClientTls): Obj {
  if (t.mode === null) return {};
  // credentialName only means something (and is only valid) with SIMPLE or MUTUAL.
  return t.mode === 'SIMPLE' && t.credentialName ? { mode: t.mode, credentialName: 'client-cred' } : { mode: t.mode };
}

function trafficPolicyOf(tp: GenTrafficPolicy): Obj {
  const out: Obj = {};
  if (tp.tls) out['tls'] = tlsOf(tp.tls);
  if (tp.loadBalancer) out['loadBalancer'] = { simple: tp.loadBalancer };
  if (tp.portLevel.length) {
    out['portLevelSettings'] = tp.portLevel.map((p) => ({
      port: { number: p.port },
      ...(p.tls ? { tls: tlsOf(p.tls) } : {}),
      ...(p.loadBalancer ? { loadBalancer: { simple: p.loadBalancer } } : {}),
    }));
  }
  return out;
}

function metadata(name: string, namespace: string, extra: Obj = {}): Obj {
  return { name, namespace, ...extra };
}

/**
 * The Kubernetes objects of a mesh, in apply order: namespaces, the mesh config and istiod,
 * workloads, services, PeerAuthentications, DestinationRules. Objects whose slots collide (two
 * services of one app in one namespace, two policies of one name) keep the first.
 */
export function meshObjects(m: GenMesh): Obj[] {
  const n = m.namespaces.length;
  const ns = (s: NsSlot): string => nsName(s, n);
  const out: Obj[] = [];
  out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ROOT_NAMESPACE } });
  m.namespaces.forEach((g, i) => {
    out.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACES[i]!, ...(g.injection ? { labels: { 'istio-injection': g.injection } } : {}) },
    });
  });
  if (m.meshConfig) {
    const mesh: Obj = { rootNamespace: ROOT_NAMESPACE };
    if (m.meshConfig.enableAutoMtls !== null) mesh['enableAutoMtls'] = m.meshConfig.enableAutoMtls;
    if (m.meshConfig.defaultDestinationRuleExportTo) mesh['defaultDestinationRuleExportTo'] = [m.meshConfig.defaultDestinationRuleExportTo];
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metadata('istio', ROOT_NAMESPACE),
      data: { mesh: stringify(mesh).trimEnd() },
    });
  }
  out.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata('istiod', ROOT_NAMESPACE),
    spec: {
      selector: { matchLabels: { app: 'istiod' } },
      template: {
        metadata: { labels: { app: 'istiod', 'sidecar.istio.io/inject': 'false' } },
        spec: { containers: [{ name: 'discovery', image: ISTIOD_IMAGE, ports: [{ containerPort: 15010 }, { containerPort: 15012 }] }] },
      },
    },
  });

  m.workloads.forEach((w, i) => {
    const name = `${w.app}-${i}`;
    const labels: Record<string, string> = { app: w.app, version: w.version };
    const annotations: Record<string, string> = {};
    if (w.shape === 'injected') labels['security.istio.io/tlsMode'] = w.tlsMode;
    if (w.shape === 'tls-label') labels['security.istio.io/tlsMode'] = 'istio';
    if (w.shape === 'injected') annotations['sidecar.istio.io/status'] = '{"initContainers":["istio-init"],"containers":["istio-proxy"]}';
    if (w.inject) (w.inject.on === 'label' ? labels : annotations)['sidecar.istio.io/inject'] = w.inject.value;
    if (w.excludeInbound.length) annotations['traffic.sidecar.istio.io/excludeInboundPorts'] = w.excludeInbound.join(',');
    if (w.excludeOutbound.length) annotations['traffic.sidecar.istio.io/excludeOutboundPorts'] = w.excludeOutbound.join(',');
    const c = w.capture;
    if (c?.includeInbound != null) annotations['traffic.sidecar.istio.io/includeInboundPorts'] = c.includeInbound;
    if (c?.includeOutboundPorts != null) annotations['traffic.sidecar.istio.io/includeOutboundPorts'] = c.includeOutboundPorts;
    if (c?.includeRanges != null) annotations['traffic.sidecar.istio.io/includeOutboundIPRanges'] = c.includeRanges;
    if (c?.excludeRanges != null) annotations['traffic.sidecar.istio.io/excludeOutboundIPRanges'] = c.excludeRanges;
    const containers: Obj[] = [
      {
        name: 'app',
        image: `example.com/${w.app}:1`,
        ports: w.ports.map((p) => (p.name ? { name: p.name, containerPort: p.port } : { containerPort: p.port })),
      },
    ];
    if (w.shape === 'injected') containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.31-dev' });
    const podMeta: Obj = { labels, ...(Object.keys(annotations).length ? { annotations } : {}) };
    if (w.kind === 'Pod') {
      out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata(name, ns(w.ns)), ...podMeta }, spec: { containers } });
    } else {
      out.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: metadata(name, ns(w.ns)),
        spec: {
          ...(w.replicas ? { replicas: w.replicas } : {}),
          selector: { matchLabels: { app: w.app, version: w.version } },
          template: { metadata: podMeta, spec: { containers } },
        },
      });
    }
  });

  const seen = new Set<string>();
  const once = (key: string): boolean => !seen.has(key) && Boolean(seen.add(key));
  const services = withoutProtocolConflicts(
    m,
    m.services
      .map((s) => {
        const w = s.of === null || m.workloads.length === 0 ? undefined : m.workloads[s.of % m.workloads.length]!;
        return w ? { ...s, ns: w.ns, app: w.app } : s;
      })
      .filter((s) => once(`svc/${ns(s.ns)}/${s.app}`)),
  );
  for (const [i, s] of services.entries()) {
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(s.app, ns(s.ns)),
      spec: {
        ...(s.selector ? { selector: { app: s.app } } : {}),
        clusterIP: s.headless ? 'None' : `10.96.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
        ports: s.ports.map((p) => ({
          ...(p.name !== null ? { name: p.name } : {}),
          port: p.port,
          ...(p.targetPort !== null ? { targetPort: p.targetPort } : {}),
          ...(p.appProtocol !== null ? { appProtocol: p.appProtocol } : {}),
        })),
      },
    });
  }

  const created = (c: number | null): Obj => (c === null ? {} : { creationTimestamp: CREATED[c % CREATED.length] });
  for (const p of m.peerAuthentications) {
    const where = ns(p.ns);
    if (!once(`pa/${where}/${p.name}`)) continue;
    const spec: Obj = {};
    if (p.selector) spec['selector'] = { matchLabels: { app: p.selector } };
    if (p.mode) spec['mtls'] = { mode: p.mode };
    if (p.selector && p.portLevel.length)
      spec['portLevelMtls'] = Object.fromEntries(p.portLevel.map(([port, mode]) => [String(port), { mode }]));
    out.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { ...metadata(p.name, where), ...created(p.created) },
      spec,
    });
  }

  for (const d of m.destinationRules) {
    if (services.length === 0) break;
    const target = services[d.target % services.length]!;
    const svcNs = ns(target.ns);
    const where = d.ns === 'service' ? svcNs : ns(d.ns);
    if (!once(`dr/${where}/${d.name}`)) continue;
    const host = {
      short: target.app,
      'name.ns': `${target.app}.${svcNs}`,
      fqdn: `${target.app}.${svcNs}.svc.cluster.local`,
      '*.local': '*.local',
      '*.ns': `*.${svcNs}.svc.cluster.local`,
      '*': '*',
    }[d.host];
    const spec: Obj = { host };
    if (d.exportTo) spec['exportTo'] = [typeof d.exportTo === 'string' ? d.exportTo : ns(d.exportTo.ns)];
    if (d.workloadSelector) spec['workloadSelector'] = { matchLabels: { app: d.workloadSelector } };
    if (d.trafficPolicy) spec['trafficPolicy'] = trafficPolicyOf(d.trafficPolicy);
    if (d.subsets.length) {
      spec['subsets'] = d.subsets.map((s) => ({
        name: s.version,
        labels: { version: s.version },
        ...(s.tls ? { trafficPolicy: { tls: tlsOf(s.tls) } } : {}),
      }));
    }
    // Istio rejects an exportTo that names the rule's own namespace twice (`.` and its name): the
    // slot forms can only name one, so nothing to fix here.
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { ...metadata(d.name, where), ...created(d.created) },
      spec,
    });
  }

  for (const v of m.virtualServices) {
    if (services.length === 0) break;
    if (!v.http && !v.tcp) continue;
    const target = services[v.target % services.length]!;
    const svcNs = ns(target.ns);
    const where = v.ns === 'service' ? svcNs : ns(v.ns);
    if (!once(`vs/${where}/${v.name}`)) continue;
    // A short name resolves in the VirtualService's namespace: elsewhere it names another host.
    // Routes go back to the host the VirtualService names (routes to other hosts are not modelled).
    const host = v.host === 'short' ? target.app : `${target.app}.${svcNs}.svc.cluster.local`;
    const route = (dests: readonly GenRouteDest[]): Obj => ({
      route: dests.map((d) => ({
        destination: { host, ...(d ? { subset: d } : {}) },
        ...(dests.length > 1 ? { weight: 50 } : {}),
      })),
    });
    const spec: Obj = { hosts: [host] };
    if (v.exportTo) spec['exportTo'] = [v.exportTo];
    if (v.http) spec['http'] = [route(v.http)];
    if (v.tcp) spec['tcp'] = [route(v.tcp)];
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { ...metadata(v.name, where), ...created(v.created) },
      spec,
    });
  }
  return out;
}

/**
 * The protocol Istio reads from a Service port (pkg/config/kube/conversion.go ConvertProtocol:
 * appProtocol, else the name's prefix before `-`), in the classes that shape a server sidecar's
 * inbound filter chain: `sniffed` for a name Istio does not know, or none.
 */
export function portProtocolClass(p: Pick<GenServicePort, 'name' | 'appProtocol'>): 'http' | 'http2' | 'tcp' | 'tls' | 'sniffed' {
  const raw = p.appProtocol ?? p.name ?? '';
  if (raw === 'kubernetes.io/h2c') return 'http2';
  if (raw === 'kubernetes.io/ws') return 'http';
  if (raw === 'kubernetes.io/wss') return 'tls';
  if (raw.toLowerCase().startsWith('grpc-web')) return 'http2';
  switch (raw.split('-')[0]!.toLowerCase()) {
    case 'http':
    case 'http_proxy':
      return 'http';
    case 'http2':
    case 'grpc':
      return 'http2';
    case 'https':
    case 'tls':
      return 'tls';
    case 'tcp':
    case 'mongo':
    case 'redis':
    case 'mysql':
      return 'tcp';
    default:
      return 'sniffed';
  }
}

/**
 * Drops Service ports that would declare a pod's container port with a protocol another Service
 * port already declared differently (and Services left without ports). Istio builds one inbound
 * filter chain per container port from one of the declarations, while the application can only
 * speak one protocol: such a mesh contradicts itself about what the application speaks, which is
 * what both the engine and the oracle must assume, so it tests neither.
 */
function withoutProtocolConflicts(m: GenMesh, services: readonly GenService[]): GenService[] {
  const n = m.namespaces.length;
  const declared = new Map<string, string>();
  const out: GenService[] = [];
  for (const s of services) {
    const selected = s.selector
      ? m.workloads.map((w, i) => [w, i] as const).filter(([w]) => w.app === s.app && nsName(w.ns, n) === nsName(s.ns, n))
      : [];
    const ports = s.ports.filter((p) => {
      const cls = portProtocolClass(p);
      const targets: string[] = [];
      for (const [w, i] of selected) {
        const t = p.targetPort ?? p.port;
        const cp = typeof t === 'number' ? t : w.ports.find((c) => c.name === t)?.port;
        if (cp !== undefined) targets.push(`${i}:${cp}`);
      }
      if (targets.some((k) => (declared.get(k) ?? cls) !== cls)) return false;
      for (const k of targets) declared.set(k, cls);
      return true;
    });
    if (ports.length) out.push(ports.length === s.ports.length ? s : { ...s, ports });
  }
  return out;
}

/** The manifests of a mesh as one YAML stream. */
export function meshToYaml(m: GenMesh): string {
  return meshObjects(m)
    .map((o) => stringify(o, { lineWidth: 0 }))
    .join('---\n');
}
