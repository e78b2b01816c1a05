/**
 * The time a request may spend: judging stops with an error at the deadline; proving fixes, which
 * comes after, has a budget of its own so that a slow fix never costs the answer.
 */
import type { Budget } from './handle.js';

/**
 * Milliseconds a request may spend proving fixes, counted from the first fix tried
 * (docs/engine.md "Fixes are proven"): the findings shown first get theirs; the rest say their
 * fixes were not tried.
 */
export const FIX_BUDGET_MS = 25;

/** A request's budget from a clock (milliseconds) and a deadline on it. */
export function requestBudget(clock: () => number, deadline: number, fixMs = FIX_BUDGET_MS): Budget {
  let fixesFrom: number | undefined;
  return {
    over: () => clock() > deadline,
    remainingMs: () => deadline - clock(),
    fixes: () => {
      const now = clock();
      fixesFrom ??= now;
      return now - fixesFrom > fixMs || now > deadline;
    },
  };
}
