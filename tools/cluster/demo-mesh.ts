// The seeds' demo mesh as real objects: Pods shaped like injected ones in foo and bar, plain ones in legacy.

/** A Pod as the injector would leave it (istio-proxy container, tlsMode label, status annotation), or a plain one. */
export function pod(ns: string, app: string, sidecar: boolean, port?: number): string {
  const labels = sidecar ? `{app: ${app}, security.istio.io/tlsMode: istio}` : `{app: ${app}}`;
  const ann = sidecar ? `\n  annotations: {sidecar.istio.io/status: '{"initContainers":["istio-init"],"containers":["istio-proxy"]}'}` : '';
  const ports = port ? `, ports: [{containerPort: ${port}}]` : '';
  const proxy = sidecar ? '\n  - {name: istio-proxy, image: docker.io/istio/proxyv2:1.28.1}' : '';
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${app}
  namespace: ${ns}
  labels: ${labels}${ann}
spec:
  containers:
  - {name: ${app}, image: docker.io/${app}${ports}}${proxy}
`;
}

/** A Service for an app. */
export function service(ns: string, app: string, port: number, target: number, name = 'http'): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${app}, namespace: ${ns}}
spec: {selector: {app: ${app}}, ports: [{name: ${name}, port: ${port}, targetPort: ${target}}]}
`;
}

/** foo and bar injected, legacy not; httpbin (8000 → 80) and sleep in each. */
export function demoMesh(): string {
  const out = [
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: foo, labels: {istio-injection: enabled}}\n',
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: bar, labels: {istio-injection: enabled}}\n',
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: legacy}\n',
  ];
  for (const [ns, sidecar] of [
    ['foo', true],
    ['bar', true],
    ['legacy', false],
  ] as const) {
    out.push(pod(ns, 'httpbin', sidecar, 80), service(ns, 'httpbin', 8000, 80), pod(ns, 'sleep', sidecar), service(ns, 'sleep', 80, 80));
  }
  return out.join('---\n');
}

/**
 * A tenant of namespace foo, as platform teams set one up: `alice` may read and label her own
 * namespace and manage Istio security objects in it, and nothing more. Whether she may weaken
 * foo's mtls-guard mode or acknowledge a breakage there is for mtls-guard's own permissions.
 */
export function demoTenant(user = 'alice', ns = 'foo'): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: tenant-${ns}-namespace}
rules:
- {apiGroups: [""], resources: [namespaces], resourceNames: [${ns}], verbs: [get, patch, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: tenant-${ns}-namespace}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tenant-${ns}-namespace}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${user}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tenant-istio, namespace: ${ns}}
rules:
- {apiGroups: [security.istio.io, networking.istio.io], resources: [peerauthentications, destinationrules], verbs: [get, list, watch, create, update, patch, delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant-istio, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tenant-istio}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${user}}]
`;
}
