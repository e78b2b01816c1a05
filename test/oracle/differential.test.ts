// Differential testing (issue 17): the engine's `simulate` against Istio's own control plane (the
// oracle, tools/istio-oracle) on a few hundred random meshes of a fixed seed, and on the minimal
// example of every known class of disagreement (tools/istio-oracle/testdata/disagreements).
//
// Every differing pair must belong to a class of tools/istio-oracle/differences.ts: a documented
// difference (the oracle cannot know what an application speaks) or a known engine bug, reported as
// TODO until the engine's owners fix it. A pair no class explains fails the test with the mesh,
// shrunk by fast-check, and both sides' reasons.
//
// The oracle binary is built (about 15 minutes, once) or reused by tools/build-oracle.sh.
//   ORACLE_TEST_MESHES   how many random meshes (default 400)
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIFFERENCES } from '../../tools/istio-oracle/differences.js';
import {
  codesOf,
  compareMany,
  compareWith,
  describeDiff,
  engineView,
  expectationsOf,
  generatorProblems,
  type MeshComparison,
  sampleMeshes,
  shrinkMesh,
  unexplained,
} from '../../tools/istio-oracle/differential.js';
import { ISTIOD_IMAGE, meshToYaml } from '../../tools/istio-oracle/generate.js';
import { OracleSession } from '../../tools/istio-oracle/oracle.js';

const SEED = 17;
const MESHES = Number(process.env['ORACLE_TEST_MESHES'] ?? 400);
const EXAMPLES = join(import.meta.dirname, '..', '..', 'tools', 'istio-oracle', 'testdata', 'disagreements');
/** How many failing meshes are shrunk, and for how long each, before the test reports them. */
const SHRINK = { meshes: 2, ms: 60_000 };

let session: OracleSession;

t.before(async () => {
  session = await OracleSession.start();
});

t.teardown(async () => {
  await session?.close();
});

t.test('the generated meshes run the Istio release the oracle computes with', async (t) => {
  const yaml = meshToYaml(sampleMeshes(SEED, 1)[0]!);
  const report = await session.judge({ id: 'version', yaml });
  const oracleRelease = report.notes.map((n) => /the oracle computes with this module's Istio \(([^)]+)\)/.exec(n)?.[1]).find(Boolean);
  t.equal(oracleRelease, ISTIOD_IMAGE.slice(ISTIOD_IMAGE.lastIndexOf(':') + 1), 'the istiod image tag is the oracle release');
  t.equal(engineView(yaml).data.versionSource, 'istiod', 'the engine reads its Istio version from that istiod');
});

t.test('each class of disagreement has a minimal example that still shows it', async (t) => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
  t.same(files.sort(), DIFFERENCES.map((c) => `${c.id}.yaml`).sort(), 'one example per class, and no example without a class');
  for (const cls of DIFFERENCES) {
    await t.test(cls.id, async (t) => {
      const yaml = readFileSync(join(EXAMPLES, `${cls.id}.yaml`), 'utf8');
      t.match(
        yaml,
        new RegExp(
          `^# Disagreement class: ${cls.id}\\. Verdict: \\(${{ 'engine-bug': 'a', 'version-drift': 'b', 'oracle-limitation': 'c' }[cls.verdict]}\\)`,
        ),
        'the header names the class and its verdict',
      );
      const expected = expectationsOf(yaml);
      t.ok(
        expected.some((x) => x.engine !== x.oracle),
        'the header expects at least one disagreement',
      );
      const engine = engineView(yaml, `${cls.id}.yaml`);
      const oracle = await session.judge({ id: `example-${cls.id}`, yaml });
      const c = compareWith(cls.id, yaml, engine, oracle);
      t.same(
        c.diffs.map((d) => d.cls?.id),
        c.diffs.map(() => cls.id),
        'every disagreement of the example is of its class',
      );
      for (const x of expected) {
        const got = codesOf(engine, oracle, x.key);
        t.equal(got.oracle, x.oracle, `oracle: ${x.key}`);
        if (cls.verdict === 'engine-bug' && x.engine !== x.oracle) {
          // Fixed in the engine, this passes: then the class and its example can go.
          t.equal(got.engine, x.oracle, `engine agrees with Istio on ${x.key}`, { todo: `engine bug ${cls.id}` });
        } else {
          t.equal(got.engine, x.engine, `engine: ${x.key}`);
        }
      }
    });
  }
});

t.test(`${MESHES} random meshes (seed ${SEED}): every disagreement is a known one`, async (t) => {
  const meshes = sampleMeshes(SEED, MESHES);
  const results: MeshComparison[] = [];
  const errors: string[] = [];
  await compareMany(
    session,
    meshes.map((m, i) => ({ id: `mesh-${i}`, yaml: () => meshToYaml(m) })),
    3,
    (r, id) => {
      if (r instanceof Error) errors.push(`${id}: ${r.message}`);
      else results.push(r);
    },
  );
  t.same(errors, [], 'both sides judge every mesh');
  const problems = results.flatMap((c) => generatorProblems(c.oracleNotes).map((n) => `${c.id}: ${n}`));
  t.same(problems, [], 'the oracle takes every generated object (the generator makes only valid, modelled input)');

  const pairs = results.reduce((n, c) => n + c.total, 0);
  const agree = results.reduce((n, c) => n + c.agree, 0);
  t.ok(pairs >= MESHES * 5, `the meshes have pairs to compare (${pairs} on ${results.length} meshes)`);
  t.comment(`agreement: ${agree}/${pairs} pairs on ${results.length} meshes`);

  const failing = results.filter((c) => unexplained(c).length > 0).sort((a, b) => Number(a.id.slice(5)) - Number(b.id.slice(5)));
  for (const c of failing.slice(0, SHRINK.meshes)) {
    const index = Number(c.id.slice('mesh-'.length));
    const shrunk = await shrinkMesh(session, SEED, index, (x) => unexplained(x).length > 0, SHRINK.ms);
    const show = shrunk?.comparison ?? c;
    // The mesh goes to a file and to the log as plain lines: a diagnostic would fold its YAML.
    const file = join(mkdtempSync(join(tmpdir(), 'mtls-guard-oracle-')), `${c.id}.yaml`);
    writeFileSync(file, show.yaml);
    t.fail(`${c.id}: ${unexplained(c).length} disagreements no class explains`, {
      diagnostic: true,
      disagreements: unexplained(show).map(describeDiff),
      mesh: `${file} (seed ${SEED}, run ${index}${shrunk ? `, shrunk in ${shrunk.runs} oracle runs` : ', not shrunk'})`,
    });
    t.comment(`${c.id}${shrunk ? ' (shrunk)' : ''}:\n${show.yaml}`);
  }
  t.equal(failing.length, 0, 'every disagreement is a documented difference or a known engine bug', {
    meshes: failing.map((c) => c.id),
  });

  // The known ones, by class: documented differences are listed, engine bugs are TODO assertions.
  for (const cls of DIFFERENCES) {
    const hits = results.flatMap((c) => c.diffs.filter((d) => d.cls === cls));
    if (hits.length === 0) continue;
    const meshesHit = results.filter((c) => c.diffs.some((d) => d.cls === cls)).length;
    const what = `${cls.id}: ${hits.length} pairs in ${meshesHit} meshes`;
    if (cls.verdict === 'engine-bug') t.equal(hits.length, 0, `engine agrees with Istio (${what})`, { todo: `engine bug ${cls.id}` });
    else t.comment(`documented difference (${cls.verdict}) ${what}`);
  }
});
