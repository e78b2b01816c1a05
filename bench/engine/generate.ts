import type { DestinationRule, MeshData, Namespace, PeerAuthentication, PeerMode, Service, Workload } from '../../src/core/model/model.js';
import { DEFAULT_MESH } from '../../src/core/model/model.js';
import { parseVersion } from '../../src/core/mesh/version.js';
import { captureOf } from '../../src/core/mesh/capture.js';

/** Sizes of a synthetic mesh. */
export interface MeshSize {
  readonly namespaces: number;
  readonly services: number;
  readonly pods: number;
  /** Fraction of workloads without a sidecar. */
  readonly noSidecar: number;
  /** Variety for tests; the benchmark leaves these unset, so its mesh stays the same. */
  readonly variety?: {
    /** Fraction of services whose sidecar pods lack the tlsMode label (hand-made or old injection). */
    readonly unlabelled?: number;
    /** Fraction of services in ambient mode. */
    readonly ambient?: number;
    /** Fraction of services that are headless. */
    readonly headless?: number;
    /** Fraction of sidecar services whose grpc port bypasses the sidecar inbound. */
    readonly excludeInbound?: number;
    /** Fraction of sidecar services whose pods send port 80 around their sidecar (excludeOutboundPorts). */
    readonly excludeOutbound?: number;
  };
}

/** The size the issue asks for: 10k pods, 2k services, 200 namespaces, 30% without sidecars. */
export const DEFAULT_SIZE: MeshSize = { namespaces: 200, services: 2000, pods: 10000, noSidecar: 0.3 };

/** mulberry32: a small seeded PRNG, so every run builds the same mesh. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = Date.parse('2024-01-01T00:00:00Z');

/**
 * A synthetic mesh with policies at every level: a mesh-wide PERMISSIVE PeerAuthentication,
 * namespace policies in half the namespaces, workload policies with port-level settings, namespace
 * and service DestinationRules, and a few exportTo and workloadSelector rules.
 */
export function generateMesh(seed: number, size: MeshSize = DEFAULT_SIZE): MeshData {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  let clock = 0;
  const created = (): string => new Date(T0 + 1000 * clock++).toISOString();
  const namespaces: Namespace[] = [{ name: 'istio-system', labels: {} }];
  for (let i = 0; i < size.namespaces; i++)
    namespaces.push({ name: `ns-${i}`, labels: r() < 0.85 ? { 'istio-injection': 'enabled' } : {} });
  const workloads: Workload[] = [];
  const services: Service[] = [];
  const perService = size.pods / size.services;
  for (let s = 0; s < size.services; s++) {
    const ns = `ns-${s % size.namespaces}`;
    const app = `svc-${s}`;
    const sidecar = r() >= size.noSidecar;
    const v = size.variety;
    const roll = (f: number | undefined): boolean => f !== undefined && r() < f;
    const ambient = !sidecar && roll(v?.ambient);
    const labelled = sidecar && !roll(v?.unlabelled);
    const headless = roll(v?.headless);
    const bypass = sidecar && roll(v?.excludeInbound);
    const bypassOut = sidecar && roll(v?.excludeOutbound);
    // Two versions per service share the app label; pods are split between them.
    for (const version of ['v1', 'v2']) {
      const pods = Math.max(1, Math.round(perService / 2));
      workloads.push({
        name: `${app}-${version}`,
        namespace: ns,
        kind: 'Deployment',
        labels: { app, version, ...(labelled ? { 'security.istio.io/tlsMode': 'istio' } : {}) },
        annotations: {},
        mesh: sidecar ? 'sidecar' : ambient ? 'ambient' : 'none',
        meshSignal: sidecar ? 'istio-proxy container' : ambient ? 'istio.io/dataplane-mode=ambient' : 'no sidecar',
        predicted: false,
        ports: [
          { name: 'http', port: 8080 },
          { name: 'grpc', port: 9090 },
        ],
        probes: [{ container: 'app', kind: 'readiness', type: 'http', port: 8080 }],
        declaredHosts: r() < 0.2 ? [`http://svc-${Math.floor(r() * size.services)}.ns-${Math.floor(r() * size.namespaces)}:80`] : [],
        hostNetwork: false,
        ...captureOf({
          ...(bypassOut ? { 'traffic.sidecar.istio.io/excludeOutboundPorts': '80' } : {}),
          ...(bypass ? { 'traffic.sidecar.istio.io/excludeInboundPorts': '9090' } : {}),
        }),
        pods,
      });
    }
    services.push({
      name: app,
      namespace: ns,
      selector: { app },
      headless,
      type: 'ClusterIP',
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'grpc', port: 9090, targetPort: 9090, protocol: 'TCP' },
      ],
    });
  }
  services.push({
    name: 'kubernetes',
    namespace: 'default',
    selector: null,
    headless: false,
    type: 'ClusterIP',
    ports: [{ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' }],
  });

  const pas: PeerAuthentication[] = [];
  const pa = (
    namespace: string,
    name: string,
    mode: PeerMode,
    selector: Record<string, string> | null = null,
    portLevel: Record<number, PeerMode> = {},
  ): void => {
    pas.push({
      kind: 'PeerAuthentication',
      name,
      namespace,
      created: created(),
      apiVersion: 'security.istio.io/v1',
      annotations: {},
      selector,
      mode,
      portLevel,
    });
  };
  pa('istio-system', 'default', 'PERMISSIVE');
  for (let i = 0; i < size.namespaces; i++) if (r() < 0.5) pa(`ns-${i}`, 'default', pick(['PERMISSIVE', 'STRICT', 'UNSET'] as const));
  for (let s = 0; s < size.services; s += 10)
    pa(`ns-${s % size.namespaces}`, `svc-${s}`, pick(['STRICT', 'PERMISSIVE'] as const), { app: `svc-${s}` }, { 9090: 'PERMISSIVE' });

  const drs: DestinationRule[] = [];
  const dr = (namespace: string, name: string, host: string, extra: Partial<DestinationRule> = {}): void => {
    drs.push({
      kind: 'DestinationRule',
      name,
      namespace,
      created: created(),
      apiVersion: 'networking.istio.io/v1',
      annotations: {},
      host,
      exportTo: null,
      workloadSelector: null,
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' }, portLevel: [] },
      ...extra,
    });
  };
  for (let i = 0; i < size.namespaces; i += 10) dr(`ns-${i}`, 'ns-wide', `*.ns-${i}.svc.cluster.local`);
  for (let s = 3; s < size.services; s += 25) {
    dr(`ns-${s % size.namespaces}`, `svc-${s}`, `svc-${s}`, {
      trafficPolicy: { tls: null, portLevel: [{ port: 9090, tls: { mode: 'DISABLE' } }] },
    });
  }
  for (let i = 5; i < size.namespaces; i += 40)
    dr(`ns-${i}`, 'private', `*.ns-${(i + 1) % size.namespaces}.svc.cluster.local`, { exportTo: ['.'] });
  for (let i = 7; i < size.namespaces; i += 50)
    dr(`ns-${i}`, 'by-selector', '*.local', {
      workloadSelector: { version: 'v2' },
      trafficPolicy: { tls: { mode: 'DISABLE' }, portLevel: [] },
    });

  return {
    namespaces,
    workloads,
    services,
    serviceEntries: [],
    peerAuthentications: pas,
    legacyPolicies: [],
    destinationRules: drs,
    authorizationPolicies: [],
    mesh: { ...DEFAULT_MESH },
    version: parseVersion('1.28.0')!,
    versionSource: 'flag',
    traffic: null,
  };
}
