import type { ConfigRule } from './rule.js';
import type { LegacyPolicy, PeerAuthentication } from '../model/model.js';
import { objectRef, serviceLabel } from '../model/model.js';
import type { MeshIndex } from '../mesh/mesh-index.js';
import { isEmptySelector, selectorMatches } from '../mesh/mesh-index.js';
import { resolveShortName } from '../mesh/hosts.js';
import { resolveTargetPort } from '../mesh/endpoints.js';
import { configFinding } from './config-finding.js';
import { wlName } from './scope.js';

function legacyPorts(idx: MeshIndex, o: LegacyPolicy): string[] {
  const out: string[] = [];
  for (const t of o.targets) {
    const svc = idx.serviceByFqdn(resolveShortName(t.name, o.namespace, idx.mesh.clusterDomain));
    if (!svc) continue;
    for (const p of t.ports) {
      if (!svc.ports.some((sp) => sp.port === p || sp.name === p))
        out.push(`${objectRef(o)} targets port ${p} of ${serviceLabel(svc)}, which has no such Service port`);
    }
  }
  return out;
}

function peerAuthPorts(idx: MeshIndex, o: PeerAuthentication): string[] {
  if (isEmptySelector(o.selector) || o.namespace === idx.root) return [];
  const out: string[] = [];
  const ws = idx.workloads(o.namespace).filter((w) => selectorMatches(o.selector!, w.labels));
  for (const key of Object.keys(o.portLevel).map(Number)) {
    for (const w of ws) {
      if (w.ports.some((p) => p.port === key)) continue;
      // The classic trap: the Service port instead of the container port.
      const sp = idx
        .servicesOf(w)
        .flatMap((s) => s.ports.map((p) => ({ s, p })))
        .find((x) => x.p.port === key);
      if (sp) {
        const cp = resolveTargetPort(w, sp.p.targetPort);
        out.push(
          `${objectRef(o)} sets portLevelMtls for ${key}, the Service port of ${sp.s.name}.${sp.s.namespace}; PeerAuthentication is keyed by the container port${cp !== null ? ` (${cp} on ${wlName(w)})` : ''}`,
        );
        break;
      }
    }
  }
  return out;
}

/** MG207: a port that the Service or workload does not have. */
export const unknownTargetPort: ConfigRule = {
  code: 'MG207',
  check(_before, after, change) {
    if (change.operation === 'DELETE') return [];
    const o = change.object;
    const msgs = o.kind === 'Policy' ? legacyPorts(after, o) : o.kind === 'PeerAuthentication' ? peerAuthPorts(after, o) : [];
    return msgs.map((m) =>
      configFinding(
        'MG207',
        objectRef(o),
        m,
        'use the port the setting is keyed by: Service ports for Policy and DestinationRule, container ports for PeerAuthentication',
      ),
    );
  },
};
