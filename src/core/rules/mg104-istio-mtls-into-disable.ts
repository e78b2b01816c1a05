import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { ruleOf } from './rule.js';
import { destinationRules, reviseRule } from './remedy.js';
import { objectRef } from '../model/model.js';

/**
 * MG104 fires when a client's sidecar sends Istio mTLS to a sidecar endpoint whose port is DISABLE
 * (case DisabledGetsMtls): a DestinationRule ISTIO_MUTUAL, or auto mTLS before Istio 1.12, which
 * did not look at the endpoint's own policy. The configuration alone proves it.
 */
export const istioMtlsIntoDisable: ConnectionRule = {
  code: 'MG104',
  cases: [Case.DisabledGetsMtls],
  says: (_c, subject) => `${subject} and accepts only plaintext`,
  certain: (now) =>
    `${now.rule ?? 'auto mTLS'} sends Istio mTLS to a server that accepts only plaintext (${now.serverSource ?? 'DISABLE'})`,
  remedies(ctx) {
    const rule = ruleOf(ctx);
    const revise =
      rule && ctx.now.tlsMode === 'ISTIO_MUTUAL'
        ? [reviseRule(rule, 'DISABLE', `set tls.mode DISABLE in ${objectRef(rule)} for ${ctx.after.fqdn(ctx.service)}`)]
        : [];
    return [revise, destinationRules(ctx, 'DISABLE')];
  },
};
