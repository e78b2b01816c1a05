import type { ConfigRule } from './rule.js';
import { objectRef } from '../model/model.js';
import { isEmptySelector } from '../mesh/mesh-index.js';
import { configFinding } from './config-finding.js';

/** MG206: portLevelMtls only applies to a workload-level PeerAuthentication. */
export const portLevelWithoutSelector: ConfigRule = {
  code: 'MG206',
  check(_before, _after, change) {
    const o = change.object;
    if (change.operation === 'DELETE' || o.kind !== 'PeerAuthentication' || !isEmptySelector(o.selector)) return [];
    if (Object.keys(o.portLevel).length === 0) return [];
    return [
      configFinding(
        'MG206',
        objectRef(o),
        `${objectRef(o)} sets portLevelMtls without a selector; Istio ignores port-level settings on mesh and namespace policies`,
        'add a selector (matchLabels of the workload) to a separate PeerAuthentication that carries portLevelMtls',
      ),
    ];
  },
};
