// Which workloads an object can change the inbound mode of, and the Service port behind a
// container port, row by row (src/core/rules/scope.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, stringify } from 'yaml';
import type { MeshIndex } from '../../../src/core/mesh/mesh-index.js';
import { serviceLabel } from '../../../src/core/model/model.js';
import { parseIstioObject } from '../../../src/core/model/objects.js';
import { modeAt, servicePortFor, wlName, workloadsTouchedBy } from '../../../src/core/rules/scope.js';
import { buildIndex } from '../../helpers/engine.js';

interface Row {
  name: string;
  version?: string;
  object: Record<string, unknown>;
  touched: string[];
}
const fx = parse(readFileSync('test/fixtures/core/units/scope.yaml', 'utf8')) as {
  rows: Row[];
  ports: { name: string; version?: string; add?: string; checks: [string, number, string | null, string][] }[];
};

for (const r of fx.rows) {
  t.test(r.name, async (t) => {
    // The object is in the snapshot, as it is when a check judges an update of it.
    const idx = await buildIndex({
      rule: r.name,
      base: r.version ? 'examples/mesh-1.4' : 'examples/mesh-current',
      add: stringify(r.object),
      ...(r.version ? { version: r.version } : {}),
    });
    t.same(workloadsTouchedBy(idx, parseIstioObject(r.object)).map(wlName).sort(), r.touched);
  });
}

for (const r of fx.ports) {
  t.test(`servicePortFor and modeAt: ${r.name}`, async (t) => {
    const idx = await buildIndex({
      rule: r.name,
      base: r.version ? 'examples/mesh-1.4' : 'examples/mesh-current',
      ...(r.add ? { add: r.add } : {}),
      ...(r.version ? { version: r.version } : {}),
    });
    const at = (ref: string) => idx.allWorkloads().find((w) => wlName(w) === ref)!;
    for (const [w, cp, want, mode] of r.checks) {
      const sp = servicePortFor(idx as MeshIndex, at(w), cp);
      t.equal(sp ? `${serviceLabel(sp.svc)}:${sp.port.port}` : null, want, `${w} port ${cp}`);
      t.equal(modeAt(idx, at(w), cp).mode, mode, `${w} port ${cp}: mode`);
    }
  });
}
