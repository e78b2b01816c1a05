// The oracle's batch mode (tools/istio-oracle/batch.go, oracle.ts OracleSession): many meshes in one
// process, each with its own fake discovery server, answer as each would alone.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OracleMeshError, OracleSession, runOracleBatch, runOracleReport } from '../../tools/istio-oracle/oracle.js';

const root = join(import.meta.dirname, '..', '..');
const meshCurrent = readdirSync(join(root, 'examples', 'mesh-current'))
  .sort()
  .map((f) => readFileSync(join(root, 'examples', 'mesh-current', f), 'utf8'))
  .join('\n---\n');
const strictFoo = `${meshCurrent}\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: foo}\nspec: {mtls: {mode: STRICT}}\n`;
const edgeCases = readFileSync(join(root, 'tools', 'istio-oracle', 'testdata', 'edge-cases.yaml'), 'utf8');

t.test('a batch answers each mesh as a run of its own would, and goes on past a broken one', async (t) => {
  const [alone, aloneStrict, aloneEdge] = await Promise.all([
    runOracleReport(meshCurrent),
    runOracleReport(strictFoo),
    runOracleReport(edgeCases),
  ]);
  // STRICT first: a server left over from it would refuse the plaintext calls of the next mesh.
  const batch = await runOracleBatch([
    { id: 'strict', yaml: strictFoo },
    { id: 'broken', yaml: 'kind: [\n' },
    { id: 'plain', yaml: meshCurrent },
    { id: 'edge', yaml: edgeCases },
  ]);
  t.same([...batch.keys()], ['strict', 'broken', 'plain', 'edge'], 'one answer per mesh, by id');
  const outcomes = (id: string) => {
    const r = batch.get(id);
    return r instanceof OracleMeshError ? r : r?.outcomes;
  };
  t.same(outcomes('plain'), alone.outcomes, 'the plain mesh, after a STRICT one, as alone');
  t.same(outcomes('strict'), aloneStrict.outcomes, 'the STRICT mesh as alone');
  t.same(outcomes('edge'), aloneEdge.outcomes, 'the edge cases as alone');
  t.not(
    aloneStrict.outcomes.filter((o) => o.code !== '200').length,
    alone.outcomes.filter((o) => o.code !== '200').length,
    'STRICT changes outcomes',
  );
  const broken = batch.get('broken');
  t.ok(broken instanceof OracleMeshError, 'a mesh the oracle cannot read is an error of its own');
  t.match(broken instanceof Error ? broken.message : '', /mesh broken: .*YAML/, 'which names the mesh and the reason');
});

t.test('a session judges meshes one at a time, as a shrinking run needs', async (t) => {
  const s = await OracleSession.start();
  try {
    const first = await s.judge({ id: 'a', yaml: meshCurrent });
    const second = await s.judge({ id: 'b', yaml: strictFoo });
    t.ok(first.outcomes.length > 0 && second.outcomes.length === first.outcomes.length, 'both answered, pair for pair');
    t.ok(first.ms >= 0 && typeof first.istio === 'string' && first.istio.length > 0, 'with the time taken and the Istio module');
    const pending = s.judge({ id: 'c', yaml: meshCurrent });
    await t.rejects(s.judge({ id: 'c', yaml: meshCurrent }), /already being judged/, 'an id is judged once at a time');
    await pending;
  } finally {
    await s.close();
  }
  await t.rejects(s.judge({ id: 'd', yaml: meshCurrent }), /exited/, 'a closed session judges nothing more');
});
