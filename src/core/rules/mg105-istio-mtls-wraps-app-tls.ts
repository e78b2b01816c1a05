import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { destinationRules } from './remedy.js';

/**
 * MG105 fires when a client's sidecar wraps the application's own TLS in Istio mTLS towards a
 * server without a sidecar that speaks TLS itself (case BareGetsMtlsOverTls), the Kubernetes API
 * server above all: the handshake fails, 000 with curl exit 35.
 */
export const istioMtlsWrapsAppTls: ConnectionRule = {
  code: 'MG105',
  cases: [Case.BareGetsMtlsOverTls],
  says: (_c, subject) => `${subject} cannot terminate Istio mTLS and the application's own TLS handshake fails`,
  certain: (now) => `${now.rule ?? 'auto mTLS'} covers the Kubernetes API server, which has no sidecar`,
  remedies: (ctx) => [destinationRules(ctx, 'DISABLE')],
};
