import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { clientsToEnrol, containerPortOf, flowLabels, svcName } from './rule.js';

/**
 * MG101 fires when a client without a sidecar (or a sidecar whose outbound port is excluded from
 * capture) sends plaintext to a sidecar endpoint whose port is STRICT (case
 * StrictRejectsPlaintext). The server's sidecar refuses it and the client sees a reset (000,
 * curl exit 56).
 */
export const plaintextClientIntoStrict: ConnectionRule = {
  code: 'MG101',
  cases: [Case.StrictRejectsPlaintext],
  says: (_c, subject) => `${subject} and refuses plaintext`,
  fix(ctx) {
    const cp = containerPortOf(ctx);
    const who = clientsToEnrol(ctx);
    const inject = `inject a sidecar into ${who}`;
    if (!ctx.after.features.peerAuthentication) {
      return `${inject}, or keep ${svcName(ctx.service)} PERMISSIVE (peers: [{mtls: {mode: PERMISSIVE}}]) until its callers migrate`;
    }
    const keep =
      cp !== undefined && ctx.service.selector
        ? `a PeerAuthentication in ${ctx.service.namespace} with selector.matchLabels ${flowLabels(ctx.service.selector)} and portLevelMtls {${cp}: {mode: PERMISSIVE}}`
        : `a PeerAuthentication with mode PERMISSIVE for ${svcName(ctx.service)}`;
    return `${inject}, or keep ${svcName(ctx.service)} PERMISSIVE until its callers migrate: ${keep}`;
  },
};
