// Client classes against no classes at all: for every engine fixture, before and after its change,
// each client workload's outcome towards each Service port as `simulate` gives it (grouped by class,
// with shared DR views and stand-ins) equals the outcome of that workload judged alone, with its
// own namespace and labels (src/core/traffic/classes.ts).
import fc from 'fast-check';
import t from 'tap';
import { simulate } from '../../../src/core/evaluate.js';
import { sidecarScopeOf } from '../../../src/core/mesh/egress.js';
import { MeshIndex } from '../../../src/core/mesh/mesh-index.js';
import { isControlPlane } from '../../../src/core/mesh/membership.js';
import { serviceLabel, type Workload } from '../../../src/core/model/model.js';
import { selfCallers } from '../../../src/core/traffic/classes.js';
import { connectionOutcome, drFor, type ClientRep, type Outcome } from '../../../src/core/traffic/outcome.js';
import { buildIndex, changeObjects, loadCases } from '../../helpers/engine.js';
import type { TapTest } from '../../helpers/tap.js';
import { meshArb, meshToYaml } from '../../../tools/istio-oracle/generate.js';
import { parseManifests } from '../../../src/snapshot/manifests.js';
import { projectSnapshot } from '../../../src/snapshot/project.js';

const RANK = { '200': 0, '503': 1, '000': 2 } as const;
const line = (o: Outcome) => `${o.code} ${o.cause ?? '-'} ${o.tlsMode}: ${o.reason}`;

/** Every (workload, Service port) outcome, each workload judged on its own. */
function alone(idx: MeshIndex): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const w of idx.allWorkloads()) {
    if (isControlPlane(w.labels)) continue;
    const rep = repOf(idx, w);
    for (const svc of idx.allServices()) {
      for (const port of svc.ports) {
        // A DR view of its own: the workload's key, so nothing is shared with another workload.
        const dr = drFor(idx, `alone:${w.namespace}/${w.name}:${JSON.stringify(w.labels)}`, rep, svc, port);
        const o = connectionOutcome(idx, rep, dr, svc, port);
        if (!o) continue;
        const k = `${w.name}.${w.namespace} ${serviceLabel(svc)}:${port.port}`;
        const prev = out.get(k);
        // Two workloads of one name give one line, the worst, as simulate does.
        if (!prev || RANK[o.code] > RANK[prev.code]) out.set(k, o);
      }
    }
  }
  return out;
}

function repOf(idx: MeshIndex, w: Workload): ClientRep {
  const egress = w.mesh === 'sidecar' ? sidecarScopeOf(idx, w) : null;
  return {
    kind: w.mesh,
    namespace: w.namespace,
    labels: w.labels,
    outbound: w.outbound,
    egress,
    home: egress ? w.namespace : '',
    self: w.mesh === 'sidecar' && selfCallers(idx).has(w) ? w : null,
  };
}

function compare(t: TapTest, idx: MeshIndex, when: string): void {
  const want = alone(idx);
  const got = new Map(simulate(idx).map((c) => [`${c.client} ${c.service}:${c.port}`, c.outcome]));
  const differ: string[] = [];
  for (const [k, o] of want) {
    const g = got.get(k);
    if (!g || line(g) !== line(o)) differ.push(`${k}\n  grouped: ${g ? line(g) : 'none'}\n  alone:   ${line(o)}`);
  }
  t.same(differ, [], `${when}: ${want.size} connections, grouped as alone`);
}

for (const { file, cases } of loadCases('test/fixtures/core')) {
  t.test(file, async (t) => {
    for (const c of cases) {
      const idx = await buildIndex(c);
      compare(t, idx, `${c.rule}: before`);
      if (!c.change || c.delete) continue;
      let after = idx;
      for (const o of changeObjects(c)) after = after.apply({ operation: after.find(o) ? 'UPDATE' : 'CREATE', object: o });
      compare(t, after, `${c.rule}: after`);
    }
  });
}

/**
 * The oracle's random meshes (every Service kind, port protocol, capture annotation and policy
 * level tools/istio-oracle/generate.ts draws), whole and with each DestinationRule taken out:
 * small meshes where clients of many kinds sit side by side, so that a class that merges two
 * kinds shows.
 */
const RANDOM = { seed: 4242, meshes: Number(process.env['CLASSES_RANDOM_MESHES'] ?? 80) };
t.test(`${RANDOM.meshes} random meshes (seed ${RANDOM.seed})`, async (t) => {
  for (const [i, m] of fc.sample(meshArb(), { seed: RANDOM.seed, numRuns: RANDOM.meshes }).entries()) {
    const { data } = projectSnapshot(parseManifests(meshToYaml(m), `mesh-${i}.yaml`));
    const full = MeshIndex.build(data);
    compare(t, full, `mesh-${i}`);
    for (const object of data.destinationRules) compare(t, full.apply({ operation: 'DELETE', object }), `mesh-${i} without ${object.name}`);
  }
});
