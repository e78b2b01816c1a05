import type { Evidence, Mode } from '../core/model/model.js';
import type { Finding } from '../core/model/findings.js';
import type { Verdict } from '../core/verdict/decision.js';
import { ACK_ANNOTATION, ACK_REASON_MIN } from '../core/policy/modes.js';
import { CODES } from '../core/model/codes.js';

/** Kubernetes drops or truncates warnings past these sizes (DESIGN.md §5). */
export const WARNING_MAX = 120;
/** Explanations (why a change was not judged) are kept whole up to this length. */
export const NOTE_WARNING_MAX = 300;
export const WARNINGS_TOTAL_MAX = 4096;

/** An `admission.k8s.io/v1` AdmissionReview response body. */
export interface AdmissionReviewResponse {
  readonly apiVersion: 'admission.k8s.io/v1';
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly reason: string; readonly message: string };
    readonly warnings?: readonly string[];
    readonly auditAnnotations?: Readonly<Record<string, string>>;
  };
}

/** The longest deny message: a few findings, the reason, the fix and the evidence fit many times over. */
export const MESSAGE_MAX = 8192;

function oneLine(s: string): string {
  return s
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** A message on one line, cut to MESSAGE_MAX: whatever an object holds, the answer stays small. */
function message(s: string): string {
  const l = oneLine(s);
  return l.length > MESSAGE_MAX ? `${l.slice(0, MESSAGE_MAX - 1)}…` : l;
}

/**
 * Fits warnings into the API server's budget: no newlines, each at most WARNING_MAX characters where
 * possible, at most WARNINGS_TOTAL_MAX in total, with an "and N more" line when some are left out.
 */
export function budgetWarnings(lines: readonly string[], max = WARNING_MAX, total = WARNINGS_TOTAL_MAX): string[] {
  const out: string[] = [];
  let used = 0;
  const clean = lines.map((l) => {
    const s = oneLine(l);
    // Finding lines are already short; a cut would lose the explanation of anything else.
    const limit = /^MG1\d\d /.test(s) ? max : Math.max(max, NOTE_WARNING_MAX);
    return s.length > limit ? `${s.slice(0, limit - 1)}…` : s;
  });
  const more = (n: number): string => `and ${n} more (see the mtls-guard logs or run mtls-guard check)`;
  for (let i = 0; i < clean.length; i++) {
    const s = clean[i]!;
    const left = clean.length - i - 1;
    // Keep room for the summary line whenever more lines follow.
    if (used + s.length + (left > 0 ? more(left).length : 0) > total) {
      out.push(more(clean.length - i));
      return out;
    }
    out.push(s);
    used += s.length;
  }
  return out;
}

/** One warning line: the connection and the evidence, plus a short fix when it fits. */
export function shortFinding(f: Finding): string {
  if (f.port === null) return `${f.code} ${f.message}`;
  const head = `${f.code} ${f.message.replace(/, curl exit \d+\)$/, ')')} [${f.evidence}]`;
  const withHint = `${head}: ${CODES[f.code].hint}`;
  return withHint.length <= WARNING_MAX ? withHint : head;
}

function evidenceCounts(fs: readonly Finding[]): string {
  const n = new Map<Evidence, number>();
  for (const f of fs) n.set(f.evidence, (n.get(f.evidence) ?? 0) + 1);
  return [...n].map(([e, k]) => `${k} ${e}`).join(', ');
}

/** How a deny can still be overridden, for the end of its message. DELETE cannot carry an acknowledgement. */
function overrideHint(canAcknowledge: boolean): string {
  const label = "a user allowed to weaken the namespace's mode (verb weaken on modes.mtls-guard.io) can label it mtls-guard.io/mode=warn";
  return canAcknowledge
    ? ` To proceed anyway, a user allowed to acknowledge breakages (verb acknowledge on breakages.mtls-guard.io) annotates the object with ${ACK_ANNOTATION}: "<why, at least ${ACK_REASON_MIN} characters>" in the same change, or ${label}.`
    : ` To proceed anyway, ${label}.`;
}

/**
 * The deny message (DESIGN.md §1): which object, how many connections break and with what evidence,
 * the first few as `client -> service:port (before → after)`, why, and the fix.
 */
export function denyMessage(summary: string, denied: readonly Finding[], canAcknowledge = true): string {
  const first = denied.slice(0, 3).map((f) => f.message.replace(/^(.*?) \((\d{3} → \d{3}).*\)$/, '$1 ($2)'));
  const more = denied.length > 3 ? `, and ${denied.length - 3} more` : '';
  const f = denied[0]!;
  const conn = denied.length === 1 ? 'connection' : 'connections';
  return oneLine(
    `${summary} would break ${denied.length} ${conn} (${evidenceCounts(denied)}): ${first.join('; ')}${more}. ` +
      `Why: ${f.reason}. Fix: ${f.fix}.${f.evidenceDetail ? ` Evidence: ${f.evidenceDetail}.` : ''}${overrideHint(canAcknowledge)}`,
  );
}

/** What the webhook decided, before it is written as a response. */
export interface Decision {
  readonly uid: string;
  readonly allowed: boolean;
  readonly mode: Mode;
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly audit: Readonly<Record<string, string>>;
}

/** What became of an acknowledgement on a change that would be denied. */
export type AckResult =
  /** Given in this request, with a real reason, by a user allowed to: the deny becomes warnings. */
  | { readonly kind: 'accepted'; readonly reason: string; readonly by: string }
  /** Given in this request but refused; `why` leads the deny message. */
  | { readonly kind: 'refused'; readonly why: string }
  /** Left on the object by an earlier request: it covers nothing now. */
  | { readonly kind: 'stale'; readonly reason: string };

/** Audit annotation values are kept short: the audit log is not the place for essays. */
const AUDIT_VALUE_MAX = 256;

/**
 * Applies the mode and an acknowledgement to a verdict (DESIGN.md §4): enforce denies, warn allows
 * with warnings, dry-run allows silently; an accepted acknowledgement turns a deny into warnings
 * and is recorded in auditAnnotations with who gave it.
 */
export function decideResponse(
  uid: string,
  summary: string,
  verdict: Verdict,
  ack: AckResult | undefined,
  extraWarnings: readonly string[] = [],
  canAcknowledge = true,
): Decision {
  const codes = [...new Set(verdict.findings.map((f) => f.code))].join(',');
  const audit: Record<string, string> = {};
  if (codes) audit['mtls-guard.io/findings'] = codes;
  if (verdict.mode === 'dry-run') {
    if (verdict.wouldDeny.length) audit['mtls-guard.io/would-deny'] = 'true';
    return { uid, allowed: true, mode: verdict.mode, warnings: [], audit };
  }
  const warnings = [...extraWarnings, ...verdict.findings.map(shortFinding)];
  if (verdict.allowed) return { uid, allowed: true, mode: verdict.mode, warnings: budgetWarnings(warnings), audit };
  if (ack?.kind === 'accepted') {
    audit['mtls-guard.io/acknowledged'] = ack.reason.slice(0, AUDIT_VALUE_MAX);
    audit['mtls-guard.io/acknowledged-by'] = ack.by.slice(0, AUDIT_VALUE_MAX);
    return {
      uid,
      allowed: true,
      mode: verdict.mode,
      warnings: budgetWarnings([`breakage acknowledged by ${ack.by} (${ACK_ANNOTATION}): ${ack.reason}`, ...warnings]),
      audit,
    };
  }
  let text = denyMessage(summary, verdict.wouldDeny, canAcknowledge);
  if (ack?.kind === 'refused') text = `${ack.why} ${text}`;
  if (ack?.kind === 'stale') {
    text += oneLine(
      ` The ${ACK_ANNOTATION} annotation already on the object ("${ack.reason.slice(0, 80)}") was given for an earlier change and covers no other: ` +
        (canAcknowledge ? 'change its text in this change to acknowledge this breakage.' : 'a DELETE cannot be acknowledged.'),
    );
  }
  return { uid, allowed: false, mode: verdict.mode, message: message(text), warnings: budgetWarnings(warnings), audit };
}

/** A deny that is not about connections: a refused mode change, an unverifiable permission. */
export function denyWith(uid: string, text: string, mode: Mode): Decision {
  return { uid, allowed: false, mode, message: message(text), warnings: [], audit: {} };
}

/** An allow with warnings, for requests that are not judged (skipped, unreadable, out of time). */
export function allowWith(uid: string, warnings: readonly string[], mode: Mode): Decision {
  return { uid, allowed: true, mode, warnings: budgetWarnings(warnings), audit: {} };
}

/** Writes a decision as the AdmissionReview the API server expects. */
export function toReview(d: Decision): AdmissionReviewResponse {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid: d.uid,
      allowed: d.allowed,
      ...(d.allowed ? {} : { status: { code: 403, reason: 'Forbidden', message: d.message ?? 'denied by mtls-guard' } }),
      ...(d.warnings.length ? { warnings: d.warnings } : {}),
      ...(Object.keys(d.audit).length ? { auditAnnotations: d.audit } : {}),
    },
  };
}
