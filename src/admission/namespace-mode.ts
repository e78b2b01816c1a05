import type { Mode } from '../core/model/model.js';
import { labelMode, MODE_LABEL, weakens } from '../core/policy/modes.js';
import { asObject, type Json } from '../core/model/objects.js';
import type { AdmissionRequest } from './review.js';

/** A Namespace request's effect on the mtls-guard mode of that namespace. */
export interface ModeChange {
  readonly namespace: string;
  readonly from: Mode;
  readonly to: Mode;
  /** True when the namespace ends up less guarded (enforce > warn > dry-run > off). */
  readonly weakening: boolean;
}

function modeLabel(o: Json | null): string | undefined {
  const v = asObject(asObject(o?.['metadata'])['labels'])[MODE_LABEL];
  return typeof v === 'string' ? v : undefined;
}

/** True for requests about core/v1 Namespaces, which the webhook receives only for mode label changes. */
export function isNamespaceRequest(req: AdmissionRequest): boolean {
  return req.kind.group === '' && req.kind.kind === 'Namespace';
}

/**
 * What a CREATE or UPDATE of a Namespace does to its mode. A missing or unknown label counts as
 * the configured default, so a namespace created with a weaker label than the default weakens it.
 * Anything else (DELETE, CONNECT) is never judged: null.
 */
export function modeChangeOf(req: AdmissionRequest, dflt: Mode): ModeChange | null {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return null;
  const name = req.name || req.namespace;
  const from = req.operation === 'CREATE' ? dflt : labelMode(modeLabel(req.oldObject), dflt);
  const to = labelMode(modeLabel(req.object), dflt);
  return { namespace: name, from, to, weakening: weakens(from, to) };
}
