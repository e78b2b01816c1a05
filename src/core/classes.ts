import type { Workload } from './model.js';
import type { MeshIndex } from './index.js';
import { isEmptySelector, selectorMatches } from './index.js';
import { namedExportNamespaces } from './destination-rule.js';
import type { ClientRep } from './outcome.js';

/**
 * A class of client workloads that behave identically towards every service: same mesh kind,
 * same DestinationRule view, same selector DRs, same excluded outbound ports. The engine computes
 * outcomes per class, so the cost follows the number of distinct behaviours, not of pods.
 */
export interface ClientClass {
  readonly key: string;
  /** The DR view: a namespace whose own rules matter, or `*` for the shared view. */
  readonly view: string;
  readonly rep: ClientRep;
  readonly members: Workload[];
}

/** The class of callers outside the mesh, present even when no such workload is in the snapshot. */
export const OUTSIDE_KEY = 'none';

/** The DR view of a namespace: its own name when its rules (or exportTo lists) can differ. */
export function viewOf(idx: MeshIndex, ns: string): string {
  if (idx.features.drGlobalLookup) return '*';
  if (ns === idx.root || idx.destinationRules(ns).length > 0 || namedExportNamespaces(idx).has(ns)) return ns;
  return '*';
}

/** The class key of a workload. */
export function classKey(idx: MeshIndex, w: Workload): { key: string; view: string } {
  if (w.mesh === 'none') return { key: OUTSIDE_KEY, view: '*' };
  if (w.mesh === 'ambient') return { key: 'ambient', view: '*' };
  const view = viewOf(idx, w.namespace);
  let sel = '';
  if (view !== '*' && idx.features.drWorkloadSelector) {
    for (const dr of idx.destinationRules(w.namespace)) {
      if (!isEmptySelector(dr.workloadSelector) && selectorMatches(dr.workloadSelector!, w.labels)) sel += `${dr.name},`;
    }
  }
  const excl = w.excludeOutboundPorts.length ? w.excludeOutboundPorts.join(',') : '';
  return { key: `sidecar|${view}|${sel}|${excl}`, view };
}

/** The client classes of an index, memoised. The outside-the-mesh class is always present. */
export function clientClasses(idx: MeshIndex): ReadonlyMap<string, ClientClass> {
  return idx.cached('classes', () => {
    const out = new Map<string, ClientClass>();
    out.set(OUTSIDE_KEY, { key: OUTSIDE_KEY, view: '*', rep: { kind: 'none', namespace: '', labels: {}, excludeOutboundPorts: [] }, members: [] });
    for (const w of idx.allWorkloads()) {
      const { key, view } = classKey(idx, w);
      let c = out.get(key);
      if (!c) {
        c = { key, view, rep: { kind: w.mesh, namespace: w.namespace, labels: w.labels, excludeOutboundPorts: w.excludeOutboundPorts }, members: [] };
        out.set(key, c);
      }
      c.members.push(w);
    }
    return out;
  });
}
