import type { DeclaredCaller, IstioVersion, Labels, MeshConfig, Service, Workload } from '../core/model/model.js';
import { selectorMatches } from '../core/mesh/mesh-index.js';
import { atLeast } from '../core/mesh/version.js';
import { asObject as o, objectsIn as arr, type Json } from '../core/model/objects.js';

/** Kinds whose objects name callers from outside the mesh (issue: known callers). */
export const CALLER_KINDS = new Set([
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'CustomResourceDefinition',
  'APIService',
  'Ingress',
  'IngressClass',
  'Gateway',
  'HTTPRoute',
  'ServiceMonitor',
  'PodMonitor',
]);

/** Gateway API classes served by Istio, whose gateways are in the mesh. */
const ISTIO_GATEWAY_CLASSES = new Set(['istio', 'istio-remote', 'istio-waypoint', 'istio-east-west']);

/** Ports of the Istio agent and Envoy's own stats: plain HTTP, never behind mTLS. */
const AGENT_PORTS = new Set([15020, 15090]);

/** How to find an ingress controller's pods, by IngressClass `spec.controller` or by class name. */
const CONTROLLERS: readonly { controller: RegExp; className: RegExp; selectors: readonly Labels[]; cloud?: string; mesh?: boolean }[] = [
  {
    controller: /^k8s\.io\/ingress-nginx$/,
    className: /^nginx$|ingress-nginx/,
    selectors: [
      { 'app.kubernetes.io/name': 'ingress-nginx' },
      { app: 'ingress-nginx' },
      { 'app.kubernetes.io/component': 'controller', 'app.kubernetes.io/instance': 'ingress-nginx' },
    ],
  },
  {
    controller: /^nginx\.org\/ingress-controller$/,
    className: /^nginx-plus$|nginx-ingress/,
    selectors: [{ app: 'nginx-ingress' }, { 'app.kubernetes.io/name': 'nginx-ingress' }],
  },
  {
    controller: /^traefik\.io\/ingress-controller$/,
    className: /traefik/,
    selectors: [{ 'app.kubernetes.io/name': 'traefik' }, { app: 'traefik' }],
  },
  {
    controller: /haproxy/,
    className: /haproxy/,
    selectors: [
      { 'app.kubernetes.io/name': 'kubernetes-ingress' },
      { 'app.kubernetes.io/name': 'haproxy-ingress' },
      { run: 'haproxy-ingress' },
    ],
  },
  { controller: /^ingress\.k8s\.aws\/alb$/, className: /^alb$/, selectors: [], cloud: 'an AWS ALB' },
  { controller: /^networking\.gke\.io\/ingress/, className: /^gce/, selectors: [], cloud: 'a Google Cloud load balancer' },
  { controller: /^istio\.io\/ingress-controller$/, className: /^istio$/, selectors: [], mesh: true },
];

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function port(v: unknown): number | string | undefined {
  return typeof v === 'number' ? v : str(v);
}

interface Obj {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly raw: Json;
}

function obj(raw: Json): Obj {
  const m = o(raw['metadata']);
  const strMap = (v: unknown): Labels => Object.fromEntries(Object.entries(o(v)).filter(([, x]) => typeof x === 'string')) as Labels;
  return {
    kind: String(raw['kind']),
    name: String(m['name'] ?? ''),
    namespace: String(m['namespace'] ?? 'default'),
    labels: strMap(m['labels']),
    annotations: strMap(m['annotations']),
    raw,
  };
}

/** What the snapshot knows around the declaring objects. */
export interface CallerContext {
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  readonly mesh: MeshConfig;
  readonly version: IstioVersion;
}

function apiServerCallers(list: readonly Obj[]): DeclaredCaller[] {
  const out: DeclaredCaller[] = [];
  const add = (by: string, via: DeclaredCaller['via'], svc: Json): void => {
    const name = str(svc['name']);
    if (!name) return;
    out.push({
      client: 'kube-apiserver',
      declaredBy: by,
      via,
      namespace: str(svc['namespace']) ?? 'default',
      service: name,
      port: port(svc['port']) ?? 443,
    });
  };
  for (const x of list) {
    if (x.kind === 'ValidatingWebhookConfiguration' || x.kind === 'MutatingWebhookConfiguration') {
      for (const w of arr(x.raw['webhooks'])) add(`${x.kind} ${x.name}`, 'webhook', o(o(w['clientConfig'])['service']));
    } else if (x.kind === 'CustomResourceDefinition') {
      const conv = o(o(x.raw['spec'])['conversion']);
      if (conv['strategy'] === 'Webhook')
        add(`CustomResourceDefinition ${x.name} (conversion)`, 'conversion', o(o(o(conv['webhook'])['clientConfig'])['service']));
    } else if (x.kind === 'APIService') {
      const svc = o(o(x.raw['spec'])['service']);
      if (str(svc['name'])) add(`APIService ${x.name}`, 'apiservice', svc);
    }
  }
  return out;
}

/** Whether an ingress class's controller is outside the mesh, and how that was found. */
function classPlacement(
  cls: string,
  classes: ReadonlyMap<string, Obj>,
  ctx: CallerContext,
): { outside: boolean; note: string; pods?: string[] } {
  const ic = classes.get(cls);
  const controller = str(o(ic?.raw['spec'])['controller']);
  const known = CONTROLLERS.find((c) => (controller ? c.controller.test(controller) : c.className.test(cls)));
  const what = controller ? `controller ${controller}` : `class ${cls}`;
  if (known?.mesh) return { outside: false, note: `${what} is Istio's` };
  if (known?.cloud) return { outside: true, note: `${what} sends from ${known.cloud}, outside the mesh` };
  const params = o(o(ic?.raw['spec'])['parameters']);
  const inNs = str(params['namespace']);
  const pods = known
    ? ctx.workloads.filter((w) => (!inNs || w.namespace === inNs) && known.selectors.some((s) => selectorMatches(s, w.labels)))
    : [];
  if (pods.length === 0)
    return {
      outside: true,
      note: `no controller pods found for ${what}${inNs ? ` in ${inNs} (IngressClass parameters)` : ''}; assumed outside the mesh`,
    };
  const sel = known!.selectors.find((s) => pods.some((w) => selectorMatches(s, w.labels)))!;
  const how = `controller pods ${pods.map((w) => `${w.name}.${w.namespace}`).join(', ')} found by label ${Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;
  const outsiders = pods.filter((w) => w.mesh === 'none');
  return outsiders.length
    ? { outside: true, note: `${how}, without a sidecar`, pods: outsiders.map((w) => `${w.name}.${w.namespace}`) }
    : { outside: false, note: `${how}, in the mesh` };
}

function ingressCallers(list: readonly Obj[], ctx: CallerContext): DeclaredCaller[] {
  const classes = new Map(list.filter((x) => x.kind === 'IngressClass').map((x) => [x.name, x]));
  const fallback = [...classes.values()].find((c) => c.annotations['ingressclass.kubernetes.io/is-default-class'] === 'true')?.name;
  const out: DeclaredCaller[] = [];
  const memo = new Map<string, ReturnType<typeof classPlacement>>();
  for (const x of list.filter((i) => i.kind === 'Ingress')) {
    const spec = o(x.raw['spec']);
    const cls = str(spec['ingressClassName']) ?? x.annotations['kubernetes.io/ingress.class'] ?? fallback;
    if (!cls) continue;
    const place = memo.get(cls) ?? classPlacement(cls, classes, ctx);
    memo.set(cls, place);
    if (!place.outside) continue;
    const backends = [
      o(spec['defaultBackend']),
      ...arr(spec['rules']).flatMap((r) => arr(o(r['http'])['paths']).map((p) => o(p['backend']))),
    ];
    for (const b of backends) {
      const svc = o(b['service']);
      const name = str(svc['name']);
      const p = o(svc['port']);
      const num = port(p['number']) ?? port(p['name']);
      if (name && num !== undefined)
        out.push({
          client: `ingress:${cls}`,
          declaredBy: `Ingress ${x.namespace}/${x.name}`,
          via: 'ingress',
          namespace: x.namespace,
          service: name,
          port: num,
          note: place.note,
          ...(place.pods ? { pods: place.pods } : {}),
        });
    }
  }
  const gateways = new Map(list.filter((x) => x.kind === 'Gateway').map((x) => [`${x.namespace}/${x.name}`, x]));
  for (const r of list.filter((x) => x.kind === 'HTTPRoute')) {
    const spec = o(r.raw['spec']);
    const parents = arr(spec['parentRefs'])
      .filter((p) => (str(p['kind']) ?? 'Gateway') === 'Gateway')
      .map((p) => gateways.get(`${str(p['namespace']) ?? r.namespace}/${str(p['name'])}`))
      .filter((g): g is Obj => !!g);
    for (const g of parents) {
      const cls = str(o(g.raw['spec'])['gatewayClassName']) ?? '';
      if (ISTIO_GATEWAY_CLASSES.has(cls)) continue;
      for (const b of arr(spec['rules']).flatMap((rule) => arr(rule['backendRefs']))) {
        if ((str(b['kind']) ?? 'Service') !== 'Service' || (str(b['group']) ?? '') !== '') continue;
        const name = str(b['name']);
        const p = port(b['port']);
        if (!name || p === undefined) continue;
        out.push({
          client: `ingress:${cls}`,
          declaredBy: `HTTPRoute ${r.namespace}/${r.name} (Gateway ${g.namespace}/${g.name})`,
          via: 'gateway',
          namespace: str(b['namespace']) ?? r.namespace,
          service: name,
          port: p,
          note: `Gateway class ${cls} is not Istio's`,
        });
      }
    }
  }
  return out;
}

function inNamespaces(sel: Json, own: string, ns: string): boolean {
  if (sel['any'] === true) return true;
  const names = Array.isArray(sel['matchNames']) ? sel['matchNames'].filter((x): x is string => typeof x === 'string') : [];
  return names.length ? names.includes(ns) : ns === own;
}

function matchLabels(sel: Json): Labels | null {
  const m = o(sel['matchLabels']);
  const out = Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'string')) as Labels;
  // matchExpressions are not modelled; a selector made only of them matches nothing here.
  return Object.keys(out).length ? out : null;
}

/** Whether Istio merges this workload's app metrics into the agent's port (1.7+, on by default). */
export function metricsMerged(w: Workload, mesh: MeshConfig, version: IstioVersion): boolean {
  return atLeast(version, 1, 7) && mesh.enablePrometheusMerge !== false && w.annotations['prometheus.istio.io/merge-metrics'] !== 'false';
}

function scrapeCallers(list: readonly Obj[], ctx: CallerContext): DeclaredCaller[] {
  const out: DeclaredCaller[] = [];
  for (const x of list.filter((i) => i.kind === 'ServiceMonitor')) {
    const spec = o(x.raw['spec']);
    const sel = matchLabels(o(spec['selector']));
    if (!sel) continue;
    for (const svc of ctx.services) {
      if (!inNamespaces(o(spec['namespaceSelector']), x.namespace, svc.namespace) || !selectorMatches(sel, svc.labels ?? {})) continue;
      for (const ep of arr(spec['endpoints'])) {
        const p = port(ep['port']) ?? port(ep['targetPort']);
        const sp = svc.ports.find((q) => q.name === p || q.port === p || q.targetPort === p);
        if (sp)
          out.push({
            client: 'prometheus',
            declaredBy: `ServiceMonitor ${x.namespace}/${x.name}`,
            via: 'scrape',
            namespace: svc.namespace,
            service: svc.name,
            port: sp.port,
          });
      }
    }
  }
  for (const x of list.filter((i) => i.kind === 'PodMonitor')) {
    const spec = o(x.raw['spec']);
    const sel = matchLabels(o(spec['selector']));
    if (!sel) continue;
    for (const w of ctx.workloads) {
      if (!inNamespaces(o(spec['namespaceSelector']), x.namespace, w.namespace) || !selectorMatches(sel, w.labels)) continue;
      for (const ep of arr(spec['podMetricsEndpoints'])) {
        const p = port(ep['port']) ?? port(ep['targetPort']);
        if (p !== undefined)
          out.push({
            client: 'prometheus',
            declaredBy: `PodMonitor ${x.namespace}/${x.name}`,
            via: 'scrape',
            namespace: w.namespace,
            workload: w.name,
            port: p,
          });
      }
    }
  }
  for (const w of ctx.workloads) {
    if (w.annotations['prometheus.io/scrape'] !== 'true') continue;
    const p = Number(w.annotations['prometheus.io/port']);
    if (!Number.isInteger(p) || p <= 0 || AGENT_PORTS.has(p)) continue;
    if (w.mesh === 'sidecar' && metricsMerged(w, ctx.mesh, ctx.version)) continue;
    out.push({
      client: 'prometheus',
      declaredBy: `the prometheus.io/scrape annotation of ${w.name}.${w.namespace}`,
      via: 'scrape',
      namespace: w.namespace,
      workload: w.name,
      port: p,
      ...(w.mesh === 'sidecar' ? { note: 'Istio metrics merging is off for this workload' } : {}),
    });
  }
  return out;
}

/** The callers from outside the mesh that the cluster's configuration names. */
export function declaredCallers(docs: readonly Json[], ctx: CallerContext): DeclaredCaller[] {
  const list = docs.map(obj);
  return [...apiServerCallers(list), ...ingressCallers(list, ctx), ...scrapeCallers(list, ctx)];
}
