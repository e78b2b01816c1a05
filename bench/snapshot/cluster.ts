// The cluster every snapshot benchmark loads: 100 namespaces (one in ten without injection),
// one Service per five Pods, Pods owned through ReplicaSets as a controller would make them, 30 %
// without a sidecar. `npm run bench:snapshot` and `npm run bench:compare-snapshot` load the same.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { type Cluster, installCrds, startCluster } from '../../tools/cluster/controlplane.js';

/** Namespaces of the cluster. */
export const NAMESPACES = 100;

/** Runs `fn` over `items`, at most `width` at a time. */
export async function pool<T>(items: T[], width: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** The namespaces, `ns-0` to `ns-99`; those whose number ends in 0 are not labelled for injection. */
export function benchNamespaces(): k8s.KubernetesObject[] {
  return Array.from({ length: NAMESPACES }, (_, n): k8s.KubernetesObject => {
    const labels: Record<string, string> = n % 10 ? { 'istio-injection': 'enabled' } : {};
    return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}`, labels } };
  });
}

/** `podCount / 5` Services and `podCount` Pods; Service `s` owns Pods `s`, `s + SERVICES`, and so on. */
export function benchWorkloads(podCount: number): { services: k8s.KubernetesObject[]; pods: k8s.KubernetesObject[] } {
  const SERVICES = Math.round(podCount / 5);
  const services: k8s.KubernetesObject[] = [];
  const pods: k8s.KubernetesObject[] = [];
  for (let s = 0; s < SERVICES; s++) {
    services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${s}`, namespace: `ns-${s % NAMESPACES}` },
      spec: { selector: { app: `svc-${s}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    } as k8s.KubernetesObject);
  }
  for (let p = 0; p < podCount; p++) {
    const s = p % SERVICES;
    const sidecar = s % 10 >= 3;
    pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        // Owned by a Deployment's ReplicaSet, as real Pods are: five Pods per workload.
        name: `svc-${s}-7d4b9c8f5-${p}`,
        namespace: `ns-${s % NAMESPACES}`,
        labels: { app: `svc-${s}`, 'pod-template-hash': '7d4b9c8f5', ...(sidecar ? { 'security.istio.io/tlsMode': 'istio' } : {}) },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: `svc-${s}-7d4b9c8f5`,
            uid: `00000000-0000-0000-0000-${String(s).padStart(12, '0')}`,
            controller: true,
          },
        ],
        annotations: sidecar
          ? {
              'sidecar.istio.io/status': '{"containers":["istio-proxy"]}',
              'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(600),
            }
          : {},
      },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'example/app:1',
            ports: [{ name: 'http', containerPort: 8080 }],
            env: [{ name: 'UPSTREAM', value: `http://svc-${(s + 1) % SERVICES}.ns-${(s + 1) % NAMESPACES}:80` }],
            readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
          },
          ...(sidecar
            ? [
                {
                  name: 'istio-proxy',
                  image: 'docker.io/istio/proxyv2:1.28.1',
                  args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local'],
                },
              ]
            : []),
        ],
      },
    } as k8s.KubernetesObject);
  }
  return { services, pods };
}

/** A bench cluster: a control plane with Istio's CRDs and the namespaces, and what is left to load. */
export interface BenchCluster {
  readonly cluster: Cluster;
  readonly kc: k8s.KubeConfig;
  readonly api: k8s.KubernetesObjectApi;
  /** The Services and Pods of `benchWorkloads`, not created yet: callers load them, at once or in parts. */
  readonly services: k8s.KubernetesObject[];
  readonly pods: k8s.KubernetesObject[];
}

/** Starts a control plane on loopback (stop it with `cluster.stop()`) and creates the namespaces. */
export async function startBenchCluster(pods: number): Promise<BenchCluster> {
  const cluster = await startCluster(mkdtempSync(join(tmpdir(), 'mtls-guard-bench-')));
  try {
    await installCrds(cluster);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    await pool(benchNamespaces(), 16, (o) => api.create(o));
    return { cluster, kc, api, ...benchWorkloads(pods) };
  } catch (e) {
    // No etcd or API server is left running on the machine when the setup fails.
    await cluster.stop();
    throw e;
  }
}
