// How a pod joins the mesh, now and once injected, and who is Istio's control plane, row by row (docs/semantics.md §6.1, §6.2).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { isControlPlane, type Membership, type PodShape, podMembership, predictMembership } from '../../../src/core/mesh/membership.js';
import type { Labels } from '../../../src/core/model/model.js';

interface MembershipRow {
  name: string;
  labels?: Labels;
  annotations?: Labels;
  containers?: string[];
  initContainers?: PodShape['initContainers'];
  hostNetwork?: boolean;
  namespace?: Labels;
  membership: Membership;
}
interface ControlPlaneRow {
  name: string;
  labels: Labels;
  controlPlane: boolean;
}
const table = parse(readFileSync('test/fixtures/core/units/membership.yaml', 'utf8')) as {
  podMembership: MembershipRow[];
  predictMembership: MembershipRow[];
  isControlPlane: ControlPlaneRow[];
};

const ROW_KEYS = new Set(['name', 'labels', 'annotations', 'containers', 'initContainers', 'hostNetwork', 'namespace', 'membership']);
/** Labels as Kubernetes has them: a YAML `true` left unquoted would silently test something else. */
function labels(where: string, l: Labels = {}): Labels {
  for (const [k, v] of Object.entries(l)) if (typeof v !== 'string') throw new Error(`${where}: ${k} is not a string`);
  return l;
}
/** The row's pod, with the parts it leaves out defaulted. */
function podOf(r: MembershipRow): PodShape {
  const unknown = Object.keys(r).filter((k) => !ROW_KEYS.has(k));
  if (unknown.length > 0) throw new Error(`${r.name}: unknown keys ${unknown.join(', ')}`);
  return {
    labels: labels(r.name, r.labels),
    annotations: labels(r.name, r.annotations),
    containers: (r.containers ?? ['app']).map((name) => ({ name })),
    initContainers: r.initContainers ?? [],
    hostNetwork: r.hostNetwork ?? false,
  };
}

for (const [section, membership] of [
  ['podMembership', podMembership],
  ['predictMembership', predictMembership],
] as const) {
  t.test(section, async (t) => {
    for (const r of table[section]) {
      t.test(r.name, async (t) => {
        // The whole object: strictSame also fails on a `tlsMode: undefined` where the row has none.
        t.strictSame(membership(podOf(r), labels(r.name, r.namespace)), r.membership);
      });
    }
  });
}

t.test('isControlPlane', async (t) => {
  for (const r of table.isControlPlane) {
    t.test(r.name, async (t) => {
      t.equal(isControlPlane(labels(r.name, r.labels)), r.controlPlane);
    });
  }
});
