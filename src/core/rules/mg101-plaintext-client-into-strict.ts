import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { injectClients, keepPermissive } from './remedy.js';

/**
 * MG101 fires when a client without a sidecar (or a sidecar whose outbound port is excluded from
 * capture) sends plaintext to a sidecar endpoint whose port is STRICT (case
 * StrictRejectsPlaintext). The server's sidecar refuses it and the client sees a reset (000,
 * curl exit 56).
 */
export const plaintextClientIntoStrict: ConnectionRule = {
  code: 'MG101',
  cases: [Case.StrictRejectsPlaintext],
  says: (_c, subject) => `${subject} and refuses plaintext`,
  remedies: (ctx) => [injectClients(ctx), keepPermissive(ctx)],
};
