// The webhook's budget for proving fixes (src/admission/budget.ts), for benchmarks that time a
// judgement as a request would see it.
import { requestBudget } from '../../src/admission/budget.js';

/** A fresh fix budget per judgement, on the process's monotonic clock. */
export function webhookFixBudget(): () => boolean {
  const clock = (): number => Number(process.hrtime.bigint()) / 1e6;
  return requestBudget(clock, Number.POSITIVE_INFINITY).fixes!;
}

/**
 * A fix budget already spent: the change is judged and no fix is tried, as builds did before fixes
 * were proven.
 */
export function spentFixBudget(): () => boolean {
  return () => true;
}
