import type { ConnectionRule } from './rule.js';

/** MG104: a sidecar client sends Istio mTLS into a sidecar port that accepts only plaintext. */
export const istioMtlsIntoDisable: ConnectionRule = {
  code: 'MG104',
  fix(ctx) {
    const fqdn = ctx.after.fqdn(ctx.service);
    const upgrade = ctx.after.features.peerAuthentication && !ctx.after.features.autoMtlsChecksWorkloadPolicy
      ? ' (before Istio 1.12 auto mTLS ignores workload-level DISABLE)' : '';
    return `add a DestinationRule for ${fqdn} with trafficPolicy.tls.mode DISABLE${upgrade}, or use PERMISSIVE instead of DISABLE for the server`;
  },
};
