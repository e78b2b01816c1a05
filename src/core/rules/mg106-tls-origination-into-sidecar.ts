import type { ConnectionRule } from './rule.js';

/** MG106: DR SIMPLE or MUTUAL originates TLS that a sidecar server cannot accept. */
export const tlsOriginationIntoSidecar: ConnectionRule = {
  code: 'MG106',
  fix(ctx) {
    return `use trafficPolicy.tls.mode ISTIO_MUTUAL (or leave tls unset for auto mTLS) towards ${ctx.after.fqdn(ctx.service)}, whose endpoints have sidecars`;
  },
};
