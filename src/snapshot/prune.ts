import { isObject, type Json } from '../core/model/objects.js';

/** Annotation prefixes the engine reads; every other annotation (last-applied included) is dropped. */
const KEPT_ANNOTATIONS = [
  'sidecar.istio.io/',
  'traffic.sidecar.istio.io/',
  'ambient.istio.io/',
  'proxy.istio.io/',
  'mtls-guard.io/',
  'prometheus.io/',
  'prometheus.istio.io/',
  'kubernetes.io/ingress.class',
  'ingressclass.kubernetes.io/',
];

function meta(m: unknown, withTime: boolean): Json {
  if (!isObject(m)) return {};
  const out: Json = {};
  for (const k of ['name', 'namespace', 'labels']) if (m[k] !== undefined) out[k] = m[k];
  // Only Istio objects are ordered by creation time.
  if (withTime && m['creationTimestamp'] !== undefined) out['creationTimestamp'] = m['creationTimestamp'];
  if (isObject(m['annotations'])) {
    const a: Json = {};
    for (const [k, v] of Object.entries(m['annotations'])) if (KEPT_ANNOTATIONS.some((p) => k.startsWith(p))) a[k] = v;
    if (Object.keys(a).length) out['annotations'] = a;
  }
  if (Array.isArray(m['ownerReferences'])) {
    const refs = m['ownerReferences'].filter(isObject);
    const ctl = refs.find((r) => r['controller'] === true) ?? refs[0];
    if (ctl) out['ownerReferences'] = [{ kind: ctl['kind'], name: ctl['name'], controller: true }];
  }
  return out;
}

/** Env values worth keeping: those that can name a host. */
const HOSTLIKE = /[.:/]/;

/** Deployments whose image tag gives the Istio version (`istiodVersion` in project.ts). */
const ISTIOD = /^(istiod(-.*)?|istio-pilot)$/;

function container(c: unknown, withImage: boolean): Json {
  if (!isObject(c)) return {};
  const out: Json = { name: c['name'] };
  // The sidecar itself is only a membership signal.
  if (c['name'] === 'istio-proxy') return out;
  if (withImage && typeof c['image'] === 'string') out['image'] = c['image'];
  for (const k of ['command', 'args', 'restartPolicy']) if (c[k] !== undefined) out[k] = c[k];
  if (Array.isArray(c['ports']))
    out['ports'] = c['ports']
      .filter(isObject)
      .map((p) => (p['name'] ? { name: p['name'], containerPort: p['containerPort'] } : { containerPort: p['containerPort'] }));
  for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const p = c[k];
    if (!isObject(p)) continue;
    // Only the kind of probe and its port matter.
    for (const how of ['httpGet', 'grpc', 'tcpSocket']) if (isObject(p[how])) out[k] = { [how]: { port: (p[how] as Json)['port'] } };
  }
  if (Array.isArray(c['env'])) {
    const env = c['env']
      .filter((e) => isObject(e) && typeof e['value'] === 'string' && HOSTLIKE.test(e['value'] as string))
      .map((e) => ({ value: (e as Json)['value'] }));
    if (env.length) out['env'] = env;
  }
  return out;
}

function podSpec(s: unknown, withImages = false): Json {
  if (!isObject(s)) return {};
  const out: Json = {};
  if (Array.isArray(s['containers'])) out['containers'] = s['containers'].map((c) => container(c, withImages));
  if (Array.isArray(s['initContainers']))
    out['initContainers'] = s['initContainers'].map((c) => (isObject(c) ? { name: c['name'], restartPolicy: c['restartPolicy'] } : {}));
  if (s['hostNetwork'] === true) out['hostNetwork'] = true;
  return out;
}

/**
 * Keeps only what the engine reads: no managedFields, status (but a Pod's IP), last-applied
 * annotation, or spec parts it ignores. Pods and templates keep names, ports, probes, env values, args and commands.
 */
export function prune(o: Json): Json {
  const istio = typeof o['apiVersion'] === 'string' && o['apiVersion'].includes('istio.io');
  const out: Json = { apiVersion: o['apiVersion'], kind: o['kind'], metadata: meta(o['metadata'], istio) };
  const spec = isObject(o['spec']) ? o['spec'] : undefined;
  switch (o['kind']) {
    case 'Pod': {
      out['spec'] = podSpec(spec);
      // The pod's address, which a headless Service is dialled at (capture rules by IP range).
      const ip = isObject(o['status']) ? o['status']['podIP'] : undefined;
      if (typeof ip === 'string' && ip.length <= 45) out['status'] = { podIP: ip };
      break;
    }
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet': {
      const t = isObject(spec?.['template']) ? spec['template'] : {};
      // istiod's image tag is the Istio version the engine follows.
      const istiod = o['kind'] === 'Deployment' && ISTIOD.test(String((out['metadata'] as Json)['name'] ?? ''));
      out['spec'] = { template: { metadata: meta(t['metadata'], false), spec: podSpec(t['spec'], istiod) } };
      break;
    }
    case 'Service':
      out['spec'] = spec ? { selector: spec['selector'], ports: spec['ports'], clusterIP: spec['clusterIP'], type: spec['type'] } : {};
      break;
    case 'ConfigMap':
      out['data'] = o['data'];
      break;
    case 'Namespace':
      break;
    case 'ValidatingWebhookConfiguration':
    case 'MutatingWebhookConfiguration':
      // Only who the API server calls: no rules, selectors or caBundles.
      out['webhooks'] = Array.isArray(o['webhooks'])
        ? o['webhooks']
            .filter(isObject)
            .map((w) => ({ clientConfig: { service: isObject(w['clientConfig']) ? w['clientConfig']['service'] : undefined } }))
        : [];
      break;
    case 'CustomResourceDefinition': {
      // CRDs carry large schemas; only a conversion webhook matters.
      const conv = isObject(spec?.['conversion']) ? spec['conversion'] : undefined;
      const hook = isObject(conv?.['webhook']) ? conv['webhook'] : undefined;
      out['spec'] =
        conv?.['strategy'] === 'Webhook' && isObject(hook?.['clientConfig'])
          ? { conversion: { strategy: 'Webhook', webhook: { clientConfig: { service: hook['clientConfig']['service'] } } } }
          : {};
      break;
    }
    case 'APIService':
      out['spec'] = spec ? { service: spec['service'] } : {};
      break;
    default:
      if (spec) out['spec'] = spec;
  }
  return out;
}
