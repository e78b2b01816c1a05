import type { ConnectionRule } from './rule.js';
import { clientsToEnrol, svcName } from './rule.js';

/** MG107: a client without a proxy sends plaintext to an ambient workload that became STRICT. */
export const plaintextIntoAmbientStrict: ConnectionRule = {
  code: 'MG107',
  fix(ctx) {
    const who = clientsToEnrol(ctx);
    return `enrol ${who} in the mesh (label it istio.io/dataplane-mode=ambient or inject a sidecar), or keep ${svcName(ctx.service)} PERMISSIVE until its callers migrate`;
  },
};
