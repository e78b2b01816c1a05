import type { ConnectionRule } from './rule.js';
import type { Remedy } from './remedy.js';
import type { DestinationRule } from '../model/model.js';
import { Case } from '../model/cases.js';
import { objectRef } from '../model/model.js';
import { toManifest } from '../model/manifest.js';
import { ruleOf } from './rule.js';

/**
 * MG109 fires when a VirtualService route sends a sidecar's calls to a DestinationRule subset that
 * the client's rule no longer defines (case SubsetUndefined: Istio builds no cluster for it, and
 * Envoy answers 503 "cluster not found" on HTTP ports and closes the connection elsewhere), or
 * whose labels select no endpoint of the service (SubsetEmpty: no healthy upstream). Istio's own
 * advice is to add a subset before a route uses it and to remove it only after no route does.
 */
export const routeToMissingSubset: ConnectionRule = {
  code: 'MG109',
  cases: [Case.SubsetUndefined, Case.SubsetEmpty],
  says: (c, subject) =>
    c === Case.SubsetUndefined
      ? `${subject} is defined by no DestinationRule the client uses, so its sidecar has no cluster for it`
      : `${subject} selects no endpoint of the service, so its sidecar has no healthy upstream`,
  certain: () => 'the route names a subset that has no cluster or no endpoint in the configuration',
  remedies(ctx) {
    const name = ctx.now.subset;
    const after = ruleOf(ctx) ?? (ctx.change.object.kind === 'DestinationRule' ? ctx.change.object : undefined);
    if (!name || !after) return [];
    const was = ctx.before.find(after);
    const kept = was?.kind === 'DestinationRule' ? was.subsets?.find((s) => s.name === name) : undefined;
    if (!kept) return [];
    const object: DestinationRule = { ...after, subsets: [...(after.subsets ?? []).filter((s) => s.name !== name), kept] };
    const keep: Remedy = {
      says: `keep subset ${name} in ${objectRef(after)} as it was while a VirtualService sends to it: ${JSON.stringify(toManifest(object))}`,
      change: { kind: 'object', operation: ctx.change.operation === 'DELETE' ? 'CREATE' : 'UPDATE', object },
    };
    return [[keep]];
  },
};
