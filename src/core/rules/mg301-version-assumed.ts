import type { ConfigRule } from './rule.js';
import { configFinding } from './config-finding.js';

/** MG301: no Istio version in the snapshot; the engine assumed one. */
export const versionAssumed: ConfigRule = {
  code: 'MG301',
  check(_before, after) {
    if (after.data.versionSource !== 'default') return [];
    return [
      configFinding(
        'MG301',
        'istiod',
        `no istiod Deployment was found, so Istio ${after.version.raw} was assumed`,
        'include the istiod Deployment in the snapshot, or pass --istio-version',
        'possible',
      ),
    ];
  },
};
