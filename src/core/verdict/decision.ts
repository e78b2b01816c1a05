import type { Evidence, Mode } from '../model/model.js';
import { EVIDENCE_ORDER } from '../model/model.js';
import { CODES } from '../model/codes.js';
import type { Finding, RawFinding, Severity } from '../model/findings.js';

/** The verdict on a change under a mode and a deny threshold. */
export interface Verdict {
  readonly allowed: boolean;
  readonly mode: Mode;
  readonly findings: readonly Finding[];
  /** Findings that would deny in enforce mode (also set in warn and dry-run, for reporting). */
  readonly wouldDeny: readonly Finding[];
}

/** True when `e` is at least as strong as `threshold`. */
export function meetsThreshold(e: Evidence, threshold: Evidence): boolean {
  return EVIDENCE_ORDER.indexOf(e) <= EVIDENCE_ORDER.indexOf(threshold);
}

function severity(f: RawFinding, denyOn: Evidence): Severity {
  const kind = CODES[f.code].kind;
  if (kind === 'note') return 'info';
  if (kind === 'config') return 'warn';
  return meetsThreshold(f.evidence, denyOn) ? 'deny' : 'warn';
}

/**
 * Applies the mode and threshold (DESIGN.md §2, §4): connection findings at or above `denyOn`
 * deny in enforce mode; everything else warns. `off` is decided by the caller, before evaluation.
 */
export function decide(raw: readonly RawFinding[], mode: Mode, denyOn: Evidence): Verdict {
  const findings = raw.map((f) => ({ ...f, severity: severity(f, denyOn) }));
  const wouldDeny = findings.filter((f) => f.severity === 'deny');
  return { allowed: mode !== 'enforce' || wouldDeny.length === 0, mode, findings, wouldDeny };
}
