import type { ConnectionRule } from './rule.js';
import { clientsToEnrol, containerPortOf, flowLabels, svcName } from './rule.js';

/** MG101: a client without a sidecar sends plaintext into a port that became STRICT. */
export const plaintextClientIntoStrict: ConnectionRule = {
  code: 'MG101',
  fix(ctx) {
    const cp = containerPortOf(ctx);
    const who = clientsToEnrol(ctx);
    const inject = `inject a sidecar into ${who}`;
    if (!ctx.after.features.peerAuthentication) {
      return `${inject}, or keep ${svcName(ctx.service)} PERMISSIVE (peers: [{mtls: {mode: PERMISSIVE}}]) until its callers migrate`;
    }
    const keep = cp !== undefined && ctx.service.selector
      ? `a PeerAuthentication in ${ctx.service.namespace} with selector.matchLabels ${flowLabels(ctx.service.selector)} and portLevelMtls {${cp}: {mode: PERMISSIVE}}`
      : `a PeerAuthentication with mode PERMISSIVE for ${svcName(ctx.service)}`;
    return `${inject}, or keep ${svcName(ctx.service)} PERMISSIVE until its callers migrate: ${keep}`;
  },
};
