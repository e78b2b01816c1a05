import type { Evidence, Labels, Mode } from '../core/model.js';
import { objectRef } from '../core/model.js';
import { BudgetExceededError, MtlsGuardError } from '../core/errors.js';
import type { MeshIndex } from '../core/index.js';
import { evaluateChange, describeChange } from '../core/evaluate.js';
import { decide, type Verdict } from '../core/decision.js';
import { ACK_ANNOTATION, modeFor } from '../core/modes.js';
import { CODES } from '../core/codes.js';
import { toChange, type AdmissionRequest } from './review.js';
import { allowWith, decideResponse, type Decision } from './respond.js';

/** The settings a decision needs. */
export interface HandleOptions {
  readonly defaultMode: Mode;
  readonly denyOn: Evidence;
  /**
   * A namespace's labels as the source last saw them, when it knows the namespace: label changes
   * reach it before its next index, and the mode label must hold from the next request.
   */
  readonly namespaceLabels?: (ns: string) => Labels | undefined;
}

/** A decision and what to record about it (logs, metrics, Events). */
export interface Handled {
  readonly decision: Decision;
  /** `Kind namespace/name`, or '' when the object could not be read. */
  readonly object: string;
  readonly kind: string;
  readonly operation: string;
  /** allow | deny | warn | skip | error | timeout */
  readonly outcome: string;
  readonly verdict?: Verdict;
  /** Why a request was not judged. */
  readonly note?: string;
}

const NOT_EVALUATED = CODES.MG303.code;

/**
 * Judges one admission request against a snapshot. Never throws: what cannot be evaluated is
 * allowed with a warning that says why (DESIGN.md §5). `overBudget` comes from the caller's clock.
 */
export function handleRequest(req: AdmissionRequest, idx: MeshIndex | null, opts: HandleOptions, overBudget?: () => boolean, notes: readonly string[] = []): Handled {
  const base = { kind: req.kind.kind, operation: req.operation };
  if (!idx) {
    return { ...base, object: '', outcome: 'skip', note: 'no snapshot', decision: allowWith(req.uid, [`${NOT_EVALUATED} mtls-guard has no mesh snapshot yet; the change was not evaluated`], opts.defaultMode) };
  }
  let decoded;
  try {
    decoded = toChange(req, idx);
  } catch (e) {
    const why = e instanceof MtlsGuardError ? e.message : String(e);
    return { ...base, object: '', outcome: 'error', note: why, decision: allowWith(req.uid, [`${NOT_EVALUATED} mtls-guard could not evaluate this object: ${why}`], opts.defaultMode) };
  }
  if (decoded.kind === 'skip') return { ...base, object: '', outcome: 'skip', note: decoded.why, decision: allowWith(req.uid, [], opts.defaultMode) };
  const { change } = decoded;
  const object = objectRef(change.object);
  const md = modeFor(idx, change.object, opts.defaultMode, opts.namespaceLabels);
  const extra = [...notes, ...(md.invalid ? [md.invalid] : [])];
  if (md.mode === 'off') return { ...base, object, outcome: 'skip', note: `mode off (${md.source})`, decision: allowWith(req.uid, extra, 'off') };
  let verdict: Verdict;
  try {
    verdict = decide(evaluateChange(idx, change, overBudget).findings, md.mode, opts.denyOn);
  } catch (e) {
    const timeout = e instanceof BudgetExceededError;
    const why = timeout ? 'evaluation did not finish within the request timeout' : `internal error: ${(e as Error).message}`;
    return { ...base, object, outcome: timeout ? 'timeout' : 'error', note: why, decision: allowWith(req.uid, [`${NOT_EVALUATED} ${object} was allowed without evaluation: ${why}`, ...extra], md.mode) };
  }
  const ack = change.operation === 'DELETE' ? undefined : change.object.annotations[ACK_ANNOTATION];
  const decision = decideResponse(req.uid, describeChange(change), verdict, ack, extra);
  const outcome = !decision.allowed ? 'deny' : verdict.wouldDeny.length || decision.warnings.length ? 'warn' : 'allow';
  return { ...base, object, outcome, verdict, decision };
}
