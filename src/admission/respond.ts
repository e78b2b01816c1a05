import type { Evidence, Mode } from '../core/model.js';
import type { Finding } from '../core/findings.js';
import type { Verdict } from '../core/decision.js';
import { ACK_ANNOTATION } from '../core/modes.js';
import { CODES } from '../core/codes.js';

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

function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').replace(/ {2,}/g, ' ').trim();
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

/**
 * The deny message (DESIGN.md §1): which object, how many connections break and with what evidence,
 * the first few as `client -> service:port (before → after)`, why, and the fix.
 */
export function denyMessage(summary: string, denied: readonly Finding[], modeNote = ''): string {
  const first = denied.slice(0, 3).map((f) => f.message.replace(/^(.*?) \((\d{3} → \d{3}).*\)$/, '$1 ($2)'));
  const more = denied.length > 3 ? `, and ${denied.length - 3} more` : '';
  const f = denied[0]!;
  const conn = denied.length === 1 ? 'connection' : 'connections';
  return oneLine(`${summary} would break ${denied.length} ${conn} (${evidenceCounts(denied)}): ${first.join('; ')}${more}. `
    + `Why: ${f.reason}. Fix: ${f.fix}.${f.evidenceDetail ? ` Evidence: ${f.evidenceDetail}.` : ''}`
    + ` To proceed anyway, annotate the object with ${ACK_ANNOTATION}: "<reason>" or label the namespace mtls-guard.io/mode=warn.${modeNote}`);
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

/**
 * Applies the mode and the acknowledge annotation to a verdict (DESIGN.md §4): enforce denies,
 * warn allows with warnings, dry-run allows silently; an acknowledged breakage becomes warnings and
 * is recorded in auditAnnotations.
 */
export function decideResponse(uid: string, summary: string, verdict: Verdict, ack: string | undefined, extraWarnings: readonly string[] = []): Decision {
  const codes = [...new Set(verdict.findings.map((f) => f.code))].join(',');
  const audit: Record<string, string> = {};
  if (codes) audit['mtls-guard.io/findings'] = codes;
  if (verdict.mode === 'dry-run') {
    if (verdict.wouldDeny.length) audit['mtls-guard.io/would-deny'] = 'true';
    return { uid, allowed: true, mode: verdict.mode, warnings: [], audit };
  }
  const warnings = [...extraWarnings, ...verdict.findings.map(shortFinding)];
  if (!verdict.allowed && ack !== undefined) {
    audit['mtls-guard.io/acknowledged'] = ack.slice(0, 256) || '(empty)';
    return { uid, allowed: true, mode: verdict.mode, warnings: budgetWarnings([`breakage acknowledged (${ACK_ANNOTATION}): ${ack}`, ...warnings]), audit };
  }
  if (!verdict.allowed) {
    return { uid, allowed: false, mode: verdict.mode, message: denyMessage(summary, verdict.wouldDeny), warnings: budgetWarnings(warnings), audit };
  }
  return { uid, allowed: true, mode: verdict.mode, warnings: budgetWarnings(warnings), audit };
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
