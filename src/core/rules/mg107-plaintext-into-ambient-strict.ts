import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { clientsToEnrol, svcName } from './rule.js';

/**
 * MG107 fires when a client without a proxy sends plaintext to an ambient endpoint whose port is
 * STRICT (case AmbientRejectsPlaintext): the destination's ztunnel rejects it.
 */
export const plaintextIntoAmbientStrict: ConnectionRule = {
  code: 'MG107',
  cases: [Case.AmbientRejectsPlaintext],
  says: (_c, subject) => `${subject}, so ztunnel rejects plaintext`,
  fix(ctx) {
    const who = clientsToEnrol(ctx);
    return `enrol ${who} in the mesh (label it istio.io/dataplane-mode=ambient or inject a sidecar), or keep ${svcName(ctx.service)} PERMISSIVE until its callers migrate`;
  },
};
