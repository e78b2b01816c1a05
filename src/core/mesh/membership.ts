import type { Labels, MeshKind } from '../model/model.js';

/** The parts of a pod (or pod template) that decide mesh membership. */
export interface PodShape {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly containers: readonly { readonly name: string }[];
  readonly initContainers: readonly { readonly name: string; readonly restartPolicy?: string }[];
  readonly hostNetwork: boolean;
}

/** How a workload joins the mesh, and the signal that says so. */
export interface Membership {
  readonly mesh: MeshKind;
  readonly signal: string;
  /** The `security.istio.io/tlsMode` label the pod has, or will get from the injector. */
  readonly tlsMode?: string;
}

const TLS_LABEL = 'security.istio.io/tlsMode';

function ambient(pod: PodShape, ns: Labels): string | undefined {
  if (pod.hostNetwork) return undefined;
  if (pod.annotations['ambient.istio.io/redirection'] === 'enabled') return 'annotation ambient.istio.io/redirection=enabled';
  const podMode = pod.labels['istio.io/dataplane-mode'];
  if (podMode === 'ambient') return 'pod label istio.io/dataplane-mode=ambient';
  if (ns['istio.io/dataplane-mode'] === 'ambient' && podMode !== 'none') return 'namespace label istio.io/dataplane-mode=ambient';
  return undefined;
}

/** The pod's own tlsMode label as a Membership field: absent when the pod has none. */
function ownTlsMode(pod: PodShape): { tlsMode?: string } {
  const tlsMode = pod.labels[TLS_LABEL];
  return tlsMode !== undefined ? { tlsMode } : {};
}

/** Membership of a running pod, from its strongest signal (docs/semantics.md §6.1). */
export function podMembership(pod: PodShape, ns: Labels): Membership {
  const withTls = ownTlsMode(pod);
  if (pod.containers.some((c) => c.name === 'istio-proxy')) return { mesh: 'sidecar', signal: 'istio-proxy container', ...withTls };
  if (pod.initContainers.some((c) => c.name === 'istio-proxy' && c.restartPolicy === 'Always')) {
    return { mesh: 'sidecar', signal: 'native sidecar istio-proxy (init container, restartPolicy Always)', ...withTls };
  }
  if (pod.annotations['sidecar.istio.io/status']) return { mesh: 'sidecar', signal: 'sidecar.istio.io/status annotation', ...withTls };
  const a = ambient(pod, ns);
  if (a) return { mesh: 'ambient', signal: a, ...withTls };
  if (withTls.tlsMode === 'istio') return { mesh: 'none', signal: `no sidecar, yet labelled ${TLS_LABEL}=istio`, ...withTls };
  return { mesh: 'none', signal: 'no sidecar', ...withTls };
}

/**
 * Predicted membership of a pod template that has no pods yet: the injection webhook's selectors
 * and `injectRequired` (docs/semantics.md §6.2), then ambient enrolment.
 */
export function predictMembership(pod: PodShape, ns: Labels): Membership {
  const seen = podMembership(pod, ns);
  if (seen.mesh === 'sidecar') return seen;
  // The injector's template writes the label unless the pod sets one (`| default "istio"`, which
  // also replaces an empty value).
  const predicted = (signal: string): Membership => ({
    mesh: 'sidecar',
    signal: `predicted: ${signal}`,
    tlsMode: pod.labels[TLS_LABEL] || 'istio',
  });
  // A pod that is not injected keeps the label it has, as a running one does.
  const withTls = ownTlsMode(pod);
  const none = (signal: string): Membership => {
    const a = ambient(pod, ns);
    return a ? { mesh: 'ambient', signal: `predicted: ${a}`, ...withTls } : { mesh: 'none', signal: `predicted: ${signal}`, ...withTls };
  };
  if (pod.hostNetwork) return none('hostNetwork pods are never injected');
  // The pod label takes precedence over the deprecated annotation of the same name.
  const podInject = pod.labels['sidecar.istio.io/inject'] ?? pod.annotations['sidecar.istio.io/inject'];
  const nsInjection = ns['istio-injection'];
  if (nsInjection !== undefined) {
    if (nsInjection !== 'enabled') return none(`namespace istio-injection=${nsInjection}`);
    if (podInject === 'false') return none('sidecar.istio.io/inject=false');
    return predicted('namespace istio-injection=enabled');
  }
  if (ns['istio.io/rev'] !== undefined) {
    if (podInject === 'false') return none('sidecar.istio.io/inject=false');
    return predicted(`namespace istio.io/rev=${ns['istio.io/rev']}`);
  }
  // Without namespace labels only the pod's labels reach the webhook's objectSelector.
  if (pod.labels['sidecar.istio.io/inject'] === 'true') return predicted('pod label sidecar.istio.io/inject=true');
  // The revision's object webhook selects the pod by label; injectRequired then reads the opt-out
  // from the label, else the annotation.
  if (pod.labels['istio.io/rev'] !== undefined && podInject !== 'false')
    return predicted(`pod label istio.io/rev=${pod.labels['istio.io/rev']}`);
  return none('namespace not labelled for injection');
}

/**
 * Istio's own control plane (istiod, and before 1.5 pilot, citadel, galley, the sidecar injector and
 * mixer) serves proxies and the API server; it never calls application services, so it is never a
 * caller to warn about. Gateways (`istio: ingressgateway`, `egressgateway`) do call them and stay.
 * Labels from Istio's install manifests (manifests/charts/istio-control/istio-discovery; 1.4's
 * install/kubernetes/helm/istio/charts).
 */
const CONTROL_PLANE_ISTIO_LABEL: ReadonlySet<string> = new Set(['pilot', 'citadel', 'galley', 'sidecar-injector', 'mixer']);

/** True for a workload of Istio's control plane, by its `app` or `istio` label. */
export function isControlPlane(labels: Labels): boolean {
  return labels['app'] === 'istiod' || CONTROL_PLANE_ISTIO_LABEL.has(labels['istio'] ?? '');
}
