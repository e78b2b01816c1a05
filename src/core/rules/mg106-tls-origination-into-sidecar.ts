import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { ruleOf } from './rule.js';
import { destinationRules, reviseRule } from './remedy.js';
import { objectRef } from '../model/model.js';

/**
 * MG106 fires when a DestinationRule SIMPLE or MUTUAL makes the client's sidecar originate TLS
 * that is not Istio's towards a sidecar endpoint: a STRICT port wants an Istio client certificate
 * (case StrictGetsTls), and a port that is not STRICT hands the TLS bytes to an application that
 * speaks plaintext (TlsIntoPlainApp).
 */
export const tlsOriginationIntoSidecar: ConnectionRule = {
  code: 'MG106',
  cases: [Case.StrictGetsTls, Case.TlsIntoPlainApp],
  says: (c, subject) =>
    c === Case.StrictGetsTls ? `${subject} and requires an Istio client certificate` : `${subject} and the application does not speak TLS`,
  remedies(ctx) {
    const rule = ruleOf(ctx);
    const revise = rule
      ? [
          reviseRule(
            rule,
            'ISTIO_MUTUAL',
            `use tls.mode ISTIO_MUTUAL in ${objectRef(rule)}: the endpoints of ${ctx.after.fqdn(ctx.service)} have sidecars`,
          ),
        ]
      : [];
    return [revise, destinationRules(ctx, 'ISTIO_MUTUAL')];
  },
};
