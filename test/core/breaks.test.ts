// The grouped engine (server shapes, client signatures, reachable classes) against a per-workload
// reference: `simulate` before and after a change, compared connection by connection.
import t from 'tap';
import type { TapTest } from '../helpers/tap.js';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Change, Workload } from '../../src/core/model/model.js';
import { serviceLabel } from '../../src/core/model/model.js';
import type { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { MeshIndex as Index } from '../../src/core/mesh/mesh-index.js';
import { evaluateChange, prepare, simulate } from '../../src/core/evaluate.js';
import { breakingConnections, breakSets } from '../../src/core/change/breaks.js';
import { anyFinding, findingsOf } from '../../src/core/verdict/summaries.js';
import { representedAt } from '../../src/core/traffic/classes.js';
import { generateMesh } from '../../bench/engine/generate.js';
import { parseVersion } from '../../src/core/mesh/version.js';
import { fixtureChanges } from '../helpers/engine.js';
import { type GeneratedCase, generatedObject } from '../helpers/generated.js';
import fc from 'fast-check';
import { meshArb, meshToYaml } from '../../tools/istio-oracle/generate.js';
import { parseManifests } from '../../src/snapshot/manifests.js';
import { projectSnapshot } from '../../src/snapshot/project.js';

/**
 * Connections of workload clients that go from 200 to a failure, by simulating both sides, each
 * on an index built afresh (so that what `apply` shares between indexes is checked too), with
 * the code and cause they fail with.
 */
function reference(derivedBefore: MeshIndex, derivedAfter: MeshIndex): Map<string, string> {
  const before = Index.build(derivedBefore.snapshot());
  const after = Index.build(derivedAfter.snapshot());
  const clients = new Set(before.allWorkloads().map((w) => `${w.name}.${w.namespace}`));
  const was = new Map(
    simulate(before)
      .filter((c) => clients.has(c.client))
      .map((c) => [`${c.client} ${c.service}:${c.port}`, c.outcome.code]),
  );
  const out = new Map<string, string>();
  for (const c of simulate(after)) {
    const k = `${c.client} ${c.service}:${c.port}`;
    if (clients.has(c.client) && was.get(k) === '200' && c.outcome.code !== '200') out.set(k, `${c.outcome.code} ${c.outcome.cause}`);
  }
  return out;
}

/** The same, from the engine's breaks: every member a breaking class stands for, with its break's verdict. */
function grouped(before: MeshIndex, after: MeshIndex, change: Change): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of breakingConnections(before, after, change)) {
    const members: readonly Workload[] = b.workload ? [b.workload] : representedAt(after, b.cls, b.service).flatMap((c) => c.members);
    const verdict = `${b.nowVerdict.code} ${b.nowVerdict.cause}`;
    for (const w of members) out.set(`${w.name}.${w.namespace} ${serviceLabel(b.service)}:${b.port.port}`, verdict);
  }
  return out;
}

function compare(t: TapTest, before: MeshIndex, change: Change, name: string): void {
  const after = before.apply(change);
  const want = reference(before, after);
  const got = grouped(before, after, change);
  t.same(
    [...got.keys()].filter((k) => !want.has(k)),
    [],
    `${name}: no break the reference lacks`,
  );
  t.same(
    [...want.keys()].filter((k) => !got.has(k)),
    [],
    `${name}: every break of the reference (${want.size})`,
  );
  // A break set stands for its ports with one verdict: each must be its connection's own.
  t.same(
    [...got].filter(([k, v]) => want.has(k) && want.get(k) !== v).map(([k, v]) => `${k}: ${v}, not ${want.get(k)}`),
    [],
    `${name}: each break fails as its connection does`,
  );
  // Fixes are judged by `anyFinding`, the findings without their words: both must agree.
  const sets = breakSets(before, after, change);
  const fs = findingsOf(before, after, change, sets);
  t.equal(anyFinding(after, sets), fs.length > 0, `${name}: anyFinding as findingsOf`, { findings: fs.map((f) => f.message) });
}

t.test('every fixture change of test/fixtures/core', async (t) => {
  let n = 0;
  for await (const { name, idx, change } of fixtureChanges()) {
    compare(t, idx, change, name);
    n++;
  }
  t.ok(n > 50, `${n} changes compared`);
});

/**
 * Summaries against the breaks they stand for: each summary's count and targets are those of one
 * class's breaks with one outcome, in the order the engine found them.
 */
function checkSummaries(t: TapTest, before: MeshIndex, change: Change, name: string): number {
  const after = before.apply(change);
  const groups = new Map<string, { code: string; targets: string[] }>();
  for (const b of breakingConnections(before, after, change)) {
    if (b.workload) continue;
    const members = representedAt(after, b.cls, b.service).reduce((n, c) => n + c.members.length, 0);
    if (members === 0) continue;
    const k = `${b.cls.key} ${b.nowVerdict.key}`;
    const g = groups.get(k) ?? groups.set(k, { code: b.nowVerdict.cause ?? '', targets: [] }).get(k)!;
    g.targets.push(`${b.service.name}.${b.service.namespace}:${b.port.port}`);
  }
  let n = 0;
  for (const f of evaluateChange(before, change).findings) {
    if (!f.targets) continue;
    n++;
    const count = Number(/-> (\d+) service ports/.exec(f.message)?.[1]);
    const g = [...groups.values()].find((x) => x.code === f.code && x.targets.length === count && x.targets[0] === f.targets![0]);
    t.ok(g, `${name}: ${f.client} -> ${count} service ports matches one class's breaks`);
    if (g) t.same(f.targets.slice(0, 50), g.targets.slice(0, 50), `${name}: the summary's targets are its first breaks, in order`);
  }
  return n;
}

let summaries = 0;
const generated = parse(readFileSync('test/fixtures/breaks/generated.yaml', 'utf8')) as GeneratedCase[];
for (const g of generated) {
  t.test(`generated mesh seed ${g.mesh.seed}${g.version ? `, Istio ${g.version}` : ''}`, async (t) => {
    const data = generateMesh(g.mesh.seed, g.mesh);
    let idx = Index.build(g.version ? { ...data, version: parseVersion(g.version)! } : data);
    // As `serve` does: verdicts known up front, so that port-wide shortcuts are taken.
    prepare(idx);
    for (const c of g.changes) {
      const object = generatedObject(c, '');
      const change: Change = { operation: idx.find(object) ? 'UPDATE' : 'CREATE', object };
      compare(t, idx, change, `${c.kind} ${c.namespace}/${c.name}`);
      summaries += checkSummaries(t, idx, change, `${c.kind} ${c.namespace}/${c.name}`);
      const after = idx.apply(change);
      // The undoing too: what the object's removal breaks.
      compare(t, after, { operation: 'DELETE', object }, `DELETE ${c.kind} ${c.namespace}/${c.name}`);
      idx = after;
    }
  });
}

/**
 * The oracle's random meshes (tools/istio-oracle/generate.ts: every Service kind, port protocol,
 * capture annotation and policy level it draws): each PeerAuthentication and DestinationRule is
 * taken out and put back, and the grouped engine's breaks of both changes must be the reference's.
 * Small meshes with many kinds of client and server side by side: where a grouping shortcut that
 * merges two kinds would show.
 */
const RANDOM = { seed: 1729, meshes: Number(process.env['BREAKS_RANDOM_MESHES'] ?? 150) };
t.test(`${RANDOM.meshes} random meshes (seed ${RANDOM.seed}): every policy and rule taken out and put back`, async (t) => {
  let changes = 0;
  for (const [i, m] of fc.sample(meshArb(), { seed: RANDOM.seed, numRuns: RANDOM.meshes }).entries()) {
    const { data } = projectSnapshot(parseManifests(meshToYaml(m), `mesh-${i}.yaml`));
    const full = Index.build(data);
    prepare(full);
    for (const object of [...data.peerAuthentications, ...data.destinationRules]) {
      const without = full.apply({ operation: 'DELETE', object });
      compare(t, without, { operation: 'CREATE', object }, `mesh-${i}: CREATE ${object.kind} ${object.namespace}/${object.name}`);
      compare(t, full, { operation: 'DELETE', object }, `mesh-${i}: DELETE ${object.kind} ${object.namespace}/${object.name}`);
      changes += 2;
    }
  }
  t.ok(changes > RANDOM.meshes, `${changes} changes compared`);
});

t.test('summaries were checked', async (t) => {
  t.ok(summaries >= 5, `${summaries} summaries compared with their breaks`);
});
