// How findings name their clients and ports (src/core/verdict/summaries.ts), as invariants over
// the generated meshes of test/fixtures/breaks/generated.yaml: a finding for several workloads
// counts them in its client and lists at most 50 names, then how many more; a summary for many
// service ports counts them in its message, lists at most 50, and gives the first three as
// examples.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { generateMesh } from '../../../bench/engine/generate.js';
import { evaluateChange, prepare } from '../../../src/core/evaluate.js';
import { MeshIndex } from '../../../src/core/mesh/mesh-index.js';
import { parseVersion } from '../../../src/core/mesh/version.js';
import type { RawFinding } from '../../../src/core/model/findings.js';
import type { Change } from '../../../src/core/model/model.js';
import { type GeneratedCase, generatedObject } from '../../helpers/generated.js';
import type { TapTest } from '../../helpers/tap.js';
import { matchesGolden } from '../../helpers/golden.js';

const MAX_NAMES = 50;

/** The names a list of at most 50 gives, then `and N more`: the total it stands for. */
function listed(t: TapTest, list: readonly string[], what: string): number {
  const more = /^and (\d+) more$/.exec(list[list.length - 1] ?? '');
  if (!more) {
    t.ok(list.length <= MAX_NAMES, `${what}: at most ${MAX_NAMES} named`);
    return list.length;
  }
  t.equal(list.length, MAX_NAMES + 1, `${what}: ${MAX_NAMES} named, then how many more`);
  return MAX_NAMES + Number(more[1]);
}

function check(t: TapTest, f: RawFinding, where: string): void {
  const many = /^(\d+) workloads (?:without a sidecar|with a sidecar|in ambient mode) in (?:(\d+) namespaces|[a-z0-9-]+)$/.exec(f.client);
  if (many && f.clients) t.equal(listed(t, f.clients, `${where} ${f.client}: clients`), Number(many[1]), `${where}: the clients add up`);
  if (!f.targets) return;
  const m = /-> (\d+) service ports, e\.g\. (.*) \(/.exec(f.message);
  t.ok(m, `${where}: a summary says how many service ports`, { message: f.message });
  if (!m) return;
  t.equal(listed(t, f.targets, `${where} targets`), Number(m[1]), `${where}: the targets add up`);
  t.equal(m[2], f.targets.slice(0, 3).join(', '), `${where}: the examples are the first three`);
}

/** A finding as the golden pins it: who, where, how it is worded, whom and what it lists. */
function line(f: RawFinding): string {
  const list = (l: readonly string[] | undefined) => (l ? ` [${l.length}: ${[...l.slice(0, 4), ...l.slice(-1)].join(' ')}]` : '');
  return `${f.evidence} ${f.code} ${f.message}${list(f.clients)}${list(f.targets)} | ${f.evidenceDetail ?? ''}`;
}

const GOLDEN = 'test/fixtures/verdict/summaries.txt';
const golden: string[] = [];
const cases = parse(readFileSync('test/fixtures/breaks/generated.yaml', 'utf8')) as GeneratedCase[];
for (const g of cases) {
  t.test(`generated mesh seed ${g.mesh.seed}${g.version ? `, Istio ${g.version}` : ''}`, async (t) => {
    const data = generateMesh(g.mesh.seed, g.mesh);
    let idx = MeshIndex.build(g.version ? { ...data, version: parseVersion(g.version)! } : data);
    prepare(idx);
    let summaries = 0;
    for (const c of g.changes) {
      const object = generatedObject(c, '');
      const change: Change = { operation: idx.find(object) ? 'UPDATE' : 'CREATE', object };
      golden.push(`# seed ${g.mesh.seed}${g.version ? ` ${g.version}` : ''}: ${c.kind} ${c.namespace}/${c.name}`);
      for (const f of evaluateChange(idx, change).findings) {
        golden.push(line(f));
        check(t, f, `${c.kind} ${c.namespace}/${c.name}`);
        if (f.targets) summaries++;
      }
      idx = idx.apply(change);
    }
    t.comment(`${summaries} summaries`);
  });
}

// The same findings word for word: which clients a summary names first, how many namespaces it
// counts, which ports it gives as examples. MTLS_GUARD_UPDATE_WORDING=1 writes the golden anew.
t.test('the findings of the generated meshes, as worded', async (t) => {
  matchesGolden(t, GOLDEN, `${golden.join('\n')}\n`, 'the generated meshes');
  t.ok(golden.length > 10, 'the golden holds findings');
});
