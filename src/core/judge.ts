/**
 * Judging one change, the one path that `mtls-guard check` and the webhook share: the mode that
 * applies (docs/design.md §4), then, unless it is `off`, what the change breaks (docs/design.md
 * §2), then the verdict under that mode and the deny threshold.
 */
import type { Change, Evidence, Labels, Mode } from './model/model.js';
import { objectRef } from './model/model.js';
import type { MeshIndex } from './mesh/mesh-index.js';
import { modeFor, type ModeDecision } from './policy/modes.js';
import { describeChange, evaluateChange } from './evaluate.js';
import { decide, type Verdict } from './verdict/decision.js';
import type { Remedies } from './verdict/prove.js';

/** How a change is judged. */
export interface JudgeOptions {
  readonly denyOn: Evidence;
  /** The mode when the namespace has no valid label. */
  readonly defaultMode: Mode;
  /** A mode that holds whatever the labels say, and where it comes from (`check --mode`). */
  readonly mode?: ModeDecision;
  /** A namespace's labels as a live source last saw them, ahead of the index (see `modeFor`). */
  readonly liveLabels?: (ns: string) => Labels | undefined;
  /** Asked while evaluating; true stops the work with BudgetExceededError. */
  readonly overBudget?: () => boolean;
  /** Asked while proving fixes; true stops trying them (the findings left say their fixes were not tried). */
  readonly fixBudget?: () => boolean;
}

/** The judgement of one change. */
export interface Judgement {
  readonly change: Change;
  /** `Kind namespace/name`. */
  readonly object: string;
  /** `CREATE PeerAuthentication foo/default (STRICT)`. */
  readonly summary: string;
  readonly mode: ModeDecision;
  /** False when the mode is `off`: nothing was evaluated and the verdict has no findings. */
  readonly evaluated: boolean;
  readonly verdict: Verdict;
  /** The remedies that hold for each finding, by `findingKey` (`verdict/prove.ts`). */
  readonly remedies: ReadonlyMap<string, Remedies>;
  /** The index after the change, for judging the next change of a series. */
  readonly after: MeshIndex;
}

/** Judges one change against a snapshot. Throws BudgetExceededError when `overBudget` says so. */
export function judgeChange(idx: MeshIndex, change: Change, opts: JudgeOptions): Judgement {
  const mode = opts.mode ?? modeFor(idx, change.object, opts.defaultMode, opts.liveLabels);
  const base = { change, object: objectRef(change.object), summary: describeChange(change), mode };
  if (mode.mode === 'off')
    return { ...base, evaluated: false, verdict: decide([], 'off', opts.denyOn), remedies: new Map(), after: idx.apply(change) };
  const ev = evaluateChange(idx, change, opts.overBudget, opts.fixBudget);
  return { ...base, evaluated: true, verdict: decide(ev.findings, mode.mode, opts.denyOn), remedies: ev.remedies, after: ev.after };
}
