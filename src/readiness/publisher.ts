/**
 * Keeps readiness for STRICT current as the snapshot changes, off the request path, and publishes
 * it: gauges for /metrics and, where the cluster serves them, PolicyReports. A round starts when
 * the index the webhook judges against is a new one, runs in small steps with the event loop free
 * in between (admission requests go first), and is spaced like the snapshot's own rebuilds so that
 * constant churn costs a bounded share of a core.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { MeshIndex } from '../core/mesh/mesh-index.js';
import type { Evidence } from '../core/model/model.js';
import { MAX_NAMESPACE_SERIES, readinessGauges, type ReadinessGauges } from './metrics-view.js';
import { DEFAULT_LIMITS, policyReports, type PolicyReport, type ReportLimits } from './policy-report.js';
import { judgeRound, MAX_SIMULATED_CONNECTIONS } from './round.js';
import type { ReportSink } from './writer.js';

/** How the publisher judges, paces and reports. */
export interface PublisherOptions {
  /** The index requests are judged against right now (null before the first). */
  readonly index: () => MeshIndex | null;
  readonly denyOn: Evidence;
  /** Where PolicyReports go; without one, readiness is only in the gauges. */
  readonly sink?: ReportSink;
  readonly log: (level: 'info' | 'warn', msg: string) => void;
  /** The clock, ms since the epoch. */
  readonly now?: () => number;
  /** How often to look for a new index. */
  readonly pollMs?: number;
  /** The least time between two rounds; a round that took long waits four times its duration. */
  readonly minIntervalMs?: number;
  /** How far each namespace may go proving fixes, and a whole round (namespaces judged after that get none tried). */
  readonly fixBudget?: FixBudget;
  readonly maxConnections?: number;
  readonly limits?: ReportLimits;
  readonly maxNamespaceSeries?: number;
}

/** The last round, as the metrics read it. */
export interface PublishedReadiness {
  readonly gauges: ReadinessGauges;
  /** When the round ended, ms since the epoch. */
  readonly atMs: number;
  /** Time the round kept the event loop busy, in ms (pauses between its steps not counted). */
  readonly busyMs: number;
}

/**
 * How far proving fixes may go. The engine asks the budget before each fix it tries and between
 * the steps of each trial; counting those questions, rather than the time, makes the budget end at
 * the same place on every round and every replica, so that reports do not change with the
 * machine's load (and are not rewritten for it). The times are a safety net on a very slow machine.
 */
export interface FixBudget {
  /** Questions per namespace: 600 cover the first few findings (25 to 40 ms on the benchmark mesh). */
  readonly namespaceSteps: number;
  /** Questions per round, over all namespaces (about 1 s on the benchmark mesh). */
  readonly roundSteps: number;
  readonly namespaceMs: number;
  readonly roundMs: number;
}

/**
 * On a 10,000-pod mesh with 146 blocked namespaces, proving every fix takes about 8,000 questions
 * and 250 to 550 ms per namespace: a round of a minute. These keep it near a second.
 */
export const DEFAULT_FIX_BUDGET: FixBudget = { namespaceSteps: 600, roundSteps: 20_000, namespaceMs: 250, roundMs: 5_000 };

/** Judges readiness after each new snapshot and publishes it. */
export class ReadinessPublisher {
  private readonly o: Required<Omit<PublisherOptions, 'sink'>> & Pick<PublisherOptions, 'sink'>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private judged: MeshIndex | null = null;
  private nextAt = 0;
  private last: PublishedReadiness | null = null;
  private desired: ReadonlyMap<string, PolicyReport> | null = null;
  private saidTooLarge = false;

  constructor(opts: PublisherOptions) {
    this.o = {
      now: () => Date.now(),
      pollMs: 500,
      minIntervalMs: 1_000,
      fixBudget: DEFAULT_FIX_BUDGET,
      maxConnections: MAX_SIMULATED_CONNECTIONS,
      limits: DEFAULT_LIMITS,
      maxNamespaceSeries: MAX_NAMESPACE_SERIES,
      ...opts,
    };
  }

  /** Starts looking for new snapshots. */
  start(): void {
    this.schedule(0);
  }

  /** Stops; resolves once a round or write in flight has ended (a round stops at its next step). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** The last round's gauges, or null before the first round ended. */
  view(): PublishedReadiness | null {
    return this.last;
  }

  /** The reports the last round called for (empty before it, or without a sink). */
  reports(): ReadonlyMap<string, PolicyReport> {
    return this.desired ?? new Map();
  }

  /**
   * Resolves once the index served now has been judged and published, or after `timeoutMs`
   * (false). For tests and tools that change the cluster and then read what was published.
   */
  async current(timeoutMs = 30_000): Promise<boolean> {
    const end = this.o.now() + timeoutMs;
    while (this.o.now() < end) {
      const idx = this.o.index();
      if (idx && idx === this.judged && !this.running) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return false;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), ms);
    // Never the reason the process stays up.
    this.timer.unref();
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.o.now();
    const idx = this.o.index();
    if (!this.running) {
      let work: Promise<void> | undefined;
      if (idx && idx !== this.judged && now >= this.nextAt) work = this.round(idx);
      else if (this.desired && this.o.sink?.due(now)) work = this.sync();
      if (work)
        this.running = work.finally(() => {
          this.running = undefined;
        });
    }
    this.schedule(this.o.pollMs);
  }

  private async round(idx: MeshIndex): Promise<void> {
    let busy = 0;
    try {
      const spent = { steps: 0, ms: 0 };
      const g = judgeRound(idx, { denyOn: this.o.denyOn, maxConnections: this.o.maxConnections, fixBudget: () => this.fixBudget(spent) });
      for (;;) {
        const t0 = performance.now();
        const step = g.next();
        busy += performance.now() - t0;
        if (step.done) {
          const round = step.value;
          this.last = { gauges: readinessGauges(round, this.o.maxNamespaceSeries), atMs: this.o.now(), busyMs: busy };
          if (round.broken === null && !this.saidTooLarge)
            this.o.log(
              'info',
              `readiness: the mesh has ${round.pairs} (client, service port) pairs, more than ${this.o.maxConnections}: ` +
                'connections failing now are not computed, only readiness for STRICT',
            );
          this.saidTooLarge = round.broken === null;
          if (this.o.sink) this.desired = policyReports(round, this.o.limits);
          break;
        }
        // Admission requests, watch events and probes go first.
        await nextTurn();
        if (this.stopped) return;
      }
    } catch (e) {
      this.o.log('warn', `readiness: judging the snapshot failed; trying again on the next one: ${(e as Error).message}`);
    } finally {
      this.judged = idx;
      this.nextAt = this.o.now() + Math.max(this.o.minIntervalMs, 4 * busy);
    }
    if (this.desired) await this.sync();
  }

  private async sync(): Promise<void> {
    if (!this.o.sink || !this.desired || this.stopped) return;
    await this.o.sink.sync(this.desired);
  }

  /** A budget for one namespace's fixes; `spent` is shared by the namespaces of a round. */
  private fixBudget(spent: { steps: number; ms: number }): () => boolean {
    const b = this.o.fixBudget;
    let steps = 0;
    let from: number | undefined;
    let last: number | undefined;
    return () => {
      const t = performance.now();
      from ??= t;
      spent.ms += t - (last ?? t);
      last = t;
      steps++;
      spent.steps++;
      return steps > b.namespaceSteps || spent.steps > b.roundSteps || t - from > b.namespaceMs || spent.ms > b.roundMs;
    };
  }
}
