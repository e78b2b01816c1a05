import type { ConnectionRule } from './rule.js';
import { svcName } from './rule.js';

/** MG103: a sidecar client sends Istio mTLS to a server that has no sidecar. */
export const istioMtlsIntoNoSidecar: ConnectionRule = {
  code: 'MG103',
  fix(ctx) {
    const fqdn = ctx.after.fqdn(ctx.service);
    return `add a DestinationRule in ${ctx.service.namespace} with host ${fqdn} and trafficPolicy.tls.mode DISABLE (an exact host is more specific than a wildcard), or inject a sidecar into the workloads behind ${svcName(ctx.service)}`;
  },
};
