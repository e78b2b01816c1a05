/**
 * Sidecar egress scope (docs/semantics.md §3.7): a workload's sidecar only has clusters for the
 * hosts its `Sidecar` resource imports. A destination left out goes through the passthrough
 * cluster to the address the application dialled, as the application wrote it: plaintext, past
 * every DestinationRule and auto mTLS.
 */
import type { Labels, SidecarScope, Workload } from '../model/model.js';
import { byCreation, isEmptySelector, memoTable, selectorMatches, type MeshIndex } from './mesh-index.js';
import { hostMatches } from './hosts.js';
import { protocolAt } from './endpoints.js';

const T_SCOPE = memoTable<Workload, SidecarScope | null>('static:sidecarScope');

/**
 * The Sidecar resource that applies to a workload: the oldest in its namespace whose selector
 * picks it, else its namespace's default (no selector), else the root namespace's default.
 * Null when none applies (every host is in scope).
 */
export function sidecarScopeOf(idx: MeshIndex, w: Workload): SidecarScope | null {
  const memo = idx.memo(T_SCOPE);
  let s = memo.get(w);
  if (s === undefined) memo.set(w, (s = findScope(idx, w.namespace, w.labels)));
  return s;
}

function findScope(idx: MeshIndex, ns: string, labels: Labels): SidecarScope | null {
  const all = idx.data.sidecars ?? [];
  if (all.length === 0) return null;
  const inNs = all.filter((s) => s.namespace === ns).sort(byCreation);
  const selecting = inNs.find((s) => !isEmptySelector(s.workloadSelector) && selectorMatches(s.workloadSelector!, labels));
  if (selecting) return selecting;
  const own = inNs.find((s) => isEmptySelector(s.workloadSelector));
  if (own) return own;
  return all.filter((s) => s.namespace === idx.root && isEmptySelector(s.workloadSelector)).sort(byCreation)[0] ?? null;
}

/**
 * Whether a scope imports a Service: some `namespace/host` entry whose namespace part is `*`, `.`
 * (the workload's own namespace, also for the root namespace's default) or the Service's namespace,
 * and whose host part matches the Service's name. `~` imports nothing.
 */
export function importsService(scope: SidecarScope, workloadNs: string, svcNs: string, fqdn: string): boolean {
  if (scope.egressHosts === null) return true;
  return scope.egressHosts.some((entry) => {
    const slash = entry.indexOf('/');
    const ns = slash < 0 ? '*' : entry.slice(0, slash);
    const host = slash < 0 ? entry : entry.slice(slash + 1);
    if (ns === '~') return false;
    if (ns !== '*' && (ns === '.' ? workloadNs : ns) !== svcNs) return false;
    return host === '*' || hostMatches(host, fqdn);
  });
}

/** Why a sidecar sends a Service's traffic past its clusters, in words; null when the scope imports it. */
export function egressBypass(scope: SidecarScope | null, workloadNs: string, svcNs: string, fqdn: string): string | null {
  if (!scope || importsService(scope, workloadNs, svcNs, fqdn)) return null;
  return `its Sidecar ${scope.namespace}/${scope.name} does not import ${fqdn}, so the passthrough cluster sends it as the application wrote it`;
}

/**
 * The port numbers on which a sidecar with this scope has an HTTP listener for every address
 * (`0.0.0.0_<port>`): those of the HTTP and sniffed ports of the services it imports. A destination
 * the scope leaves out meets that listener too, whose route sends unknown hosts to the passthrough
 * cluster; so the proxy still speaks HTTP to the client and answers a refused upstream with 503.
 * Without such a listener, the connection passes through as TCP and just closes.
 */
export function httpListenerPorts(idx: MeshIndex, scope: SidecarScope, workloadNs: string): ReadonlySet<number> {
  const memo = idx.cachedMap<string, ReadonlySet<number>>('own', 'httpListenerPorts');
  const key = `${scope.namespace}/${scope.name}@${workloadNs}`;
  let ports = memo.get(key);
  if (!ports) memo.set(key, (ports = findHttpListenerPorts(idx, scope, workloadNs)));
  return ports;
}

function findHttpListenerPorts(idx: MeshIndex, scope: SidecarScope, workloadNs: string): ReadonlySet<number> {
  const ports = new Set<number>();
  for (const svc of idx.allServices()) {
    if (!importsService(scope, workloadNs, svc.namespace, idx.fqdn(svc))) continue;
    for (const p of svc.ports) if (protocolAt(idx, p) === 'http') ports.add(p.port);
  }
  return ports;
}
