/**
 * Istio objects written back as Kubernetes manifests: what a fix or a plan step prints, so that
 * `kubectl apply -f -` takes exactly what the engine judged. JSON, which is YAML too.
 */
import type { ClientTls, IstioObject, PeerMode, TrafficPolicy } from './model.js';

/** A manifest as plain data. */
export type Manifest = Record<string, unknown>;

function tls(t: ClientTls): Manifest {
  return {
    mode: t.mode,
    ...(t.credentialName ? { credentialName: t.credentialName } : {}),
    ...(t.subjectAltNames?.length ? { subjectAltNames: t.subjectAltNames } : {}),
  };
}

function mtls(mode: PeerMode): Manifest | undefined {
  return mode === 'UNSET' ? undefined : { mode };
}

/** The manifest of an Istio object, with the fields the engine reads. */
export function toManifest(o: IstioObject): Manifest {
  const metadata = o.namespace ? { name: o.name, namespace: o.namespace } : { name: o.name };
  const head = { apiVersion: o.apiVersion, kind: o.kind, metadata };
  switch (o.kind) {
    case 'PeerAuthentication': {
      const ports = Object.entries(o.portLevel);
      const m = mtls(o.mode);
      return {
        ...head,
        spec: {
          ...(o.selector && Object.keys(o.selector).length ? { selector: { matchLabels: o.selector } } : {}),
          ...(m ? { mtls: m } : {}),
          ...(ports.length ? { portLevelMtls: Object.fromEntries(ports.map(([p, mode]) => [p, { mode }])) } : {}),
        },
      };
    }
    case 'DestinationRule': {
      const trafficPolicy = policyManifest(o.trafficPolicy);
      return {
        ...head,
        spec: {
          host: o.host,
          ...(o.exportTo ? { exportTo: o.exportTo } : {}),
          ...(o.workloadSelector ? { workloadSelector: { matchLabels: o.workloadSelector } } : {}),
          ...(trafficPolicy ? { trafficPolicy } : {}),
          ...(o.subsets?.length
            ? {
                subsets: o.subsets.map((s) => {
                  const tp = policyManifest(s.trafficPolicy);
                  return {
                    name: s.name,
                    ...(Object.keys(s.labels).length ? { labels: s.labels } : {}),
                    ...(tp ? { trafficPolicy: tp } : {}),
                  };
                }),
              }
            : {}),
        },
      };
    }
    case 'Policy':
    case 'MeshPolicy':
      return {
        ...head,
        spec: {
          ...(o.targets.length
            ? {
                targets: o.targets.map((t) => ({
                  name: t.name,
                  ...(t.ports.length ? { ports: t.ports.map((p) => (typeof p === 'number' ? { number: p } : { name: p })) } : {}),
                })),
              }
            : {}),
          // No peers means plaintext only in the legacy API.
          ...(o.mode === 'DISABLE' ? {} : { peers: [{ mtls: o.mode === 'PERMISSIVE' ? { mode: 'PERMISSIVE' } : {} }] }),
        },
      };
  }
}

/** A trafficPolicy as the model keeps it: TLS, PASSTHROUGH and port-level settings. */
function policyManifest(tp: TrafficPolicy | null): Record<string, unknown> | undefined {
  if (!tp) return undefined;
  return {
    ...(tp.passthrough ? { loadBalancer: { simple: 'PASSTHROUGH' } } : {}),
    ...(tp.tls ? { tls: tls(tp.tls) } : {}),
    ...(tp.portLevel.length
      ? {
          portLevelSettings: tp.portLevel.map((p) => ({
            port: { number: p.port },
            ...(p.passthrough ? { loadBalancer: { simple: 'PASSTHROUGH' } } : {}),
            ...(p.tls ? { tls: tls(p.tls) } : {}),
          })),
        }
      : {}),
  };
}
