/**
 * Istio objects written back as Kubernetes manifests: what a fix or a plan step prints, so that
 * `kubectl apply -f -` takes exactly what the engine judged. JSON, which is YAML too.
 */
import type { ClientTls, IstioObject, PeerMode, TrafficPolicy } from './model.js';
import { asObject } from './objects.js';

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
      const w = o.written ?? {};
      const spec: Manifest = { ...w, host: o.host };
      put(spec, 'exportTo', o.exportTo ?? undefined);
      // matchLabels is all a workloadSelector holds.
      put(spec, 'workloadSelector', o.workloadSelector ? { matchLabels: o.workloadSelector } : undefined);
      put(spec, 'trafficPolicy', policyManifest(o.trafficPolicy, asObject(w['trafficPolicy'])));
      const subsets = o.subsets ?? [];
      put(
        spec,
        'subsets',
        subsets.length
          ? subsets.map((sub) => {
              const ws = records(w['subsets']).find((x) => x['name'] === sub.name) ?? {};
              const out: Manifest = { ...ws, name: sub.name };
              put(out, 'labels', Object.keys(sub.labels).length ? sub.labels : undefined);
              put(out, 'trafficPolicy', policyManifest(sub.trafficPolicy, asObject(ws['trafficPolicy'])));
              return out;
            })
          : undefined,
      );
      return { ...head, spec };
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

/**
 * A trafficPolicy: what the model keeps (TLS, PASSTHROUGH, port-level settings) over what its author
 * wrote. A TLS block keeps its written fields while its mode stays; a new mode starts afresh, as
 * ISTIO_MUTUAL takes no certificates of its own.
 */
function policyManifest(tp: TrafficPolicy | null, written: Manifest): Manifest | undefined {
  if (!tp) return undefined;
  const out: Manifest = { ...written };
  put(out, 'tls', tlsOver(tp.tls, asObject(written['tls'])));
  if (tp.passthrough) out['loadBalancer'] = written['loadBalancer'] ?? { simple: 'PASSTHROUGH' };
  const entries = records(written['portLevelSettings']);
  put(
    out,
    'portLevelSettings',
    tp.portLevel.length
      ? tp.portLevel.map((p) => {
          const wp = entries.find((e) => asObject(e['port'])['number'] === p.port) ?? {};
          const e: Manifest = { ...wp, port: { number: p.port } };
          put(e, 'tls', tlsOver(p.tls, asObject(wp['tls'])));
          if (p.passthrough) e['loadBalancer'] = wp['loadBalancer'] ?? { simple: 'PASSTHROUGH' };
          return e;
        })
      : undefined,
  );
  return out;
}

function tlsOver(t: ClientTls | null, written: Manifest): Manifest | undefined {
  if (!t) return undefined;
  return written['mode'] === t.mode ? { ...written, ...tls(t) } : tls(t);
}

/** Sets a key, or removes it for undefined. */
function put(o: Manifest, key: string, v: unknown): void {
  if (v === undefined) delete o[key];
  else o[key] = v;
}

function records(v: unknown): Manifest[] {
  return Array.isArray(v) ? v.map(asObject) : [];
}
