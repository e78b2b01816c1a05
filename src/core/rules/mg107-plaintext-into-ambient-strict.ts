import type { ConnectionRule } from './rule.js';
import { Case } from '../model/cases.js';
import { enrolClientsInAmbient, injectClients, keepPermissive } from './remedy.js';

/**
 * MG107 fires when a client without a proxy sends plaintext to an ambient endpoint whose port is
 * STRICT (case AmbientRejectsPlaintext): the destination's ztunnel rejects it.
 */
export const plaintextIntoAmbientStrict: ConnectionRule = {
  code: 'MG107',
  cases: [Case.AmbientRejectsPlaintext],
  says: (_c, subject) => `${subject}, so ztunnel rejects plaintext`,
  remedies: (ctx) => [enrolClientsInAmbient(ctx), injectClients(ctx), keepPermissive(ctx)],
};
