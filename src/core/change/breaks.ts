/**
 * Which connections a change breaks, as break sets: the ports whose server shape or client
 * signatures move, judged per signature group, port bucket or shared rule rather than per client.
 * Policies and rules take separate paths (policy-breaks.ts, rule-breaks.ts).
 */
import type { Change, DestinationRule, IstioObject } from '../model/model.js';
import type { MeshIndex } from '../mesh/mesh-index.js';
import { breakAt, type Break, type BreakSet } from './break-sets.js';
import { baseShiftBreaks, portBreaks, servicesTouchedBy, shiftsBase } from './policy-breaks.js';
import { ruleChangeBreaks } from './rule-breaks.js';

export { breakAt, type Break, type BreakSet } from './break-sets.js';
export { portBuckets } from './policy-breaks.js';
export { outcomeAt } from '../traffic/connection.js';

/**
 * The connections that go from working to failing with a change. A port whose server shape is
 * unchanged cannot break under a policy change (client DR lookups do not read policies); within a
 * port, classes are judged once per client signature.
 */
export function breakingConnections(before: MeshIndex, after: MeshIndex, change: Change, overBudget?: () => boolean): Break[] {
  const out: Break[] = [];
  for (const set of breakSets(before, after, change, overBudget)) {
    for (let k = 0; k < set.at.length; k++) for (let i = 0; i < set.classes.length; i++) out.push(breakAt(before, after, set, i, k));
  }
  return out;
}

/**
 * The break sets of a change, in the order their ports are judged. `overBudget` is asked between
 * services and between port buckets; it stops the work with BudgetExceededError.
 */
export function breakSets(before: MeshIndex, after: MeshIndex, change: Change, overBudget?: () => boolean): BreakSet[] {
  const out: BreakSet[] = [];
  const prev = before.find(change.object);
  if (shiftsBase(after, change, prev)) {
    baseShiftBreaks(before, after, change, out, overBudget);
    return out;
  }
  if (change.object.kind === 'DestinationRule') {
    ruleChangeBreaks(before, after, change, prev as DestinationRule | undefined, out, overBudget);
    return out;
  }
  let touched = servicesTouchedBy(after, change.object);
  // An object keeps its kind: `find` looks it up by kind, namespace and name.
  if (prev) touched = new Set([...touched, ...servicesTouchedBy(before, prev as Exclude<IstioObject, DestinationRule>)]);
  for (const svc of touched) portBreaks(before, after, svc, out, overBudget);
  return out;
}
