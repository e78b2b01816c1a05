import type { ConnectionRule } from './rule.js';
import { svcName } from './rule.js';

/** MG102: a sidecar client sends plaintext (DR DISABLE, auto mTLS off, DISABLE namespace, headless) into STRICT. */
export const sidecarPlaintextIntoStrict: ConnectionRule = {
  code: 'MG102',
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
