// The change that makes a scope STRICT, and how readiness sorts findings, row by row
// (src/core/plan/readiness.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import type { IstioObject } from '../../../src/core/model/model.js';
import { namespacesToJudge, readiness, readinessOf, strictChange, type Scope } from '../../../src/core/plan/readiness.js';
import { buildIndex } from '../../helpers/engine.js';

interface Row {
  name: string;
  version?: string;
  scope: string;
  policies?: string;
  want: { operation: string; kind: string; apiVersion: string; at: string; mode: string; targets?: number };
  already: boolean;
}
const fx = parse(readFileSync('test/fixtures/core/units/strict-change.yaml', 'utf8')) as {
  mesh: string;
  namespaces: string[];
  rows: Row[];
};

const scopeOf = (s: string): Scope => (s === 'mesh' ? { kind: 'mesh' } : { kind: 'namespace', namespace: s });

for (const row of fx.rows) {
  t.test(row.name, async (t) => {
    const add = row.policies ? `${fx.mesh}\n---\n${row.policies}` : fx.mesh;
    const idx = await buildIndex({ rule: row.name, add, ...(row.version ? { version: row.version } : {}) });
    const change = strictChange(idx, scopeOf(row.scope));
    const o = change.object as IstioObject & { mode: string; targets?: unknown[] };
    t.same(
      {
        operation: change.operation,
        kind: o.kind,
        apiVersion: o.apiVersion,
        at: o.namespace ? `${o.namespace}/${o.name}` : o.name,
        mode: o.mode,
        ...(o.targets ? { targets: o.targets.length } : {}),
      },
      row.want,
    );
    t.equal(readinessOf(idx, scopeOf(row.scope), { denyOn: 'declared' }).already, row.already, 'already');
  });
}

t.test('namespacesToJudge: every namespace with workloads but the root, sorted', async (t) => {
  const idx = await buildIndex({ rule: 'namespaces', add: fx.mesh });
  t.same(namespacesToJudge(idx), fx.namespaces);
});

t.test('readiness on the example mesh: findings that deny block, the others warn', async (t) => {
  const idx = await buildIndex({ rule: 'example', base: 'examples/mesh-current' });
  const r = readiness(idx, { denyOn: 'possible' });
  const all = [...r.namespaces, r.mesh];
  t.ok(
    all.some((x) => x.blocking.length > 0),
    'something blocks at the weakest threshold',
  );
  for (const x of all) {
    const where = x.scope.kind === 'mesh' ? 'mesh' : x.scope.namespace;
    t.equal(x.ready, x.blocking.length === 0, `${where}: ready when nothing blocks`);
    t.ok(
      x.blocking.every((f) => f.severity === 'deny'),
      `${where}: blocking findings deny`,
    );
    t.ok(
      x.warnings.every((f) => f.severity !== 'deny'),
      `${where}: warnings do not`,
    );
    t.equal(x.blocking.length + x.warnings.length, x.judgement.verdict.findings.length, `${where}: every finding is one or the other`);
  }
});
