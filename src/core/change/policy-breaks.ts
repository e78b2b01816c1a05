/**
 * What a policy change (PeerAuthentication, legacy Policy or MeshPolicy) breaks: the ports whose
 * server shape moves, judged once per client signature group; a namespace- or mesh-level change
 * by port bucket, with one shape transform per bucket.
 */
import type { Change, DestinationRule, IstioObject, Service, ServicePort } from '../model/model.js';
import { BudgetExceededError } from '../model/errors.js';
import { isEmptySelector, selectorMatches, type MeshIndex } from '../mesh/mesh-index.js';
import { endpointsOf } from '../mesh/endpoints.js';
import { namespaceBase, namespaceMode, namespacePeerAuth, workloadPeerAuth } from '../policy/peer-auth.js';
import { resolveShortName } from '../mesh/hosts.js';
import { viewsMatching } from '../traffic/classes.js';
import {
  serverShape,
  shapeOnce,
  shapeWithBase,
  signatureGroups,
  verdictOf,
  type ServerShape,
  type SignatureGroup,
} from '../traffic/shapes.js';
import { portRef, type BreakSet, type PortRef } from './break-sets.js';

/** The Services whose outcomes a policy can change (rules are matched in `ruleChangeBreaks`). */
export function servicesTouchedBy(idx: MeshIndex, o: Exclude<IstioObject, DestinationRule>): ReadonlySet<Service> | readonly Service[] {
  switch (o.kind) {
    case 'MeshPolicy':
      return idx.allServices();
    case 'PeerAuthentication': {
      if (o.namespace === idx.root && isEmptySelector(o.selector)) return meshLevelReach(idx);
      if (isEmptySelector(o.selector)) return idx.services(o.namespace);
      const s = new Set<Service>();
      for (const w of idx.workloads(o.namespace))
        if (selectorMatches(o.selector!, w.labels)) for (const svc of idx.servicesOf(w)) s.add(svc);
      return s;
    }
    case 'Policy': {
      if (o.targets.length === 0) return idx.services(o.namespace);
      const s = new Set<Service>();
      for (const t of o.targets) {
        const svc = idx.serviceByFqdn(resolveShortName(t.name, o.namespace, idx.mesh.clusterDomain));
        if (svc) s.add(svc);
      }
      return s;
    }
  }
}

/**
 * The Services a mesh-level PeerAuthentication can reach: with PeerAuthentication alone in force,
 * a namespace whose own policy sets a mode hides the mesh level from every workload in it.
 */
function meshLevelReach(idx: MeshIndex): ReadonlySet<Service> | readonly Service[] {
  if (idx.features.legacyPolicies) return idx.allServices();
  return idx.allServices().filter((svc) => !hidesMeshLevel(idx, svc.namespace));
}

/** True when a namespace's own policy sets a mode: the mesh level then reaches none of its workloads. */
function hidesMeshLevel(idx: MeshIndex, ns: string): boolean {
  const own = namespacePeerAuth(idx, ns);
  return own !== undefined && own.mode !== 'UNSET';
}

/**
 * True for a PeerAuthentication change of the namespace or mesh level with PeerAuthentication
 * alone in force: an endpoint that no workload policy selects then takes its namespace's base
 * mode, and each Service its namespace's mode, so shapes move by a transform (`shapeWithBase`).
 */
export function shiftsBase(after: MeshIndex, change: Change, prev: IstioObject | undefined): boolean {
  const o = change.object;
  if (o.kind !== 'PeerAuthentication' || !isEmptySelector(o.selector)) return false;
  if (prev && (prev.kind !== 'PeerAuthentication' || !isEmptySelector(prev.selector))) return false;
  return after.features.peerAuthentication && !after.features.legacyPolicies;
}

/** A policy change at the ports of one service: those whose server shape moves, judged once per signature group. */
export function portBreaks(before: MeshIndex, after: MeshIndex, svc: Service, out: BreakSet[], overBudget?: () => boolean): void {
  if (overBudget?.()) throw new BudgetExceededError();
  for (const port of svc.ports) {
    const sb = serverShape(before, svc, port);
    if (!sb) continue;
    const sa = shapeOnce(after, svc, port);
    if (sa && sa !== sb) policyBreaks(before, after, { svc, port, before: sb, after: sa }, out);
  }
}

/**
 * A namespace- or mesh-level policy change (see `shiftsBase`). In each namespace it reaches, ports
 * are judged by bucket (`portBuckets`): where no workload policy selects an endpoint, one shape
 * transform and one verdict lookup per signature group serve all the ports of a bucket; elsewhere
 * each port's shape is computed again.
 */
export function baseShiftBreaks(before: MeshIndex, after: MeshIndex, change: Change, out: BreakSet[], overBudget?: () => boolean): void {
  const o = change.object;
  const mesh = o.namespace === after.root;
  for (const ns of mesh ? after.serviceNamespaces() : [o.namespace]) {
    if (overBudget?.()) throw new BudgetExceededError();
    if (mesh && hidesMeshLevel(after, ns)) continue;
    const base = namespaceBase(after, ns).mode;
    const disabled = namespaceMode(after, ns)?.mode === 'DISABLE';
    for (const b of portBuckets(before, ns)) {
      if (overBudget?.()) throw new BudgetExceededError();
      if (!b.free) {
        for (const { svc, port } of b.at) {
          const sa = shapeOnce(after, svc, port);
          if (sa && sa !== b.shape) policyBreaks(before, after, { svc, port, before: b.shape, after: sa }, out);
        }
        continue;
      }
      const sa = shapeWithBase(after, b.shape, base, disabled);
      if (sa !== b.shape) groupBreaks(before, after, b.groups, b.shape, sa, b.at, out);
    }
  }
}

/** Ports of a namespace that a policy change judges alike: the same server shape, signature groups and DR views. */
interface PortBucket {
  readonly shape: ServerShape;
  readonly groups: readonly SignatureGroup[];
  /** True when no workload policy selects an endpoint of these ports: they take the namespace's base mode. */
  readonly free: boolean;
  readonly at: readonly PortRef[];
}

/** The port buckets of a namespace, in the order of their first port; memoised with everything they read. */
export function portBuckets(idx: MeshIndex, ns: string): readonly PortBucket[] {
  const memo = idx.cachedMap<string, readonly PortBucket[]>('own', 'portBuckets');
  let l = memo.get(ns);
  if (l) return l;
  type Open = { shape: ServerShape; groups: readonly SignatureGroup[]; free: boolean; at: PortRef[] };
  const by = new Map<string, Open>();
  const out: Open[] = [];
  const ids = new Map<object, number>();
  const id = (o: object): number => ids.get(o) ?? ids.set(o, ids.size).get(o)!;
  for (const svc of idx.services(ns)) {
    const views = viewsMatching(idx, svc);
    for (const port of svc.ports) {
      const shape = serverShape(idx, svc, port);
      if (!shape) continue;
      const groups = signatureGroups(idx, svc, port);
      // A workload policy keeps its endpoints off the namespace's base mode; Istio ignores those of the root namespace.
      const free = endpointsOf(idx, svc, port).every((ep) => !ep.workload || !workloadPeerAuth(idx, ep.workload));
      const key = `${id(shape)} ${id(groups)} ${id(views)} ${free}`;
      const b = by.get(key);
      if (b) b.at.push(portRef(idx, svc, port));
      else {
        const nb = { shape, groups, free, at: [portRef(idx, svc, port)] };
        by.set(key, nb);
        out.push(nb);
      }
    }
  }
  memo.set(ns, (l = out));
  return l;
}

/** A service port with its server shape on each side of a change. */
interface PortPair {
  readonly svc: Service;
  readonly port: ServicePort;
  readonly before: ServerShape;
  readonly after: ServerShape;
}

/** A policy change leaves classes and DR lookups alone: each class is its own before, judged once per signature. */
function policyBreaks(before: MeshIndex, after: MeshIndex, at: PortPair, out: BreakSet[]): void {
  groupBreaks(before, after, signatureGroups(after, at.svc, at.port), at.before, at.after, [at], out);
}

/**
 * The signature groups that break at ports whose shape goes from `was` to `now`, one set per
 * group. The verdicts are computed at the first port; every port given has those shapes.
 */
function groupBreaks(
  before: MeshIndex,
  after: MeshIndex,
  groups: readonly SignatureGroup[],
  was: ServerShape,
  now: ServerShape,
  at: readonly PortRef[],
  out: BreakSet[],
): void {
  const { svc, port } = at[0]!;
  for (const g of groups) {
    const vNow = verdictOf(after, g.classes[0]!, g.sig, now, svc, port);
    if (!vNow.failed) continue;
    const vWas = verdictOf(before, g.classes[0]!, g.sig, was, svc, port);
    if (!vWas.failed) out.push({ at, wasVerdict: vWas, nowVerdict: vNow, classes: g.classes, wasClasses: g.classes });
  }
}
