import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';

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
  fix(ctx) {
    const fqdn = ctx.after.fqdn(ctx.service);
    const upgrade =
      ctx.after.features.peerAuthentication && !ctx.after.features.autoMtlsChecksWorkloadPolicy
        ? ' (before Istio 1.12 auto mTLS ignores workload-level DISABLE)'
        : '';
    return `add a DestinationRule for ${fqdn} with trafficPolicy.tls.mode DISABLE${upgrade}, or use PERMISSIVE instead of DISABLE for the server`;
  },
};
