import type { ConnectionRule } from './rule.js';

/** MG105: Istio mTLS wraps an application's own TLS towards a non-mesh server (the API server). */
export const istioMtlsWrapsAppTls: ConnectionRule = {
  code: 'MG105',
  fix(ctx) {
    const fqdn = ctx.after.fqdn(ctx.service);
    return `add a DestinationRule in ${ctx.after.root} with host ${fqdn} and trafficPolicy.tls.mode DISABLE, as Istio's own mesh-wide mTLS install did for the API server`;
  },
};
