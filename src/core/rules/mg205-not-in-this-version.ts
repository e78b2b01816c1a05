import type { ConfigRule } from './rule.js';
import { objectRef } from '../model/model.js';
import { configFinding } from './config-finding.js';
import { hasWorkloadSelector } from '../mesh/mesh-index.js';

/** MG205: the object or field has no effect in the mesh's Istio version. */
export const notInThisVersion: ConfigRule = {
  code: 'MG205',
  check(_before, after, change) {
    if (change.operation === 'DELETE') return [];
    const o = change.object;
    const f = after.features;
    const v = after.version.raw;
    const found = (message: string, fix: string) => [configFinding('MG205', objectRef(o), message, fix)];
    if (o.kind === 'PeerAuthentication' && !f.peerAuthentication)
      return found(
        `${objectRef(o)} has no effect: PeerAuthentication arrived in Istio 1.5 and this mesh runs ${v}`,
        'use an authentication.istio.io/v1alpha1 Policy or MeshPolicy, or upgrade Istio',
      );
    if ((o.kind === 'Policy' || o.kind === 'MeshPolicy') && !f.legacyPolicies)
      return found(
        `${objectRef(o)} has no effect: authentication.istio.io/v1alpha1 was removed in Istio 1.6 and this mesh runs ${v}`,
        'use a security.istio.io PeerAuthentication instead',
      );
    if (o.kind === 'DestinationRule' && hasWorkloadSelector(o) && !f.drWorkloadSelector)
      return found(
        `the workloadSelector of ${objectRef(o)} is ignored before Istio 1.14 (this mesh runs ${v}), so the rule applies to every client`,
        'remove the workloadSelector, or upgrade Istio',
      );
    return [];
  },
};
