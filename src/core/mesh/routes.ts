/**
 * VirtualService routes (docs/semantics.md §3.9): which DestinationRule subsets of the called host a
 * sidecar's call to a Service port can be sent to. Only routes back to the called Service are
 * modelled; any request may take any route (matches on paths or headers are not read), and a route
 * to a subset without endpoints fails the calls it takes (MG109).
 */
import type { Route, Service, ServicePort, VirtualService } from '../model/model.js';
import { byCreation, memoTable, pushInto, type MeshIndex } from './mesh-index.js';
import { compareSpecificity, hostMatches, isWildcard, resolveShortName } from './hosts.js';
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

/** The VirtualServices of a snapshot by the hosts they name: exact hosts resolved, wildcards apart. */
interface HostIndex {
  readonly exact: ReadonlyMap<string, readonly VirtualService[]>;
  readonly wildcard: readonly VirtualService[];
}

const NONE: readonly VirtualService[] = [];

/**
 * The VirtualServices that may name a host: a mesh holds one for most of its Services, and each
 * call looks only at those for its own host and at the wildcard ones.
 */
function naming(idx: MeshIndex, fqdn: string): readonly VirtualService[] {
  const hosts = idx.cached('static', 'vsHosts', indexHosts);
  const exact = hosts.exact.get(fqdn) ?? NONE;
  return hosts.wildcard.length === 0 ? exact : [...exact, ...hosts.wildcard];
}

function indexHosts(idx: MeshIndex): HostIndex {
  const exact = new Map<string, VirtualService[]>();
  const wildcard: VirtualService[] = [];
  for (const vs of idx.data.virtualServices ?? []) {
    let wild = false;
    for (const h of new Set(vs.hosts.map((x) => resolveShortName(x, vs.namespace, idx.mesh.clusterDomain)))) {
      if (isWildcard(h)) wild = true;
      else pushInto(exact, h, vs);
    }
    if (wild) wildcard.push(vs);
  }
  return { exact, wildcard };
}

/** True when a VirtualService binds to the mesh's sidecars: no `gateways`, or `mesh` among them. */
function forSidecars(vs: VirtualService): boolean {
  return vs.gateways.length === 0 || vs.gateways.includes('mesh');
}

/**
 * Where a namespace's sidecars find a VirtualService, in the order Istio imports them
 * (`SelectVirtualServices` in pilot/pkg/model/virtualservice.go): 0 private to their own namespace,
 * 1 exported to it by name, 2 public; -1 when it is not visible there or is not for sidecars.
 */
function importTier(vs: VirtualService, ns: string): number {
  if (!forSidecars(vs)) return -1;
  const e = vs.exportTo;
  if (e === null || e.length === 0 || e.includes('*')) return 2;
  if (vs.namespace === ns && (e.includes('.') || e.includes(ns))) return 0;
  return e.includes(ns) ? 1 : -1;
}

/** A VirtualService that names a host: exactly, or only through wildcards (the most specific one it has). */
interface Naming {
  readonly vs: VirtualService;
  /** Null when one of its hosts is the host itself. */
  readonly wildcard: string | null;
}

/**
 * The VirtualServices that a namespace's sidecars import and that name a host, in import order: by
 * tier, then the oldest (the order `SelectVirtualServices` gives every later step).
 */
function visibleFor(idx: MeshIndex, ns: string, fqdn: string): Naming[] {
  const domain = idx.mesh.clusterDomain;
  const found: (Naming & { tier: number })[] = [];
  for (const vs of naming(idx, fqdn)) {
    const tier = importTier(vs, ns);
    if (tier < 0) continue;
    let exact = false;
    let wildcard: string | null = null;
    for (const h of vs.hosts) {
      const host = resolveShortName(h, vs.namespace, domain);
      if (!hostMatches(host, fqdn)) continue;
      if (!isWildcard(host)) exact = true;
      else if (wildcard === null || compareSpecificity(host, wildcard) < 0) wildcard = host;
    }
    if (exact || wildcard !== null) found.push({ vs, tier, wildcard: exact ? null : wildcard });
  }
  return found.sort((a, b) => a.tier - b.tier || byCreation(a.vs, b.vs));
}

/**
 * The VirtualServices whose HTTP routes may claim a Service's virtual host, in order. Any that
 * names the host exactly shuts the wildcard ones out, however old; without one, only the first
 * VirtualService holding the most specific matching wildcard is left (istiod's
 * `computeWildcardHostVirtualServiceIndex` in pilot/pkg/model/sidecar.go, read by
 * `separateVSHostsAndServices` in pilot/pkg/networking/core/route/route.go).
 */
function httpCandidates(visible: readonly Naming[]): VirtualService[] {
  const exact = visible.filter((n) => n.wildcard === null);
  if (exact.length) return exact.map((n) => n.vs);
  let best: Naming | undefined;
  for (const n of visible) if (!best || compareSpecificity(n.wildcard!, best.wildcard!) < 0) best = n;
  return best ? [best.vs] : [];
}

/** True when a route serves calls of a protocol on a port. */
function servesPort(r: Route, proto: 'http' | 'tcp' | 'tls', port: number): boolean {
  return r.protocol === proto && (r.ports === null || r.ports.includes(port));
}

/**
 * The routes that a call to a port can take, and the VirtualService they belong to. HTTP: the
 * first VirtualService with a route for the port keeps the Service's virtual host
 * (`buildSidecarVirtualHostsForVirtualService` in pilot/pkg/networking/core/route/route.go), and any
 * of those routes may match a request. TCP and TLS: the first route for the port, over the
 * VirtualServices in order, takes every connection (`buildSidecarOutboundTCPFilterChainOpts` in
 * pilot/pkg/networking/core/tls.go).
 */
function routesFor(
  vses: readonly VirtualService[],
  proto: 'http' | 'tcp' | 'tls',
  port: number,
): { vs: VirtualService; routes: Route[] } | null {
  if (proto === 'http') {
    for (const vs of vses) {
      const routes = vs.routes.filter((r) => servesPort(r, proto, port));
      if (routes.length) return { vs, routes };
    }
    return null;
  }
  for (const vs of vses) {
    const r = vs.routes.find((x) => servesPort(x, proto, port));
    if (r) return { vs, routes: [r] };
  }
  return null;
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
  const visible = visibleFor(idx, ns, fqdn);
  // TCP and TLS routes take every VirtualService any of whose hosts matches, exact or wildcard
  // (`getConfigsForHost` in pilot/pkg/networking/core/tls.go).
  const found = routesFor(proto === 'http' ? httpCandidates(visible) : visible.map((n) => n.vs), proto, port.port);
  if (!found) return null;
  const { vs, routes } = found;
  const to: RoutedSubset[] = [];
  let subsets = false;
  for (const r of routes) {
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
  return naming(idx, fqdn).some(
    (vs) =>
      forSidecars(vs) &&
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
