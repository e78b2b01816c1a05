import type { Traffic } from '../core/model/model.js';

/** What the refresher knows: the last good answer and the last failure. */
export interface EvidenceState {
  readonly last: Traffic | null;
  /** When the last good answer arrived, ms since the epoch. */
  readonly atMs: number | null;
  readonly lastError: string | null;
}

/**
 * The traffic an evaluation should see at `nowMs`: the last good answer while the source answers
 * and the answer is younger than `maxAgeMs`; otherwise the same edges marked degraded with the
 * cause, so findings fall back to `possible` and MG302 says why. Pure.
 */
export function evidenceView(s: EvidenceState, nowMs: number, maxAgeMs: number, source: string): Traffic {
  if (!s.last || s.atMs === null) {
    return { edges: [], source, degraded: `no answer from ${source} yet${s.lastError ? `: ${s.lastError}` : ''}` };
  }
  if (s.lastError) return { ...s.last, degraded: `${source} is failing: ${s.lastError}` };
  const age = nowMs - s.atMs;
  if (age > maxAgeMs) {
    return { ...s.last, degraded: `the last answer is ${Math.round(age / 1000)}s old, past the ${Math.round(maxAgeMs / 1000)}s bound` };
  }
  return s.last;
}

/** Hooks for metrics and for rebuilding the index when the view changes. */
export interface RefresherHooks {
  /** Every query round, with its duration in seconds and its error, if any. */
  onRound?(seconds: number, error: Error | null): void;
  /** The view changed: a new answer, or it became (or stopped being) degraded. */
  onChange?(view: Traffic): void;
}

/**
 * Queries in the background on an interval, never on the admission path. A round that is still
 * running when the next is due is not doubled. Evaluations read `view()`, which never waits.
 */
export class EvidenceRefresher {
  private state: EvidenceState = { last: null, atMs: null, lastError: null };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private shown: string | undefined;

  constructor(
    private readonly query: () => Promise<Traffic>,
    private readonly source: string,
    private readonly opts: { readonly intervalMs: number; readonly maxAgeMs: number },
    private readonly clock: () => number,
    private readonly hooks: RefresherHooks = {},
  ) {}

  /** The evidence now; see evidenceView. */
  view(): Traffic {
    return evidenceView(this.state, this.clock(), this.opts.maxAgeMs, this.source);
  }

  /** Seconds since the last good answer; null before the first. */
  ageSeconds(): number | null {
    return this.state.atMs === null ? null : (this.clock() - this.state.atMs) / 1000;
  }

  /** One round; resolves when it is done, successful or not. */
  refresh(): Promise<void> {
    this.running ??= (async () => {
      const t0 = this.clock();
      let err: Error | null = null;
      try {
        const t = await this.query();
        this.state = { last: t, atMs: this.clock(), lastError: null };
      } catch (e) {
        err = e as Error;
        this.state = { ...this.state, lastError: err.message };
      }
      this.hooks.onRound?.((this.clock() - t0) / 1000, err);
      this.notify();
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Tells onChange when the view differs from the one last shown (new answer, or degraded or not). */
  notify(): void {
    const v = this.view();
    // Degraded messages carry ages, so key on the cause instead: a new answer, or a new error.
    const key = `${this.state.atMs}|${v.degraded === undefined ? 'good' : (this.state.lastError ?? 'stale')}`;
    if (key === this.shown) return;
    this.shown = key;
    this.hooks.onChange?.(v);
  }

  /** Starts the interval; the first round runs at once. */
  start(): void {
    void this.refresh();
    this.timer = setInterval(() => {
      void this.refresh();
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
