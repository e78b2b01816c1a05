/**
 * VirtualService routes (docs/semantics.md §3.8): which DestinationRule subsets of the called host a
 * sidecar's call to a Service port can be sent to. Only routes back to the called Service are
 * modelled; any request may take any route (matches on paths or headers are not read).
 */
import type { Route, Service, ServicePort, VirtualService } from '../model/model.js';
import { byCreation, memoTable, type MeshIndex } from './mesh-index.js';
import { compareSpecificity, hostMatches, resolveShortName } from './hosts.js';
import { protocolAt } from './endpoints.js';

const T_ROUTES = memoTable<ServicePort, Map<string, Routing | null>>('static:routes');

/** A cluster of the called Service that a route can send a call to: a subset, or the whole Service (null). */
export interface RoutedSubset {
  readonly subset: string | null;
  /** The Service port the route sends to: the called one unless the destination names another. */
  readonly port: ServicePort;
}

/** How a VirtualService steers a namespace's sidecars calling one Service port. */
export interface Routing {
  readonly vs: VirtualService;
  /** Where its routes can send the call. */
  readonly to: readonly RoutedSubset[];
}

/** True when a VirtualService is for the mesh's sidecars and visible to a namespace. */
function visibleTo(vs: VirtualService, ns: string): boolean {
  if (vs.gateways.length && !vs.gateways.includes('mesh')) return false;
  const e = vs.exportTo;
  if (e === null || e.length === 0) return true;
  return e.includes('*') || e.includes(ns) || (e.includes('.') && vs.namespace === ns);
}

/**
 * The VirtualService that a namespace's sidecars use for a Service: among those visible, the most
 * specific host that matches, then the oldest.
 */
function virtualServiceFor(idx: MeshIndex, ns: string, fqdn: string): VirtualService | null {
  let best: VirtualService | null = null;
  let bestHost = '';
  for (const vs of idx.data.virtualServices ?? []) {
    if (!visibleTo(vs, ns)) continue;
    for (const h of vs.hosts) {
      const host = resolveShortName(h, vs.namespace, idx.mesh.clusterDomain);
      if (!hostMatches(host, fqdn)) continue;
      const cmp = best === null ? -1 : compareSpecificity(host, bestHost);
      if (cmp < 0 || (cmp === 0 && byCreation(vs, best!) < 0)) {
        best = vs;
        bestHost = host;
      }
    }
  }
  return best;
}

/** The routes of a VirtualService that a call to a port of this protocol can take. */
function routesAt(vs: VirtualService, proto: 'http' | 'tcp' | 'tls', port: number): Route[] {
  return vs.routes.filter((r) => r.protocol === proto && (r.ports === null || r.ports.includes(port)));
}

/**
 * Where a VirtualService sends a namespace's sidecar calls to a Service port, when some route sends
 * to a subset of that Service. Null when no VirtualService applies, or none of its routes names a
 * subset of the Service: the call then goes to the Service's own cluster, as without one.
 */
export function routingOf(idx: MeshIndex, ns: string, svc: Service, port: ServicePort): Routing | null {
  if (!idx.data.virtualServices?.length) return null;
  const memo = idx.memo(T_ROUTES);
  let perNs = memo.get(port);
  if (!perNs) memo.set(port, (perNs = new Map()));
  let r = perNs.get(ns);
  if (r === undefined) perNs.set(ns, (r = findRouting(idx, ns, svc, port)));
  return r;
}

function findRouting(idx: MeshIndex, ns: string, svc: Service, port: ServicePort): Routing | null {
  const proto = protocolAt(idx, port);
  if (proto === 'udp') return null;
  const fqdn = idx.fqdn(svc);
  const vs = virtualServiceFor(idx, ns, fqdn);
  if (!vs) return null;
  const to: RoutedSubset[] = [];
  let subsets = false;
  for (const r of routesAt(vs, proto, port.port)) {
    for (const d of r.destinations) {
      // Routes to other hosts are not modelled: their calls are judged as calls to this Service.
      if (resolveShortName(d.host, vs.namespace, idx.mesh.clusterDomain) !== fqdn) continue;
      const p = d.port === null ? port : svc.ports.find((sp) => sp.port === d.port);
      if (!p) continue;
      if (d.subset !== null) subsets = true;
      to.push({ subset: d.subset, port: p });
    }
  }
  return subsets ? { vs, to } : null;
}

/**
 * True when some VirtualService for the mesh names a subset of a Service among its destinations:
 * some sidecars may then be routed past the Service's own cluster (an over-approximation, which
 * only turns shortcuts off).
 */
export function routedAnywhere(idx: MeshIndex, svc: Service): boolean {
  if (!idx.data.virtualServices?.length) return false;
  const fqdn = idx.fqdn(svc);
  const domain = idx.mesh.clusterDomain;
  return idx.data.virtualServices.some(
    (vs) =>
      (vs.gateways.length === 0 || vs.gateways.includes('mesh')) &&
      vs.hosts.some((h) => hostMatches(resolveShortName(h, vs.namespace, domain), fqdn)) &&
      vs.routes.some((r) => r.destinations.some((d) => d.subset !== null && resolveShortName(d.host, vs.namespace, domain) === fqdn)),
  );
}

/**
 * Namespaces whose sidecars see VirtualServices that others do not: those an exportTo names, and
 * those of a VirtualService exported to `.` only. Their clients are judged as themselves.
 */
export function routeViews(idx: MeshIndex): ReadonlySet<string> {
  return idx.cached('static', 'routeViews', (x) => {
    const out = new Set<string>();
    for (const vs of x.data.virtualServices ?? []) {
      for (const e of vs.exportTo ?? []) {
        if (e === '.') out.add(vs.namespace);
        else if (e !== '*') out.add(e);
      }
    }
    return out;
  });
}
