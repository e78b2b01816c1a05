import type { ConfigRule } from './rule.js';
import type { Probe, Workload } from '../model/model.js';
import { pushInto, type MeshIndex } from '../mesh/mesh-index.js';
import { resolveTargetPort } from '../mesh/endpoints.js';
import { atLeast } from '../mesh/version.js';
import { modeAt, wlName, workloadsTouchedBy } from './scope.js';
import { configFinding } from './config-finding.js';

/** Ports of the sidecar agent: probes already rewritten to them are unaffected by STRICT. */
const AGENT_PORTS: ReadonlySet<number> = new Set([15020, 15021]);

function rewritten(idx: MeshIndex, w: Workload, p: Probe): boolean {
  const a = w.annotations['sidecar.istio.io/rewriteAppHTTPProbers'];
  const on = a === 'true' ? true : a === 'false' ? false : (idx.mesh.rewriteAppProbes ?? idx.features.probeRewriteDefault);
  // gRPC probes are only rewritten from 1.13.
  return on && (p.type !== 'grpc' || atLeast(idx.version, 1, 13));
}

/** A kubelet probe that STRICT can break: HTTP or gRPC, not rewritten, aimed at an application port. */
interface ExposedProbe {
  readonly p: Probe;
  readonly cp: number;
}

/**
 * The exposed probes of each sidecar workload, once per snapshot: they depend on pod specs, the
 * mesh config and the version alone. With probe rewriting on (the default since 1.10) most
 * snapshots have none, and a mesh-wide change then visits no workload at all.
 */
function exposedProbes(idx: MeshIndex): ReadonlyMap<Workload, readonly ExposedProbe[]> {
  return idx.cached('static', 'exposedProbes', findExposedProbes);
}

function findExposedProbes(idx: MeshIndex): ReadonlyMap<Workload, readonly ExposedProbe[]> {
  const out = new Map<Workload, ExposedProbe[]>();
  for (const w of idx.allWorkloads()) {
    if (w.mesh !== 'sidecar') continue;
    for (const p of w.probes) {
      if (p.type === 'tcp' || rewritten(idx, w, p)) continue;
      const cp = resolveTargetPort(w, p.port);
      if (cp === null || AGENT_PORTS.has(cp)) continue;
      pushInto(out, w, { p, cp });
    }
  }
  return out;
}

/** MG201: an HTTP or gRPC kubelet probe hits a port that becomes STRICT and is not rewritten. */
export const probeOnStrictPort: ConfigRule = {
  code: 'MG201',
  check(before, after, change) {
    const out = [];
    const exposed = exposedProbes(after);
    if (exposed.size === 0) return [];
    for (const w of workloadsTouchedBy(after, change.object)) {
      for (const { p, cp } of exposed.get(w) ?? []) {
        const now = modeAt(after, w, cp);
        if (now.mode !== 'STRICT' || modeAt(before, w, cp).mode === 'STRICT') continue;
        out.push(
          configFinding(
            'MG201',
            wlName(w),
            `the ${p.kind} ${p.type.toUpperCase()} probe of ${wlName(w)} (container ${p.container}, port ${cp}) would fail: ${now.source} makes the port STRICT and the kubelet sends plaintext`,
            `enable probe rewriting (pod annotation sidecar.istio.io/rewriteAppHTTPProbers: "true"), or keep port ${cp} PERMISSIVE with portLevelMtls`,
          ),
        );
      }
    }
    return out;
  },
};
