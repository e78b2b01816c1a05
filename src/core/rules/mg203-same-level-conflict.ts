import type { ConfigRule } from './rule.js';
import type { DestinationRule, IstioObject, LegacyPolicy, PeerAuthentication } from '../model/model.js';
import { objectRef } from '../model/model.js';
import type { MeshIndex } from '../mesh/mesh-index.js';
import { isEmptySelector, objectKey, selectorMatches } from '../mesh/mesh-index.js';
import { meshPeerAuth, namespacePeerAuth, peerAuthLevels } from '../policy/peer-auth.js';
import { drHost } from '../policy/destination-rule.js';
import { configFinding } from './config-finding.js';
import { wlName } from './scope.js';

const same = (a: IstioObject | undefined, b: IstioObject): boolean => a !== undefined && objectKey(a) === objectKey(b);

function peerAuth(idx: MeshIndex, o: PeerAuthentication): string[] {
  if (isEmptySelector(o.selector)) {
    const winner = o.namespace === idx.root ? meshPeerAuth(idx) : namespacePeerAuth(idx, o.namespace);
    const level = o.namespace === idx.root ? 'mesh' : 'namespace';
    return winner && !same(winner, o)
      ? [`${objectRef(o)} is ignored: ${objectRef(winner)} is older and already sets the ${level}-level policy`]
      : [];
  }
  if (o.namespace === idx.root) return [];
  const shadowed = idx
    .workloads(o.namespace)
    .filter((w) => selectorMatches(o.selector!, w.labels))
    .map((w) => ({ w, win: peerAuthLevels(idx, w).workload }))
    .filter((x) => x.win && !same(x.win, o));
  if (shadowed.length === 0) return [];
  const names =
    shadowed
      .slice(0, 3)
      .map((x) => wlName(x.w))
      .join(', ') + (shadowed.length > 3 ? ` and ${shadowed.length - 3} more` : '');
  return [
    `${objectRef(o)} is ignored entirely (portLevelMtls included) for ${names}: ${objectRef(shadowed[0]!.win!)} is older and also selects them`,
  ];
}

function legacy(idx: MeshIndex, o: LegacyPolicy): string[] {
  if (o.kind !== 'Policy') return [];
  const out: string[] = [];
  for (const t of o.targets.filter((x) => x.ports.length === 0)) {
    const older = idx.policies(o.namespace).find((p) => p.targets.some((pt) => pt.name === t.name && pt.ports.length === 0));
    if (older && !same(older, o)) out.push(`${objectRef(o)} is ignored for ${t.name}: ${objectRef(older)} is older and also targets it`);
  }
  return out;
}

function destinationRule(idx: MeshIndex, o: DestinationRule): string[] {
  if (!o.trafficPolicy) return [];
  const host = drHost(idx, o);
  const sel = JSON.stringify(o.workloadSelector);
  const older = idx
    .destinationRules(o.namespace)
    .find((d) => d.trafficPolicy && drHost(idx, d) === host && JSON.stringify(d.workloadSelector) === sel);
  return older && !same(older, o)
    ? [`the trafficPolicy of ${objectRef(o)} is ignored: ${objectRef(older)} is older and sets one for host ${host}`]
    : [];
}

/** MG203: a policy at a level that an older one already holds is silently ignored. */
export const sameLevelConflict: ConfigRule = {
  code: 'MG203',
  check(_before, after, change) {
    if (change.operation === 'DELETE') return [];
    const o = after.find(change.object) ?? change.object;
    const msgs =
      o.kind === 'PeerAuthentication' ? peerAuth(after, o) : o.kind === 'DestinationRule' ? destinationRule(after, o) : legacy(after, o);
    return msgs.map((m) => configFinding('MG203', objectRef(o), m, `merge the settings into the older object, or delete one of them`));
  },
};
