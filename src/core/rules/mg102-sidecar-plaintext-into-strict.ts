import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { svcName } from './rule.js';

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
  fix(ctx) {
    const fqdn = ctx.after.fqdn(ctx.service);
    const { now } = ctx;
    if (now.tlsMode === 'DISABLE' && now.rule) {
      return `remove tls.mode DISABLE from ${now.rule} for ${fqdn} (or set ISTIO_MUTUAL), or keep ${svcName(ctx.service)} PERMISSIVE`;
    }
    if (now.reason.includes('headless')) {
      return `give every endpoint of the headless service ${svcName(ctx.service)} a sidecar, or keep it PERMISSIVE`;
    }
    if (now.reason.includes('is DISABLE')) {
      return `do not combine a namespace or mesh DISABLE with a workload STRICT (istio/istio#56084): make the namespace PERMISSIVE, or add a DestinationRule for ${fqdn} with tls.mode ISTIO_MUTUAL`;
    }
    return `add a DestinationRule for ${fqdn} with trafficPolicy.tls.mode ISTIO_MUTUAL (or one for *.local in ${ctx.after.root}), or enable auto mTLS (meshConfig.enableAutoMtls: true)`;
  },
};
