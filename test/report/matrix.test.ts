// The report's traffic matrix against `simulate`, on generated meshes with changes in series
// (test/fixtures/report/generated.yaml) and on a sample of the 10,000-pod mesh; the namespace
// matrix against the totals, and its cut of large axes.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_SIZE, generateMesh } from '../../bench/engine/generate.js';
import { simulate, simulateSize } from '../../src/core/evaluate.js';
import { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { parseVersion } from '../../src/core/mesh/version.js';
import type { Change } from '../../src/core/model/model.js';
import { buildMatrix, cellAt, connectionTotals, type TrafficMatrix } from '../../src/report/matrix.js';
import { namespaceOrder, naturalCompare, summarizeNamespaces } from '../../src/report/namespaces.js';
import { sameAsSimulate } from '../helpers/report.js';
import { type GeneratedCase, generatedObject } from '../helpers/generated.js';
import type { TapTest } from '../helpers/tap.js';

/** The namespace matrix sums to the matrix's totals, and each pair's counts add up. */
function checkNamespaces(t: TapTest, m: TrafficMatrix, what: string): void {
  const ns = summarizeNamespaces(m);
  const totals = connectionTotals(m);
  const pairs = ns.pairs.flat();
  t.equal(ns.hidden.clients + ns.hidden.services, 0, `${what}: no namespace is cut`);
  t.equal(
    pairs.reduce((n, p) => n + p.total, 0),
    (totals.after ?? totals.before).total,
    `${what}: the pairs hold every connection`,
  );
  t.equal(
    pairs.reduce((n, p) => n + p.changed, 0),
    totals.changed,
    `${what}: the pairs hold every changed connection`,
  );
  t.ok(
    pairs.every((p) => p.counts['200'] + p.counts['503'] + p.counts['000'] === p.total),
    `${what}: each pair's counts add up to its total`,
  );
}

const cases = parse(readFileSync('test/fixtures/report/generated.yaml', 'utf8')) as GeneratedCase[];
for (const g of cases) {
  t.test(`generated mesh seed ${g.mesh.seed}${g.version ? `, Istio ${g.version}` : ''}: every cell is simulate's`, async (t) => {
    const data = generateMesh(g.mesh.seed, g.mesh);
    let idx = MeshIndex.build(g.version ? { ...data, version: parseVersion(g.version)! } : data);
    for (const c of g.changes) {
      const object = generatedObject(c, '2024-06-01T00:00:00Z');
      const change: Change = { operation: idx.find(object) ? 'UPDATE' : 'CREATE', object };
      const after = idx.apply(change);
      const m = buildMatrix(idx, after);
      const what = `${c.kind} ${c.namespace}/${c.name}`;
      sameAsSimulate(t, m, m.before, idx, `${what}, before`);
      sameAsSimulate(t, m, m.after!, after, `${what}, after`);
      checkNamespaces(t, m, what);
      idx = after;
    }
  });
}

t.test('the 10,000-pod mesh: one row of outcomes per client class, and one namespace of clients as simulate gives it', async (t) => {
  const idx = MeshIndex.build(generateMesh(1, DEFAULT_SIZE));
  const m = buildMatrix(idx);
  t.equal(connectionTotals(m).before.total, simulateSize(idx), 'as many connections as simulate would compute');
  t.ok(m.before.rows.length < 100, `a few dozen rows of outcomes stand for ${m.clients.length} clients (${m.before.rows.length})`);
  const ns = 'ns-4';
  const sample = simulate(idx, { client: (c) => c.endsWith(`.${ns}`) });
  const col = new Map(m.columns.map((c, j) => [`${c.service}:${c.port}`, j]));
  const row = new Map(m.clients.map((c, i) => [c.id, i]));
  const differ = sample.filter((c) => {
    const o = cellAt(m, m.before, row.get(c.client)!, col.get(`${c.service}:${c.port}`)!);
    return o?.code !== c.outcome.code || o.reason !== c.outcome.reason;
  });
  t.ok(sample.length > 10000, `simulate gives ${sample.length} connections from ${ns}`);
  t.same(
    differ.slice(0, 5).map((c) => `${c.client} -> ${c.service}:${c.port}`),
    [],
    `every connection from ${ns} is the matrix's cell`,
  );
  const summary = summarizeNamespaces(m);
  t.equal(summary.clientNamespaces.length, 200, 'one row per client namespace');
  const cut = summarizeNamespaces(m, 50);
  t.equal(cut.clientNamespaces.length, 50, 'a cut axis keeps its maximum');
  t.equal(cut.hidden.clients, 150, 'and says how many it left out');
  const failing = summary.pairs.map((r) => r.reduce((n, p) => n + p.total - p.counts['200'], 0));
  const kept = Math.min(...summary.clientNamespaces.flatMap((n, i) => (cut.clientNamespaces.includes(n) ? [failing[i]!] : [])));
  const leftOut = summary.clientNamespaces.flatMap((n, i) => (cut.clientNamespaces.includes(n) ? [] : [failing[i]!]));
  t.ok(Math.max(...leftOut) <= kept, 'the namespaces left out have no more failing connections than those kept');
});

t.test('namespaces in display order: numbers by value, callers from outside the mesh last', async (t) => {
  t.same(namespaceOrder(['ns-10', '(outside the mesh)', 'ns-2', 'bar', 'ns-1', 'ns-2']), [
    'bar',
    'ns-1',
    'ns-2',
    'ns-10',
    '(outside the mesh)',
  ]);
  t.ok(naturalCompare('a9', 'a10') < 0 && naturalCompare('a10', 'a9') > 0, '9 before 10');
  t.ok(naturalCompare('b', 'a10') > 0, 'letters by code point');
  t.equal(naturalCompare('x-1', 'x-1'), 0, 'equal names');
});
