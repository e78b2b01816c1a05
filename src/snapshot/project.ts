import { parse as parseYaml } from 'yaml';
import type {
  AuthorizationPolicy,
  ContainerPort,
  DestinationRule,
  IstioObject,
  LegacyPolicy,
  PeerAuthentication,
  IstioVersion,
  Labels,
  MeshConfig,
  MeshData,
  Namespace,
  Origin,
  Probe,
  Service,
  ServiceEntry,
  ServicePort,
  SidecarScope,
  VirtualService,
  Traffic,
  VersionSource,
  Workload,
} from '../core/model/model.js';
import { DEFAULT_MESH, MAX_POD_ADDRESSES } from '../core/model/model.js';
import { InvalidObjectError, MtlsGuardError } from '../core/model/errors.js';
import {
  asObject as o,
  objectsIn as arr,
  isJudged,
  isObject,
  labels as readLabels,
  parseAuthorizationPolicy,
  parseVirtualService,
  parseIstioObject,
  type Json,
} from '../core/model/objects.js';
import { podMembership, predictMembership, type PodShape } from '../core/mesh/membership.js';
import { captureOf } from '../core/mesh/capture.js';
import { servicesFromEntries } from '../core/mesh/service-entries.js';
import { DEFAULT_ISTIO_VERSION, parseVersion } from '../core/mesh/version.js';
import { docLocation, type LoadedDoc } from './manifests.js';
import { CALLER_KINDS, declaredCallers } from './callers.js';

/** Options that override what the snapshot says. */
export interface ProjectOptions {
  readonly istioVersion?: string;
  readonly autoMtls?: boolean;
  readonly traffic?: Traffic | null;
  /** The root namespace when the mesh config does not name one (Istio: istiod's namespace). */
  readonly rootNamespace?: string;
  /** The documents name each object once (a live snapshot's stores): no later copy to prefer. */
  readonly unique?: boolean;
}

/** A projected snapshot and the notes on what was not used. */
export interface Projection {
  readonly data: MeshData;
  readonly notes: readonly string[];
}

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);
const USED_KINDS = new Set([
  'Namespace',
  'Pod',
  'Service',
  'ServiceEntry',
  'Sidecar',
  'VirtualService',
  'AuthorizationPolicy',
  'ConfigMap',
  ...TEMPLATE_KINDS,
]);

function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** One empty list for every workload without such entries: a live snapshot holds thousands. */
const NONE: readonly never[] = Object.freeze([]);

/** A list kept for the life of an index: exactly as long as it is (push leaves room for more). */
function exact<T>(l: T[]): readonly T[] {
  return l.length ? l.slice() : NONE;
}

function meta(obj: Json): { name: string; namespace: string; labels: Labels; annotations: Labels; owners: Json[] } {
  const m = o(obj['metadata']);
  return {
    name: String(m['name'] ?? ''),
    namespace: String(m['namespace'] ?? 'default'),
    labels: readLabels(m['labels'], 'metadata.labels'),
    annotations: readLabels(m['annotations'], 'metadata.annotations'),
    owners: arr(m['ownerReferences']),
  };
}

/** The pod spec of a Pod or of a workload's template (CronJob nests one level deeper). */
function podTemplate(obj: Json): { spec: Json; labels: Labels; annotations: Labels } | undefined {
  const kind = String(obj['kind']);
  if (kind === 'Pod') {
    const m = meta(obj);
    return { spec: o(obj['spec']), labels: m.labels, annotations: m.annotations };
  }
  let spec = o(obj['spec']);
  if (kind === 'CronJob') spec = o(o(spec['jobTemplate'])['spec']);
  const t = o(spec['template']);
  const tm = o(t['metadata']);
  return {
    spec: o(t['spec']),
    labels: readLabels(tm['labels'], 'spec.template.metadata.labels'),
    annotations: readLabels(tm['annotations'], 'spec.template.metadata.annotations'),
  };
}

function shape(t: { spec: Json; labels: Labels; annotations: Labels }): PodShape {
  return {
    labels: t.labels,
    annotations: t.annotations,
    containers: arr(t.spec['containers']).map((c) => ({ name: String(c['name'] ?? '') })),
    initContainers: arr(t.spec['initContainers']).map((c) => ({
      name: String(c['name'] ?? ''),
      ...(typeof c['restartPolicy'] === 'string' ? { restartPolicy: c['restartPolicy'] } : {}),
    })),
    hostNetwork: t.spec['hostNetwork'] === true,
  };
}

function probes(spec: Json): readonly Probe[] {
  const out: Probe[] = [];
  for (const c of arr(spec['containers'])) {
    if (c['name'] === 'istio-proxy') continue;
    for (const kind of ['liveness', 'readiness', 'startup'] as const) {
      const p = o(c[`${kind}Probe`]);
      const http = o(p['httpGet']);
      const grpc = o(p['grpc']);
      const tcp = o(p['tcpSocket']);
      const container = String(c['name'] ?? '');
      const port = (x: unknown): number | string | undefined => (typeof x === 'number' || typeof x === 'string' ? x : undefined);
      const hp = port(http['port']);
      const gp = port(grpc['port']);
      const tp = port(tcp['port']);
      if (hp !== undefined) out.push({ container, kind, type: 'http', port: hp });
      else if (gp !== undefined) out.push({ container, kind, type: 'grpc', port: gp });
      else if (tp !== undefined) out.push({ container, kind, type: 'tcp', port: tp });
    }
  }
  return exact(out);
}

function containerPorts(spec: Json): readonly ContainerPort[] {
  const out: ContainerPort[] = [];
  for (const c of arr(spec['containers'])) {
    if (c['name'] === 'istio-proxy') continue;
    for (const p of arr(c['ports'])) {
      if (typeof p['containerPort'] !== 'number') continue;
      out.push(typeof p['name'] === 'string' ? { name: p['name'], port: p['containerPort'] } : { port: p['containerPort'] });
    }
  }
  return exact(out);
}

function declared(spec: Json): readonly string[] {
  const out: string[] = [];
  for (const c of arr(spec['containers'])) {
    if (c['name'] === 'istio-proxy') continue;
    out.push(...strs(c['command']), ...strs(c['args']));
    for (const e of arr(c['env'])) if (typeof e['value'] === 'string') out.push(e['value']);
  }
  return exact(out);
}

interface OwnerInfo {
  name: string;
  kind: string;
}

/** The owning workload of a pod: Deployment (through its ReplicaSet), StatefulSet, DaemonSet, else the pod. */
function ownerOf(pod: Json, replicaSets: Map<string, Json>): OwnerInfo {
  const m = meta(pod);
  const ref = m.owners.find((r) => r['controller'] === true) ?? m.owners[0];
  if (!ref) return { name: m.name, kind: 'Pod' };
  const kind = String(ref['kind']);
  const name = String(ref['name']);
  if (kind === 'ReplicaSet') {
    const rs = replicaSets.get(`${m.namespace}/${name}`);
    const rsOwner = rs ? meta(rs).owners.find((r) => r['kind'] === 'Deployment') : undefined;
    if (rsOwner) return { name: String(rsOwner['name']), kind: 'Deployment' };
    const hash = m.labels['pod-template-hash'];
    if (hash && name.endsWith(`-${hash}`)) return { name: name.slice(0, -hash.length - 1), kind: 'Deployment' };
    return { name, kind: 'ReplicaSet' };
  }
  if (kind === 'Job') {
    // Jobs created by a CronJob are named <cronjob>-<schedule time>.
    return { name: name.replace(/-\d{8,}$/, ''), kind: 'Job' };
  }
  return { name, kind };
}

const clusterOrigins = new Map<string, Origin>();

/** A judged Istio object as the engine keeps it, with where it came from; errors name the document. */
export function istioObjectOf(d: LoadedDoc): IstioObject {
  return withLocation(d, () => ({ ...parseIstioObject(d.obj), origin: docLocation(d) }));
}

/** Where an object came from; objects of a live snapshot share one per kind. */
function originOf(d: LoadedDoc): Origin {
  if (!d.file.startsWith('cluster:') || d.doc !== 0 || d.item !== undefined) return docLocation(d);
  let o = clusterOrigins.get(d.file);
  if (!o) clusterOrigins.set(d.file, (o = docLocation(d)));
  return o;
}

function workloadFrom(obj: Json, owner: OwnerInfo, ns: Labels, d: LoadedDoc, podCount: number, addresses?: readonly string[]): Workload {
  const t = podTemplate(obj)!;
  const isPod = String(obj['kind']) === 'Pod';
  const mem = isPod ? podMembership(shape(t), ns) : predictMembership(shape(t), ns);
  const lbls =
    mem.tlsMode !== undefined && t.labels['security.istio.io/tlsMode'] !== mem.tlsMode
      ? { ...t.labels, 'security.istio.io/tlsMode': mem.tlsMode }
      : t.labels;
  return {
    name: owner.name,
    namespace: meta(obj).namespace,
    kind: owner.kind,
    labels: lbls,
    annotations: t.annotations,
    mesh: mem.mesh,
    meshSignal: mem.signal,
    predicted: !isPod,
    ports: containerPorts(t.spec),
    probes: probes(t.spec),
    declaredHosts: declared(t.spec),
    hostNetwork: t.spec['hostNetwork'] === true,
    ...captureOf(t.annotations),
    pods: podCount,
    ...(isPod ? {} : replicasOf(obj)),
    ...(addresses?.length ? { addresses } : {}),
    origin: originOf(d),
  };
}

/** The pods a template asks for: `spec.replicas` (1 when unset); none known for a DaemonSet. */
function replicasOf(obj: Json): { replicas?: number } {
  if (String(obj['kind']) === 'DaemonSet') return {};
  const r = o(obj['spec'])['replicas'];
  return { replicas: typeof r === 'number' && Number.isInteger(r) && r >= 0 ? r : 1 };
}

/** A Pod's `status.podIP` when it looks like an address (IPv4 or IPv6 characters, bounded like a Service's clusterIP). */
function podIP(obj: Json): string | undefined {
  const ip = o(obj['status'])['podIP'];
  return typeof ip === 'string' && /^[0-9a-fA-F:.]{2,45}$/.test(ip) ? ip : undefined;
}

function service(obj: Json, d: LoadedDoc): Service {
  const m = meta(obj);
  const spec = o(obj['spec']);
  const sel = isObject(spec['selector']) ? readLabels(spec['selector'], 'spec.selector') : null;
  const ports: ServicePort[] = arr(spec['ports']).map((p, i) => {
    const port = p['port'];
    if (typeof port !== 'number') throw new InvalidObjectError(`spec.ports[${i}].port`, 'is required').at(docLocation(d));
    const tp = p['targetPort'];
    return {
      ...(typeof p['name'] === 'string' ? { name: p['name'] } : {}),
      port,
      targetPort: typeof tp === 'number' || typeof tp === 'string' ? tp : port,
      protocol: typeof p['protocol'] === 'string' ? p['protocol'] : 'TCP',
      ...(typeof p['appProtocol'] === 'string' ? { appProtocol: p['appProtocol'] } : {}),
    };
  });
  return {
    name: m.name,
    ...(Object.keys(m.labels).length ? { labels: m.labels } : {}),
    namespace: m.namespace,
    selector: sel && Object.keys(sel).length ? sel : null,
    ports,
    headless: spec['clusterIP'] === 'None',
    type: String(spec['type'] ?? 'ClusterIP'),
    ...(typeof spec['clusterIP'] === 'string' && spec['clusterIP'] !== 'None' && spec['clusterIP'].length <= 45
      ? { clusterIP: spec['clusterIP'] }
      : {}),
    origin: originOf(d),
  };
}

/** A Sidecar resource: its selector and the hosts of all its egress listeners. */
function sidecarScope(obj: Json, d: LoadedDoc): SidecarScope {
  const m = meta(obj);
  const spec = o(obj['spec']);
  const sel = o(spec['workloadSelector'])['labels'];
  const egress = arr(spec['egress']);
  const created = o(obj['metadata'])['creationTimestamp'];
  return {
    name: m.name,
    namespace: m.namespace,
    created: typeof created === 'string' ? created : '',
    workloadSelector: isObject(sel) && Object.keys(sel).length ? readLabels(sel, 'spec.workloadSelector.labels') : null,
    egressHosts: egress.length ? egress.flatMap((e) => strs(e['hosts'])) : null,
    origin: originOf(d),
  };
}

function serviceEntry(obj: Json, d: LoadedDoc): ServiceEntry {
  const m = meta(obj);
  const spec = o(obj['spec']);
  const sel = o(spec['workloadSelector'])['labels'];
  const ports: ServicePort[] = [];
  arr(spec['ports']).forEach((p, i) => {
    const number = p['number'];
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535)
      throw new InvalidObjectError(`spec.ports[${i}].number`, 'must be a port number').at(docLocation(d));
    const tp = p['targetPort'];
    ports.push({
      ...(typeof p['name'] === 'string' ? { name: p['name'] } : {}),
      port: number,
      targetPort: typeof tp === 'number' ? tp : number,
      protocol: 'TCP',
      ...(typeof p['protocol'] === 'string' ? { appProtocol: p['protocol'].toLowerCase() } : {}),
    });
  });
  return {
    name: m.name,
    namespace: m.namespace,
    hosts: strs(spec['hosts']),
    location: spec['location'] === 'MESH_INTERNAL' ? 'MESH_INTERNAL' : 'MESH_EXTERNAL',
    ports,
    workloadSelector: isObject(sel) && Object.keys(sel).length ? readLabels(sel, 'spec.workloadSelector.labels') : null,
    origin: docLocation(d),
  };
}

function meshConfigFrom(cm: Json, d: LoadedDoc): Partial<MeshConfig> {
  const raw = o(cm['data'])['mesh'];
  if (typeof raw !== 'string') return {};
  let mesh: unknown;
  try {
    mesh = parseYaml(raw);
  } catch (e) {
    throw new InvalidObjectError('data.mesh', `malformed mesh config: ${(e as Error).message.split('\n')[0]}`).at(docLocation(d));
  }
  const m = o(mesh);
  const out: { -readonly [K in keyof MeshConfig]?: MeshConfig[K] } = {};
  if (typeof m['rootNamespace'] === 'string') out.rootNamespace = m['rootNamespace'];
  if (typeof m['enableAutoMtls'] === 'boolean') out.enableAutoMtls = m['enableAutoMtls'];
  if (typeof m['enablePrometheusMerge'] === 'boolean') out.enablePrometheusMerge = m['enablePrometheusMerge'];
  if (Array.isArray(m['defaultDestinationRuleExportTo'])) out.defaultDestinationRuleExportTo = strs(m['defaultDestinationRuleExportTo']);
  return out;
}

function injectorRewrite(cm: Json): boolean | undefined {
  const raw = o(cm['data'])['values'];
  if (typeof raw !== 'string') return undefined;
  try {
    const v = o(o(JSON.parse(raw))['sidecarInjectorWebhook'])['rewriteAppHTTPProbe'];
    return typeof v === 'boolean' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The Istio version from an istiod (or 1.4-era istio-pilot) Deployment's image tag. */
function istiodVersion(obj: Json): IstioVersion | undefined {
  const m = meta(obj);
  if (!/^(istiod(-.*)?|istio-pilot)$/.test(m.name)) return undefined;
  const spec = o(o(o(obj['spec'])['template'])['spec']);
  for (const c of arr(spec['containers'])) {
    const image = typeof c['image'] === 'string' ? c['image'] : '';
    if (!/pilot/.test(image)) continue;
    const tag = image.slice(image.lastIndexOf(':') + 1);
    const v = parseVersion(tag);
    if (v) return v;
  }
  return undefined;
}

function withLocation<T>(d: LoadedDoc, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InvalidObjectError) throw e.location.file ? e : e.at(docLocation(d));
    if (e instanceof MtlsGuardError) throw new InvalidObjectError('(document)', e.message).at(docLocation(d));
    throw e;
  }
}

/** Later documents replace earlier ones with the same kind, namespace and name, as `kubectl apply` would. */
function lastWins(docs: readonly LoadedDoc[]): LoadedDoc[] {
  const m = new Map<string, LoadedDoc>();
  for (const d of docs) {
    const md = o(d.obj['metadata']);
    const k = `${String(d.obj['kind'])}/${String(md['namespace'] ?? '')}/${String(md['name'] ?? '')}`;
    m.delete(k);
    m.set(k, d);
  }
  return [...m.values()];
}

/**
 * Projects manifests into the snapshot the core reads (DESIGN.md §2). Pods win over the templates
 * of their owners; templates without pods stand in for them with predicted injection.
 */
export function projectSnapshot(docs: readonly LoadedDoc[], opts: ProjectOptions = {}): Projection {
  const notes: string[] = [];
  const ignored = new Map<string, number>();
  const namespaces = new Map<string, Namespace>();
  const pods: LoadedDoc[] = [];
  const templates: LoadedDoc[] = [];
  const replicaSets = new Map<string, Json>();
  const services: Service[] = [];
  const serviceEntries: ServiceEntry[] = [];
  const sidecars: SidecarScope[] = [];
  const virtualServices: VirtualService[] = [];
  const istio: IstioObject[] = [];
  const authz: AuthorizationPolicy[] = [];
  let mesh: MeshConfig = { ...DEFAULT_MESH, ...(opts.rootNamespace ? { rootNamespace: opts.rootNamespace } : {}) };
  let version: IstioVersion | undefined;
  let rewrite: boolean | undefined;
  const callerDocs: Json[] = [];

  for (const d of opts.unique ? docs : lastWins(docs)) {
    const kind = String(d.obj['kind'] ?? '');
    if (isJudged(d.obj)) {
      istio.push(istioObjectOf(d));
      continue;
    }
    if (CALLER_KINDS.has(kind)) {
      callerDocs.push(d.obj);
      continue;
    }
    if (!USED_KINDS.has(kind) || (kind === 'AuthorizationPolicy' && !String(d.obj['apiVersion']).startsWith('security.istio.io/'))) {
      ignored.set(kind || '(no kind)', (ignored.get(kind || '(no kind)') ?? 0) + 1);
      continue;
    }
    withLocation(d, () => {
      const m = meta(d.obj);
      if (!m.name) throw new InvalidObjectError('metadata.name', 'is required');
      switch (kind) {
        case 'Namespace':
          namespaces.set(m.name, { name: m.name, labels: m.labels });
          break;
        case 'Pod':
          pods.push(d);
          break;
        case 'Service':
          services.push(service(d.obj, d));
          break;
        case 'ServiceEntry':
          serviceEntries.push(serviceEntry(d.obj, d));
          break;
        case 'Sidecar':
          if (String(d.obj['apiVersion']).startsWith('networking.istio.io/')) sidecars.push(sidecarScope(d.obj, d));
          else ignored.set(kind, (ignored.get(kind) ?? 0) + 1);
          break;
        case 'VirtualService':
          if (String(d.obj['apiVersion']).startsWith('networking.istio.io/'))
            virtualServices.push({ ...parseVirtualService(d.obj), origin: docLocation(d) });
          else ignored.set(kind, (ignored.get(kind) ?? 0) + 1);
          break;
        case 'AuthorizationPolicy':
          authz.push({ ...parseAuthorizationPolicy(d.obj), origin: docLocation(d) });
          break;
        case 'ConfigMap':
          if (/^istio(-[a-z0-9-]+)?$/.test(m.name) && !m.name.startsWith('istio-sidecar-injector'))
            mesh = { ...mesh, ...meshConfigFrom(d.obj, d) };
          else if (m.name.startsWith('istio-sidecar-injector')) rewrite = injectorRewrite(d.obj) ?? rewrite;
          else ignored.set('ConfigMap', (ignored.get('ConfigMap') ?? 0) + 1);
          break;
        default:
          version ??= kind === 'Deployment' ? istiodVersion(d.obj) : undefined;
          if (kind === 'ReplicaSet') replicaSets.set(`${m.namespace}/${m.name}`, d.obj);
          templates.push(d);
      }
    });
  }

  const nsLabels = (ns: string): Labels => namespaces.get(ns)?.labels ?? {};
  const workloads = new Map<string, Workload>();
  const podCounts = new Map<string, number>();
  const podAddresses = new Map<string, string[]>();
  // One owner lookup per Pod; the first Pod of an owner stands for it.
  const first = new Map<string, { d: LoadedDoc; owner: OwnerInfo; ns: string }>();
  for (const d of pods) {
    const owner = ownerOf(d.obj, replicaSets);
    const ns = String(o(d.obj['metadata'])['namespace'] ?? 'default');
    const k = `${ns}/${owner.name}`;
    podCounts.set(k, (podCounts.get(k) ?? 0) + 1);
    const ip = podIP(d.obj);
    if (ip !== undefined) {
      const l = podAddresses.get(k) ?? [];
      if (l.length < MAX_POD_ADDRESSES && !l.includes(ip)) podAddresses.set(k, [...l, ip]);
    }
    if (!first.has(k)) first.set(k, { d, owner, ns });
  }
  for (const [k, { d, owner, ns }] of first) {
    workloads.set(
      k,
      withLocation(d, () => workloadFrom(d.obj, owner, nsLabels(ns), d, podCounts.get(k) ?? 1, podAddresses.get(k))),
    );
  }
  for (const d of templates) {
    const m = meta(d.obj);
    // A ReplicaSet owned by a Deployment is represented by the Deployment.
    if (String(d.obj['kind']) === 'ReplicaSet' && m.owners.some((r) => r['kind'] === 'Deployment')) continue;
    const k = `${m.namespace}/${m.name}`;
    if (workloads.has(k) || !podTemplate(d.obj)) continue;
    workloads.set(
      k,
      withLocation(d, () => workloadFrom(d.obj, { name: m.name, kind: String(d.obj['kind']) }, nsLabels(m.namespace), d, 0)),
    );
  }

  // Namespaces referenced but not declared still exist, with no labels.
  const referenced = [...workloads.values(), ...services, ...istio].map((x) => x.namespace).filter((n) => n !== '');
  for (const n of referenced) if (!namespaces.has(n)) namespaces.set(n, { name: n, labels: {} });

  let versionSource: VersionSource = 'default';
  if (opts.istioVersion !== undefined) {
    const v = parseVersion(opts.istioVersion);
    if (!v) throw new InvalidObjectError('--istio-version', `not a version: ${JSON.stringify(opts.istioVersion)}`);
    version = v;
    versionSource = 'flag';
  } else if (version) versionSource = 'istiod';
  if (rewrite !== undefined) mesh = { ...mesh, rewriteAppProbes: rewrite };
  if (opts.autoMtls !== undefined) mesh = { ...mesh, enableAutoMtls: opts.autoMtls };

  if (ignored.size) {
    notes.push(`ignored objects of kinds mtls-guard does not read: ${[...ignored].map(([k, n]) => `${k} (${n})`).join(', ')}`);
  }
  const finalVersion = version ?? parseVersion(DEFAULT_ISTIO_VERSION)!;
  const allWorkloads = [...workloads.values()];
  const callers =
    callerDocs.length || allWorkloads.some((w) => w.annotations['prometheus.io/scrape'] === 'true')
      ? declaredCallers(callerDocs, { workloads: allWorkloads, services, mesh, version: finalVersion })
      : [];
  const data: MeshData = {
    namespaces: [...namespaces.values()],
    workloads: allWorkloads,
    services: [...services, ...servicesFromEntries(serviceEntries, services, mesh.clusterDomain)],
    serviceEntries,
    ...(sidecars.length ? { sidecars } : {}),
    ...(virtualServices.length ? { virtualServices } : {}),
    peerAuthentications: istio.filter((x): x is PeerAuthentication => x.kind === 'PeerAuthentication'),
    legacyPolicies: istio.filter((x): x is LegacyPolicy => x.kind === 'Policy' || x.kind === 'MeshPolicy'),
    destinationRules: istio.filter((x): x is DestinationRule => x.kind === 'DestinationRule'),
    authorizationPolicies: authz,
    mesh,
    version: finalVersion,
    versionSource,
    traffic: opts.traffic ?? null,
    ...(callers.length ? { callers } : {}),
  };
  return { data, notes };
}
