import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { destinationRules, injectServers } from './remedy.js';

/**
 * MG103 fires when a client's sidecar sends Istio mTLS (a DestinationRule ISTIO_MUTUAL, such as
 * `*.local`) to an endpoint that has no sidecar to terminate it (case BareGetsMtls), or to an
 * ambient endpoint (AmbientGetsMtls): 503 on HTTP ports. The configuration alone proves it.
 */
export const istioMtlsIntoNoSidecar: ConnectionRule = {
  code: 'MG103',
  cases: [Case.BareGetsMtls, Case.AmbientGetsMtls],
  says: (c, subject, who) =>
    c === Case.AmbientGetsMtls
      ? `${who} is an ambient workload without a sidecar to terminate it`
      : `${subject} cannot terminate Istio mTLS`,
  certain: (now) => `${now.rule ?? 'auto mTLS'} sends Istio mTLS to a server without a sidecar`,
  remedies: (ctx) => [destinationRules(ctx, 'DISABLE'), injectServers(ctx)],
};
