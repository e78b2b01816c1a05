import type { Evidence, OutcomeCode } from './model.js';
import type { Code } from './codes.js';

/** A finding before the decision threshold is applied. */
export interface RawFinding {
  readonly code: Code;
  readonly evidence: Evidence;
  /** The client workload (`sleep.legacy`), a summary of several, or `-` for findings with no pair. */
  readonly client: string;
  /** `httpbin.foo`, or the object a config finding is about. */
  readonly service: string;
  readonly port: number | null;
  readonly before: OutcomeCode | null;
  readonly after: OutcomeCode | null;
  /** curl's exit code when `after` is 000. */
  readonly exit?: number;
  /** One line: what breaks and why. */
  readonly message: string;
  /** Why, in more detail: the chain of configuration that decides. */
  readonly reason: string;
  /** A concrete fix. */
  readonly fix: string;
  /** The workloads a summarised finding stands for. */
  readonly clients?: readonly string[];
  /** What the evidence is: the telemetry series, the env var, the contradiction. */
  readonly evidenceDetail?: string;
  /** The service ports a summary finding stands for (`service:port`), the first 50 and `and N more`. */
  readonly targets?: readonly string[];
}

/** How a finding weighs in the verdict. */
export type Severity = 'deny' | 'warn' | 'info';

/** A finding with its severity under the threshold and mode in force. */
export interface Finding extends RawFinding {
  readonly severity: Severity;
}
