import type { ConfigRule } from './rule.js';
import { objectRef } from '../model/model.js';
import { configFinding } from './config-finding.js';

/** MG208: Istio reads only the MeshPolicy named default, and a target-less Policy must be named default. */
export const legacyNameIgnored: ConfigRule = {
  code: 'MG208',
  check(_before, _after, change) {
    const o = change.object;
    if (change.operation === 'DELETE' || (o.kind !== 'MeshPolicy' && o.kind !== 'Policy') || o.name === 'default') return [];
    if (o.kind === 'Policy' && o.targets.length > 0) return [];
    return [
      configFinding(
        'MG208',
        objectRef(o),
        `${objectRef(o)} is ignored: Istio only reads a ${o.kind === 'MeshPolicy' ? 'MeshPolicy' : 'target-less Policy'} named "default"`,
        'name it "default"',
      ),
    ];
  },
};
