import type { Evidence, Labels, Mode } from '../core/model/model.js';
import { objectRef } from '../core/model/model.js';
import { BudgetExceededError, MtlsGuardError } from '../core/model/errors.js';
import type { MeshIndex } from '../core/mesh/mesh-index.js';
import type { Verdict } from '../core/verdict/decision.js';
import { judgeChange, type Judgement } from '../core/judge.js';
import { CODES } from '../core/model/codes.js';
import { toChange, type AdmissionRequest, type Decoded } from './review.js';
import { allowWith, decideResponse, denyWith, type AckResult, type Decision } from './respond.js';
import { acknowledgementOf, reasonProblem } from './acknowledge.js';
import { isNamespaceRequest, modeChangeOf } from './namespace-mode.js';
import {
  acknowledgePermission,
  describePermission,
  grantCommand,
  weakenPermission,
  type Authorizer,
  type Permission,
} from './authorize.js';

/** The settings a decision needs. */
export interface HandleOptions {
  readonly defaultMode: Mode;
  readonly denyOn: Evidence;
  /**
   * A namespace's labels as the source last saw them, when it knows the namespace: label changes
   * reach it before its next index, and the mode label must hold from the next request.
   */
  readonly namespaceLabels?: (ns: string) => Labels | undefined;
  /** Asks the API server whether a user may weaken a mode or acknowledge a breakage. */
  readonly authorizer: Authorizer;
  /** The prefix of the chart's ClusterRoles (the release's full name), for the grant line in a refusal. */
  readonly rolePrefix: string;
}

/** What the caller's clock says about the time left to answer. */
export interface Budget {
  /** True once evaluation must stop. */
  readonly over: () => boolean;
  /** Milliseconds left for a call to the API server (a SubjectAccessReview). */
  readonly remainingMs: () => number;
  /** True once trying fixes must stop; absent means until `over`. */
  readonly fixes?: () => boolean;
}

/** Something a user did to loosen the guard, for logs, metrics and Events. */
export type Loosening =
  | { readonly action: 'acknowledge'; readonly granted: true; readonly by: string; readonly reason: string }
  | { readonly action: 'weaken'; readonly granted: true; readonly by: string; readonly from: Mode; readonly to: Mode }
  | {
      readonly action: 'acknowledge' | 'weaken';
      readonly granted: false;
      readonly by: string;
      readonly why: 'forbidden' | 'reason' | 'unverified';
    };

/** A decision and what to record about it (logs, metrics, Events). */
export interface Handled {
  readonly decision: Decision;
  /** `Kind namespace/name`, or '' when the object could not be read. */
  readonly object: string;
  readonly kind: string;
  readonly operation: string;
  /** allow | deny | warn | acknowledged | skip | error | timeout */
  readonly outcome: string;
  readonly verdict?: Verdict;
  /** Why a request was not judged. */
  readonly note?: string;
  /** Set when the request acknowledged a breakage or weakened a mode, or tried to. */
  readonly loosening?: Loosening;
}

const NOT_EVALUATED = CODES.MG303.code;
const NEVER: Budget = { over: () => false, remainingMs: () => 10_000 };

/** A permission check: the answer, or a refusal that says what is missing and how an admin grants it. */
async function authorize(
  req: AdmissionRequest,
  p: Permission,
  opts: HandleOptions,
  budget: Budget,
  what: string,
): Promise<{ ok: true } | { ok: false; why: string; unverified: boolean }> {
  const who = req.username || '(unknown user)';
  try {
    const a = await opts.authorizer.check(req.user, p, Math.max(0, budget.remainingMs()));
    if (a.allowed) return { ok: true };
    return {
      ok: false,
      unverified: false,
      why:
        `mtls-guard: ${who} may not ${what}: that needs ${describePermission(p)}${a.reason ? ` (${a.reason.slice(0, 200)})` : ''}. ` +
        `An admin grants it with: ${grantCommand(p, who, opts.rolePrefix)}.`,
    };
  } catch (e) {
    const err = e instanceof Error ? e.message : 'unknown error';
    return {
      ok: false,
      unverified: true,
      why: `mtls-guard could not check whether ${who} may ${what} (${err.slice(0, 200)}), so it is refused.`,
    };
  }
}

/** A Namespace CREATE or UPDATE that changes the mode label: weakening needs a permission, anything else passes. */
async function handleNamespace(req: AdmissionRequest, opts: HandleOptions, budget: Budget): Promise<Handled> {
  const base = { kind: 'Namespace', operation: req.operation };
  const mc = modeChangeOf(req, opts.defaultMode);
  if (!mc)
    return {
      ...base,
      object: '',
      outcome: 'skip',
      note: `${req.operation} of a Namespace is never judged`,
      decision: allowWith(req.uid, [], opts.defaultMode),
    };
  const object = objectRef({ kind: 'Namespace', namespace: '', name: mc.namespace });
  if (!mc.weakening)
    return { ...base, object, outcome: 'allow', note: `mode ${mc.from} → ${mc.to}`, decision: allowWith(req.uid, [], mc.to) };
  const by = req.username;
  const auth = await authorize(
    req,
    weakenPermission(mc.namespace, mc.to),
    opts,
    budget,
    `weaken the mtls-guard mode of namespace ${mc.namespace} from ${mc.from} to ${mc.to}`,
  );
  if (!auth.ok) {
    return {
      ...base,
      object,
      outcome: 'deny',
      note: `mode ${mc.from} → ${mc.to} refused`,
      decision: denyWith(req.uid, auth.why, mc.from),
      loosening: { action: 'weaken', granted: false, by, why: auth.unverified ? 'unverified' : 'forbidden' },
    };
  }
  const warning = `mtls-guard: namespace ${mc.namespace} goes from mode ${mc.from} to ${mc.to}; ${by || 'this user'} may weaken it`;
  return {
    ...base,
    object,
    outcome: 'allow',
    note: `mode ${mc.from} → ${mc.to}`,
    decision: { ...allowWith(req.uid, [warning], mc.to), audit: { 'mtls-guard.io/mode-weakened': `${mc.from}→${mc.to}` } },
    loosening: { action: 'weaken', granted: true, by, from: mc.from, to: mc.to },
  };
}

/**
 * Judges one admission request against a snapshot. Never throws: what cannot be evaluated is
 * allowed with a warning that says why (DESIGN.md §5). Loosening the guard (a weaker mode, an
 * acknowledged breakage) is checked with the Authorizer and refused when it cannot be verified.
 */
export async function handleRequest(
  req: AdmissionRequest,
  idx: MeshIndex | null,
  opts: HandleOptions,
  budget: Budget = NEVER,
  notes: readonly string[] = [],
): Promise<Handled> {
  if (isNamespaceRequest(req)) return handleNamespace(req, opts, budget);
  const base = { kind: req.kind.kind, operation: req.operation };
  if (!idx) {
    return {
      ...base,
      object: '',
      outcome: 'skip',
      note: 'no snapshot',
      decision: allowWith(
        req.uid,
        [`${NOT_EVALUATED} mtls-guard has no mesh snapshot yet; the change was not evaluated`],
        opts.defaultMode,
      ),
    };
  }
  let decoded: Decoded;
  try {
    decoded = toChange(req, idx);
  } catch (e) {
    const why = e instanceof MtlsGuardError ? e.message : 'the object could not be read';
    return {
      ...base,
      object: '',
      outcome: 'error',
      note: why,
      decision: allowWith(req.uid, [`${NOT_EVALUATED} mtls-guard could not evaluate this object: ${why}`], opts.defaultMode),
    };
  }
  if (decoded.kind === 'skip')
    return { ...base, object: '', outcome: 'skip', note: decoded.why, decision: allowWith(req.uid, [], opts.defaultMode) };
  const { change } = decoded;
  const object = objectRef(change.object);
  let j: Judgement;
  try {
    j = judgeChange(idx, change, {
      denyOn: opts.denyOn,
      defaultMode: opts.defaultMode,
      overBudget: budget.over,
      ...(budget.fixes ? { fixBudget: budget.fixes } : {}),
      ...(opts.namespaceLabels ? { liveLabels: opts.namespaceLabels } : {}),
    });
  } catch (e) {
    const timeout = e instanceof BudgetExceededError;
    const why = timeout
      ? 'evaluation did not finish within the request timeout'
      : `internal error: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown'}`;
    return {
      ...base,
      object,
      outcome: timeout ? 'timeout' : 'error',
      note: why,
      decision: allowWith(req.uid, [`${NOT_EVALUATED} ${object} was allowed without evaluation: ${why}`, ...notes], opts.defaultMode),
    };
  }
  const extra = [...notes, ...(j.mode.invalid ? [j.mode.invalid] : [])];
  if (!j.evaluated)
    return { ...base, object, outcome: 'skip', note: `mode off (${j.mode.source})`, decision: allowWith(req.uid, extra, 'off') };
  const { verdict } = j;
  const canAcknowledge = change.operation !== 'DELETE';
  if (verdict.allowed) {
    const decision = decideResponse(req.uid, j.summary, verdict, undefined, extra, canAcknowledge);
    return { ...base, object, outcome: verdict.wouldDeny.length || decision.warnings.length ? 'warn' : 'allow', verdict, decision };
  }
  const { ack, loosening } = await judgeAcknowledgement(req, change.object.namespace || idx.root, opts, budget);
  const decision = decideResponse(req.uid, j.summary, verdict, ack, extra, canAcknowledge);
  const outcome = decision.allowed ? 'acknowledged' : 'deny';
  return { ...base, object, outcome, verdict, decision, ...(loosening ? { loosening } : {}) };
}

/** For a change that would be denied: does this request acknowledge it, with a reason and the permission? */
async function judgeAcknowledgement(
  req: AdmissionRequest,
  namespace: string,
  opts: HandleOptions,
  budget: Budget,
): Promise<{ ack?: AckResult; loosening?: Loosening }> {
  const a = acknowledgementOf(req);
  if (a.kind === 'none') return {};
  if (a.kind === 'stale') return { ack: a };
  const by = req.username;
  const problem = reasonProblem(a.reason);
  if (problem) {
    return {
      ack: { kind: 'refused', why: `mtls-guard: the acknowledgement is refused: ${problem}.` },
      loosening: { action: 'acknowledge', granted: false, by, why: 'reason' },
    };
  }
  const auth = await authorize(req, acknowledgePermission(namespace), opts, budget, `acknowledge breakages in namespace ${namespace}`);
  if (!auth.ok) {
    return {
      ack: { kind: 'refused', why: auth.why },
      loosening: { action: 'acknowledge', granted: false, by, why: auth.unverified ? 'unverified' : 'forbidden' },
    };
  }
  return {
    ack: { kind: 'accepted', reason: a.reason.trim(), by },
    loosening: { action: 'acknowledge', granted: true, by, reason: a.reason.trim() },
  };
}
