import type { ConfigRule } from './rule.js';
import type { Probe, Workload } from '../model.js';
import type { MeshIndex } from '../index.js';
import { resolveTargetPort } from '../endpoints.js';
import { atLeast } from '../version.js';
import { modeAt, wlName, workloadsTouchedBy } from './scope.js';
import { configFinding } from './config-finding.js';

/** Ports of the sidecar agent: probes already rewritten to them are unaffected by STRICT. */
const AGENT_PORTS = new Set([15020, 15021]);

function rewritten(idx: MeshIndex, w: Workload, p: Probe): boolean {
  const a = w.annotations['sidecar.istio.io/rewriteAppHTTPProbers'];
  const on = a === 'true' ? true : a === 'false' ? false : (idx.mesh.rewriteAppProbes ?? idx.features.probeRewriteDefault);
  // gRPC probes are only rewritten from 1.13.
  return on && (p.type !== 'grpc' || atLeast(idx.version, 1, 13));
}

/** MG201: an HTTP or gRPC kubelet probe hits a port that becomes STRICT and is not rewritten. */
export const probeOnStrictPort: ConfigRule = {
  code: 'MG201',
  check(before, after, change) {
    const out = [];
    for (const w of workloadsTouchedBy(after, change.object)) {
      if (w.mesh !== 'sidecar') continue;
      for (const p of w.probes) {
        if (p.type === 'tcp' || rewritten(after, w, p)) continue;
        const cp = resolveTargetPort(w, p.port);
        if (cp === null || AGENT_PORTS.has(cp)) continue;
        const now = modeAt(after, w, cp);
        if (now.mode !== 'STRICT' || modeAt(before, w, cp).mode === 'STRICT') continue;
        out.push(configFinding('MG201', wlName(w),
          `the ${p.kind} ${p.type.toUpperCase()} probe of ${wlName(w)} (container ${p.container}, port ${cp}) would fail: ${now.source} makes the port STRICT and the kubelet sends plaintext`,
          `enable probe rewriting (pod annotation sidecar.istio.io/rewriteAppHTTPProbers: "true"), or keep port ${cp} PERMISSIVE with portLevelMtls`));
      }
    }
    return out;
  },
};
