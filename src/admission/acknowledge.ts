import { ACK_ANNOTATION, ACK_REASON_MIN } from '../core/policy/modes.js';
import { asObject, type Json } from '../core/model/objects.js';
import type { AdmissionRequest } from './review.js';

/**
 * What a request says about acknowledging a breakage (DESIGN.md §4). An acknowledgement holds
 * only for the request that adds or changes the annotation: one left on the object from an
 * earlier change is `stale` and covers nothing, so a later update that breaks something else is
 * judged like any other. A DELETE cannot add one.
 */
export type Acknowledgement =
  | { readonly kind: 'none' }
  | { readonly kind: 'stale'; readonly reason: string }
  | { readonly kind: 'fresh'; readonly reason: string };

function annotation(o: Json | null): string | undefined {
  const v = asObject(asObject(o?.['metadata'])['annotations'])[ACK_ANNOTATION];
  return typeof v === 'string' ? v : undefined;
}

/** Reads the acknowledgement a request carries, and whether this request gave it. */
export function acknowledgementOf(req: AdmissionRequest): Acknowledgement {
  if (req.operation === 'DELETE') {
    const left = annotation(req.oldObject);
    return left === undefined ? { kind: 'none' } : { kind: 'stale', reason: left };
  }
  const now = annotation(req.object);
  if (now === undefined) return { kind: 'none' };
  // An annotation the object had before was given by an earlier request (only UPDATEs carry an
  // oldObject; a CREATE that carries one anyway gets no acknowledgement from it either).
  if (annotation(req.oldObject) === now) return { kind: 'stale', reason: now };
  return { kind: 'fresh', reason: now };
}

/** Why a reason is not enough, or undefined when it is real text (at least ACK_REASON_MIN characters after trimming). */
export function reasonProblem(reason: string): string | undefined {
  const n = reason.trim().length;
  if (n >= ACK_REASON_MIN) return undefined;
  return n === 0
    ? `the reason is empty; write why the breakage is acceptable, in at least ${ACK_REASON_MIN} characters`
    : `the reason has ${n} character${n === 1 ? '' : 's'}; write why the breakage is acceptable, in at least ${ACK_REASON_MIN} characters`;
}
