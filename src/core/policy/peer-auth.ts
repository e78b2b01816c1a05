import type { LegacyPolicy, PeerAuthentication, PeerMode, Service, ServicePort, Workload } from '../model/model.js';
import { objectRef } from '../model/model.js';
import { memoTable, isEmptySelector, selectorMatches, type MeshIndex } from '../mesh/mesh-index.js';
import { resolveShortName, serviceFqdn } from '../mesh/hosts.js';

const T_LEGACY = memoTable<ServicePort, LegacyPolicy | undefined>('auth:legacy');
const T_SERVER_MODE = memoTable<Workload, Map<unknown, ResolvedMode>>('auth:serverMode');
const T_AMBIENT_MODES = memoTable<ResolvedMode, ResolvedMode>('auth:ambientModes');
/**
 * The workload policy of each workload, by the policy list of its namespace (null: the list has
 * no selector policy). Derived indexes share the lists a change leaves alone, and with them these:
 * a namespace- or mesh-level change does not match selectors again.
 */
const T_WORKLOAD_POLICIES = memoTable<readonly PeerAuthentication[], Map<Workload, PeerAuthentication | null> | null>(
  'static:workloadPolicies',
);
/** The mode a policy sets, written once per object (policies are immutable once parsed). */
const T_POLICY_MODES = memoTable<PeerAuthentication, ResolvedMode>('static:policyModes');
/** The modes policies set for single container ports, written once per policy and port. */
const T_PORT_MODES = memoTable<PeerAuthentication, Map<number, ResolvedMode>>('static:portModes');

/** A resolved server-side mode (never UNSET) and the object it comes from. */
export interface ResolvedMode {
  readonly mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  /** The object that decided, e.g. `PeerAuthentication foo/default`, or a default in words. */
  readonly source: string;
}

/** The three PeerAuthentication levels that apply to one workload (docs/semantics.md §1.2–§1.3). */
export interface PeerAuthLevels {
  readonly mesh: PeerAuthentication | undefined;
  readonly namespace: PeerAuthentication | undefined;
  readonly workload: PeerAuthentication | undefined;
}

/** The oldest mesh-level PeerAuthentication: root namespace, no selector. */
export function meshPeerAuth(idx: MeshIndex): PeerAuthentication | undefined {
  return idx.cached('auth', 'meshPeerAuth', findMeshPeerAuth);
}

function findMeshPeerAuth(idx: MeshIndex): PeerAuthentication | undefined {
  return idx.peerAuthentications(idx.root).find(selectsAll);
}

/** True for a policy without a selector: one of the namespace or mesh level. */
function selectsAll(p: PeerAuthentication): boolean {
  return isEmptySelector(p.selector);
}

/** The oldest namespace-level PeerAuthentication of a (non-root) namespace. */
export function namespacePeerAuth(idx: MeshIndex, ns: string): PeerAuthentication | undefined {
  if (ns === idx.root) return undefined;
  return idx.peerAuthentications(ns).find(selectsAll);
}

/**
 * The levels for a workload. Selector policies in the root namespace are ignored; a second
 * matching workload policy is ignored entirely (oldest wins, lists are sorted by creation).
 */
export function peerAuthLevels(idx: MeshIndex, w: Workload): PeerAuthLevels {
  return { mesh: meshPeerAuth(idx), namespace: namespacePeerAuth(idx, w.namespace), workload: workloadPeerAuth(idx, w) };
}

/** The workload-level policy that applies: the oldest matching selector policy outside the root namespace. */
export function workloadPeerAuth(idx: MeshIndex, w: Workload): PeerAuthentication | undefined {
  if (w.namespace === idx.root) return undefined;
  const list = idx.peerAuthentications(w.namespace);
  if (list.length === 0) return undefined;
  const memo = idx.weakMemo(T_WORKLOAD_POLICIES);
  let perWorkload = memo.get(list);
  if (perWorkload === undefined) {
    perWorkload = list.every(selectsAll) ? null : new Map();
    memo.set(list, perWorkload);
  }
  if (perWorkload === null) return undefined;
  let found = perWorkload.get(w);
  if (found === undefined) perWorkload.set(w, (found = firstSelecting(list, w)));
  return found ?? undefined;
}

/** The oldest selector policy of a list that selects the workload, or null. */
function firstSelecting(list: readonly PeerAuthentication[], w: Workload): PeerAuthentication | null {
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (!isEmptySelector(p.selector) && selectorMatches(p.selector!, w.labels)) return p;
  }
  return null;
}

const DEFAULT_MODE: ResolvedMode = { mode: 'PERMISSIVE', source: 'the default: no PeerAuthentication sets a mode' };

/** The mode a policy sets. */
function modeOf(idx: MeshIndex, p: PeerAuthentication): ResolvedMode {
  const memo = idx.weakMemo(T_POLICY_MODES);
  let m = memo.get(p);
  if (!m) memo.set(p, (m = { mode: resolvedOf(p.mode), source: objectRef(p) }));
  return m;
}

/**
 * Istio's `ComposePeerAuthentication` for one workload port (docs/semantics.md §1.4):
 * PERMISSIVE by default, UNSET inherits, port-level settings of the workload policy keyed by the
 * container port.
 */
export function composePeerAuth(idx: MeshIndex, levels: PeerAuthLevels, containerPort: number): ResolvedMode {
  return composeOn(idx, composeOn(idx, composeOn(idx, DEFAULT_MODE, levels.mesh), levels.namespace), levels.workload, containerPort);
}

/** One level on top of the mode below it; a port-level setting only counts with a port. */
function composeOn(idx: MeshIndex, below: ResolvedMode, p: PeerAuthentication | undefined, containerPort?: number): ResolvedMode {
  if (!p) return below;
  return (containerPort === undefined ? undefined : portModeOf(idx, p, containerPort)) ?? (p.mode !== 'UNSET' ? modeOf(idx, p) : below);
}

/** The mode a policy sets for one container port; undefined when the port takes the policy's own mode. */
function portModeOf(idx: MeshIndex, p: PeerAuthentication, containerPort: number): ResolvedMode | undefined {
  const port = p.portLevel[containerPort];
  if (port === undefined || port === 'UNSET') return undefined;
  const portModes = idx.weakMemo(T_PORT_MODES);
  let perPort = portModes.get(p);
  if (!perPort) portModes.set(p, (perPort = new Map()));
  let m = perPort.get(containerPort);
  if (!m) perPort.set(containerPort, (m = { mode: port, source: `${objectRef(p)} port ${containerPort}` }));
  return m;
}

/** The mesh and namespace levels composed: what every workload of a namespace without a policy of its own gets. */
export function namespaceBase(idx: MeshIndex, ns: string): ResolvedMode {
  const memo = idx.cachedMap<string, ResolvedMode>('auth', 'namespaceBase');
  let m = memo.get(ns);
  if (!m) memo.set(ns, (m = composeOn(idx, composeOn(idx, DEFAULT_MODE, meshPeerAuth(idx)), namespacePeerAuth(idx, ns))));
  return m;
}

/** True when any PeerAuthentication level applies to the workload (the 1.5 coexistence test). */
export function anyPeerAuth(l: PeerAuthLevels): boolean {
  return Boolean(l.mesh || l.namespace || l.workload);
}

/**
 * The legacy v1alpha1 policy for a Service port (docs/semantics.md §2.3): service+port, then
 * service, then the namespace `default` Policy, then MeshPolicy `default`. Undefined when none.
 */
export function legacyPolicyFor(idx: MeshIndex, svc: Service, port: ServicePort): LegacyPolicy | undefined {
  const memo = idx.memo(T_LEGACY);
  if (memo.has(port)) return memo.get(port);
  const found = ((): LegacyPolicy | undefined => {
    const fqdn = serviceFqdn(svc.name, svc.namespace, idx.mesh.clusterDomain);
    let serviceWide: LegacyPolicy | undefined;
    // Target names resolve relative to the policy's namespace, so any namespace may hold one.
    for (const ns of candidatePolicyNamespaces(idx, svc)) {
      for (const p of idx.policies(ns)) {
        for (const t of p.targets) {
          if (resolveShortName(t.name, p.namespace, idx.mesh.clusterDomain) !== fqdn) continue;
          if (t.ports.length === 0) {
            serviceWide ??= p;
            continue;
          }
          if (t.ports.some((sel) => sel === port.port || (typeof sel === 'string' && sel === port.name))) return p;
        }
      }
    }
    if (serviceWide) return serviceWide;
    const nsDefault = idx.policies(svc.namespace).find((p) => p.targets.length === 0 && p.name === 'default');
    if (nsDefault) return nsDefault;
    return idx.meshPolicies().find((p) => p.name === 'default');
  })();
  memo.set(port, found);
  return found;
}

function candidatePolicyNamespaces(idx: MeshIndex, svc: Service): string[] {
  // Fully qualified targets may live elsewhere; short names only resolve in the service namespace.
  const out = [svc.namespace];
  for (const n of idx.data.namespaces) if (n.name !== svc.namespace && idx.policies(n.name).length) out.push(n.name);
  return out;
}

/** The legacy mode a policy gives, or the plaintext default when none applies (≤1.4). */
export function legacyMode(p: LegacyPolicy | undefined, fallback: ResolvedMode): ResolvedMode {
  if (!p) return fallback;
  return { mode: p.mode, source: objectRef(p) };
}

/** Plaintext only: what ≤1.4 does when no legacy policy applies. */
export const LEGACY_NONE: ResolvedMode = { mode: 'DISABLE', source: 'no authentication Policy or MeshPolicy (plaintext only)' };

/** What 1.5 does when neither API applies. */
export const BETA_DEFAULT: ResolvedMode = { mode: 'PERMISSIVE', source: 'the default (no policy applies)' };

/**
 * The effective inbound mode of a workload's container port, reached through a Service port when
 * one is known (legacy policies are keyed by the Service). Version rules: PeerAuthentication from
 * 1.5, legacy policies up to 1.5 with the 1.5 coexistence rule, ambient ignores DISABLE.
 */
export function serverMode(idx: MeshIndex, w: Workload, containerPort: number, svc?: Service, port?: ServicePort): ResolvedMode {
  const f = idx.features;
  // PeerAuthentication alone: a namespace base and at most one workload policy, each resolved once;
  // nothing is kept per workload.
  if (f.peerAuthentication && !f.legacyPolicies) return modernMode(idx, w, containerPort);
  const memo = idx.memo(T_SERVER_MODE);
  let perWorkload = memo.get(w);
  if (!perWorkload) memo.set(w, (perWorkload = new Map()));
  // Legacy policies are keyed by the Service port, PeerAuthentication by the container port.
  const key = idx.features.legacyPolicies ? (port ?? containerPort) : containerPort;
  const hit = perWorkload.get(key);
  if (hit) return hit;
  const r = computeServerMode(idx, w, containerPort, svc, port);
  perWorkload.set(key, r);
  return r;
}

function modernMode(idx: MeshIndex, w: Workload, containerPort: number): ResolvedMode {
  const base = namespaceBase(idx, w.namespace);
  const wpa = workloadPeerAuth(idx, w);
  // Composing a workload policy allocates nothing: its modes are written once per policy.
  const r = wpa ? composeOn(idx, base, wpa, containerPort) : base;
  return w.mesh === 'ambient' && r.mode === 'DISABLE' ? ambientOf(idx, r) : r;
}

/** DISABLE as an ambient workload gets it: ignored. One object per source. */
function ambientOf(idx: MeshIndex, r: ResolvedMode): ResolvedMode {
  const memo = idx.memo(T_AMBIENT_MODES);
  let a = memo.get(r);
  if (!a) memo.set(r, (a = ambientIgnoresDisable(r)));
  return a;
}

function ambientIgnoresDisable(r: ResolvedMode): ResolvedMode {
  return { mode: 'PERMISSIVE', source: `${r.source} (DISABLE is ignored for ambient workloads)` };
}

/** The mode while legacy policies may apply (up to 1.5): no ambient workload meets it, as ambient came with 1.18. */
function computeServerMode(idx: MeshIndex, w: Workload, containerPort: number, svc?: Service, port?: ServicePort): ResolvedMode {
  const f = idx.features;
  const levels = f.peerAuthentication ? peerAuthLevels(idx, w) : undefined;
  if (levels && anyPeerAuth(levels)) return composePeerAuth(idx, levels, containerPort);
  if (f.legacyPolicies && svc && port) return legacyMode(legacyPolicyFor(idx, svc, port), f.legacyCoexistence ? BETA_DEFAULT : LEGACY_NONE);
  return f.legacyPolicies && !f.legacyCoexistence ? LEGACY_NONE : BETA_DEFAULT;
}

/**
 * The namespace-granular mode that auto mTLS uses on the client side (`GetNamespaceMutualTLSMode`):
 * the namespace policy with UNSET resolved to the mesh policy, else the mesh policy. Undefined
 * when neither sets a mode.
 */
export function namespaceMode(idx: MeshIndex, ns: string): ResolvedMode | undefined {
  // Read for every port that auto mTLS judges: once per namespace and set of policies.
  const memo = idx.cachedMap<string, ResolvedMode | null>('auth', 'namespaceMode');
  let m = memo.get(ns);
  if (m === undefined) memo.set(ns, (m = findNamespaceMode(idx, ns) ?? null));
  return m ?? undefined;
}

function findNamespaceMode(idx: MeshIndex, ns: string): ResolvedMode | undefined {
  const nsp = namespacePeerAuth(idx, ns);
  if (nsp && nsp.mode !== 'UNSET') return modeOf(idx, nsp);
  const mesh = meshPeerAuth(idx);
  if (mesh && mesh.mode !== 'UNSET') return modeOf(idx, mesh);
  return undefined;
}

/** Narrows a PeerMode to a resolved mode, treating UNSET as PERMISSIVE. */
export function resolvedOf(m: PeerMode): ResolvedMode['mode'] {
  return m === 'UNSET' ? 'PERMISSIVE' : m;
}
