import type { IstioObject, Service, ServicePort, Workload } from '../model/model.js';
import type { MeshIndex } from '../mesh/mesh-index.js';
import { isEmptySelector, selectorMatches } from '../mesh/mesh-index.js';
import { resolveShortName } from '../mesh/hosts.js';
import { resolveTargetPort } from '../mesh/endpoints.js';
import { serverMode, type ResolvedMode } from '../policy/peer-auth.js';

/** The server workloads whose inbound mode an object can change. DestinationRules change none. */
export function workloadsTouchedBy(idx: MeshIndex, o: IstioObject): readonly Workload[] {
  switch (o.kind) {
    case 'MeshPolicy':
      return idx.allWorkloads();
    case 'PeerAuthentication':
      if (isEmptySelector(o.selector)) return o.namespace === idx.root ? idx.allWorkloads() : idx.workloads(o.namespace);
      if (o.namespace === idx.root) return [];
      return idx.workloads(o.namespace).filter((w) => selectorMatches(o.selector!, w.labels));
    case 'Policy': {
      if (o.targets.length === 0) return idx.workloads(o.namespace);
      const out = new Set<Workload>();
      for (const t of o.targets) {
        const svc = idx.serviceByFqdn(resolveShortName(t.name, o.namespace, idx.mesh.clusterDomain));
        if (svc) for (const w of idx.endpoints(svc)) out.add(w);
      }
      return [...out];
    }
    case 'DestinationRule':
      return [];
  }
}

/** A Service port of the workload that targets a container port, if any. */
export function servicePortFor(idx: MeshIndex, w: Workload, containerPort: number): { svc: Service; port: ServicePort } | undefined {
  for (const svc of idx.servicesOf(w)) {
    for (const port of svc.ports) if (resolveTargetPort(w, port.targetPort) === containerPort) return { svc, port };
  }
  return undefined;
}

/** The inbound mode of a workload's container port, with the Service context legacy policies need. */
export function modeAt(idx: MeshIndex, w: Workload, containerPort: number): ResolvedMode {
  const sp = servicePortFor(idx, w, containerPort);
  return serverMode(idx, w, containerPort, sp?.svc, sp?.port);
}

/** `name.namespace` of a workload. */
export function wlName(w: Workload): string {
  return `${w.name}.${w.namespace}`;
}
