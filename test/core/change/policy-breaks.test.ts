// Where a policy change is judged, row by row (src/core/change/policy-breaks.ts): the Services it
// reaches, whether it takes the namespace-level path, and the port buckets of a namespace.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { portBuckets, servicesTouchedBy, shiftsBase } from '../../../src/core/change/policy-breaks.js';
import type { Change, DestinationRule, IstioObject } from '../../../src/core/model/model.js';
import { parseIstioObject } from '../../../src/core/model/objects.js';
import { serviceLabel } from '../../../src/core/model/model.js';
import { buildIndex } from '../../helpers/engine.js';

interface PolicyRow {
  kind: 'PeerAuthentication' | 'Policy' | 'MeshPolicy';
  name?: string;
  namespace: string;
  spec: Record<string, unknown>;
}
interface Row {
  name: string;
  version?: string;
  /** A policy already in the mesh, which `policy` replaces when it has the same name. */
  exists?: PolicyRow;
  /** A policy added to the mesh before the buckets are read. */
  add?: PolicyRow;
  policy?: PolicyRow;
  touched?: string[];
  shifts?: boolean;
  buckets?: Record<string, { ports: string[]; free: boolean }[]>;
}

const fx = parse(readFileSync('test/fixtures/core/units/policy-reach.yaml', 'utf8')) as { mesh: string; rows: Row[] };

const API: Record<PolicyRow['kind'], string> = {
  PeerAuthentication: 'security.istio.io/v1',
  Policy: 'authentication.istio.io/v1alpha1',
  MeshPolicy: 'authentication.istio.io/v1alpha1',
};

function manifest(p: PolicyRow): Record<string, unknown> {
  const metadata = { name: p.name ?? 'default', ...(p.kind === 'MeshPolicy' ? {} : { namespace: p.namespace }) };
  return { apiVersion: API[p.kind], kind: p.kind, metadata, spec: p.spec };
}

for (const row of fx.rows) {
  t.test(row.name, async (t) => {
    const extra = [row.exists, row.add].filter((p): p is PolicyRow => p !== undefined).map((p) => JSON.stringify(manifest(p)));
    const before = await buildIndex({
      rule: row.name,
      add: [fx.mesh, ...extra].join('\n---\n'),
      ...(row.version ? { version: row.version } : {}),
    });
    if (row.policy) {
      const object = parseIstioObject(manifest(row.policy)) as Exclude<IstioObject, DestinationRule>;
      const prev = before.find(object);
      const change: Change = { operation: prev ? 'UPDATE' : 'CREATE', object };
      const after = before.apply(change);
      if (row.touched) {
        const got = [...servicesTouchedBy(after, object)].map(serviceLabel);
        t.same(got.sort(), [...row.touched].sort(), 'servicesTouchedBy');
      }
      if (row.shifts !== undefined) t.equal(shiftsBase(after, change, prev), row.shifts, 'shiftsBase');
    }
    for (const [ns, want] of Object.entries(row.buckets ?? {})) {
      const got = portBuckets(before, ns).map((b) => ({ ports: b.at.map((r) => `${serviceLabel(r.svc)}:${r.port.port}`), free: b.free }));
      t.same(got, want, `portBuckets ${ns}`);
    }
  });
}
