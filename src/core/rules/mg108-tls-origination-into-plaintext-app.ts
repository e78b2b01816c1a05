import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { ruleOf } from './rule.js';
import { destinationRules, reviseRule } from './remedy.js';
import { objectRef } from '../model/model.js';

/**
 * MG108 fires when a DestinationRule SIMPLE or MUTUAL makes the client's sidecar originate TLS
 * towards a pod that has no sidecar in the way, on a port where the application speaks plaintext
 * (case BareGetsTlsIntoPlainApp): nothing terminates the TLS, so the application reads records it
 * cannot parse. The client sidecar answers 503 on HTTP ports and closes the connection on TCP ones.
 */
export const tlsOriginationIntoPlaintextApp: ConnectionRule = {
  code: 'MG108',
  cases: [Case.BareGetsTlsIntoPlainApp],
  says: (_c, subject) => `${subject}: nothing terminates the TLS, and its application speaks plaintext`,
  remedies(ctx) {
    const rule = ruleOf(ctx);
    const revise = rule
      ? [
          reviseRule(
            rule,
            'DISABLE',
            `use tls.mode DISABLE in ${objectRef(rule)}: the endpoints of ${ctx.after.fqdn(ctx.service)} speak plaintext and have no sidecar`,
          ),
        ]
      : [];
    return [revise, destinationRules(ctx, 'DISABLE')];
  },
};
