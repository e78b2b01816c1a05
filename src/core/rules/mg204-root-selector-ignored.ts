import type { ConfigRule } from './rule.js';
import { objectRef } from '../model/model.js';
import { isEmptySelector } from '../mesh/mesh-index.js';
import { configFinding } from './config-finding.js';

/** MG204: Istio ignores PeerAuthentications with a selector in the root namespace. */
export const rootSelectorIgnored: ConfigRule = {
  code: 'MG204',
  check(_before, after, change) {
    const o = change.object;
    if (change.operation === 'DELETE' || o.kind !== 'PeerAuthentication' || o.namespace !== after.root || isEmptySelector(o.selector))
      return [];
    return [
      configFinding(
        'MG204',
        objectRef(o),
        `${objectRef(o)} has a selector in the root namespace ${after.root}, and Istio ignores such policies`,
        `move it to the namespace of the workloads it selects, or drop the selector to make it mesh-wide`,
      ),
    ];
  },
};
