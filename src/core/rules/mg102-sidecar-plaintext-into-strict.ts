import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { ruleOf } from './rule.js';
import { destinationRules, keepPermissive, reviseRule } from './remedy.js';
import { objectRef } from '../model/model.js';

/**
 * MG102 fires when a client with a sidecar sends plaintext to a sidecar endpoint whose port is
 * STRICT (case StrictRejectsSidecarPlaintext): its DestinationRule says DISABLE, auto mTLS is off
 * (Istio ≤1.4 or `enableAutoMtls: false`), a namespace or mesh DISABLE turns auto mTLS to
 * plaintext for the whole service, or a headless service has an endpoint without a sidecar. The
 * server's sidecar refuses it and the client's sidecar answers 503 on HTTP ports.
 */
export const sidecarPlaintextIntoStrict: ConnectionRule = {
  code: 'MG102',
  cases: [Case.StrictRejectsSidecarPlaintext],
  says: (_c, subject) => `${subject} and refuses plaintext`,
  remedies(ctx) {
    const rule = ruleOf(ctx);
    const revise =
      rule && ctx.now.tlsMode === 'DISABLE'
        ? [reviseRule(rule, 'ISTIO_MUTUAL', `set tls.mode ISTIO_MUTUAL in ${objectRef(rule)} (it sends plaintext to a STRICT port)`)]
        : [];
    return [revise, destinationRules(ctx, 'ISTIO_MUTUAL'), keepPermissive(ctx)];
  },
};
