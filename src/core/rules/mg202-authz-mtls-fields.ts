import type { ConfigRule } from './rule.js';
import type { AuthorizationPolicy, Workload } from '../model/model.js';
import type { MeshIndex } from '../mesh/mesh-index.js';
import { isEmptySelector, selectorMatches } from '../mesh/mesh-index.js';
import { modeAt, wlName, workloadsTouchedBy } from './scope.js';
import { configFinding } from './config-finding.js';

/**
 * Istio looks up a workload's AuthorizationPolicies in its own namespace and in the root
 * namespace, and a selector narrows either: a root-namespace policy with a selector applies to
 * matching workloads in every namespace.
 */
function selects(idx: MeshIndex, ap: AuthorizationPolicy, w: Workload): boolean {
  if (ap.namespace !== w.namespace && ap.namespace !== idx.root) return false;
  return isEmptySelector(ap.selector) || selectorMatches(ap.selector!, w.labels);
}

/** MG202: an AuthorizationPolicy relies on peer identity while the workload accepts plaintext. */
export const authzMtlsFields: ConfigRule = {
  code: 'MG202',
  check(_before, after, change) {
    const aps = after.data.authorizationPolicies.filter((a) => a.mtlsFields.length > 0);
    if (aps.length === 0) return [];
    const out = [];
    for (const w of workloadsTouchedBy(after, change.object)) {
      if (w.mesh === 'none') continue;
      const ports = w.ports.length ? w.ports.map((p) => p.port) : [0];
      const open = ports.map((p) => ({ p, m: modeAt(after, w, p) })).find((x) => x.m.mode !== 'STRICT');
      if (!open) continue;
      for (const ap of aps.filter((a) => selects(after, a, w))) {
        out.push(
          configFinding(
            'MG202',
            `AuthorizationPolicy ${ap.namespace}/${ap.name}`,
            `AuthorizationPolicy ${ap.namespace}/${ap.name} uses ${ap.mtlsFields.join(', ')}, which never match plaintext, but ${wlName(w)} stays ${open.m.mode} (${open.m.source})`,
            `make ${wlName(w)} STRICT before relying on ${ap.mtlsFields.join(', ')}, or add a DENY rule with notPrincipals: ["*"] for plaintext callers`,
          ),
        );
      }
    }
    return out;
  },
};
