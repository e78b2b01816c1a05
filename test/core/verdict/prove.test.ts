// Proving fixes, row by row (src/core/verdict/prove.ts): which remedies are tried, in which order,
// under which budget, and what a finding's fix says; placeholders resolved in the order shown.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import type { RawFinding } from '../../../src/core/model/findings.js';
import { BudgetExceededError } from '../../../src/core/model/errors.js';
import { parseIstioObject } from '../../../src/core/model/objects.js';
import type { MeshIndex } from '../../../src/core/mesh/mesh-index.js';
import type { Remedy } from '../../../src/core/rules/remedy.js';
import {
  clientsReach,
  enrolled,
  FIXES_NOT_TRIED,
  findingKey,
  installProver,
  NO_PROVEN_FIX,
  type Proof,
  Prover,
  proverOf,
  type Trial,
} from '../../../src/core/verdict/prove.js';
import { buildIndex, portAt, workloadAt } from '../../helpers/engine.js';

interface Behaviour {
  breaks?: boolean;
  clears?: boolean;
  throws?: 'budget' | 'budget-once';
}
interface Row {
  name: string;
  add?: string;
  options: string[][];
  budget?: number;
  text: string;
  tried: string[];
  drawn?: boolean;
}
const fx = parse(readFileSync('test/fixtures/core/units/prove.yaml', 'utf8')) as {
  remedies: Record<string, Behaviour>;
  fix: Row[];
};
const WORDS: Record<string, string> = { NO_PROVEN_FIX, FIXES_NOT_TRIED };

function objectRemedy(name: string): Remedy {
  const object = parseIstioObject({
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name, namespace: 'legacy' },
    spec: {},
  });
  return { says: name, change: { kind: 'object', operation: 'CREATE', object } };
}

/** A prover whose evaluator plays the fixture's remedies, recording the ones tried. */
function stubProver(after: MeshIndex, budget?: number) {
  const tried: string[] = [];
  // Each object trial answers with its own index, so that `clears` knows which remedy it sees.
  const trialOf = new WeakMap<object, string>();
  const prover = new Prover(
    after,
    (_idx, change) => {
      const name = change.object.name;
      tried.push(name);
      const b = fx.remedies[name]!;
      if (b.throws === 'budget' || (b.throws === 'budget-once' && tried.indexOf(name) === tried.length - 1)) {
        throw new BudgetExceededError();
      }
      const token = Object.create(after) as MeshIndex;
      trialOf.set(token, name);
      return { breaks: b.breaks === true, after: token };
    },
    budget === undefined ? undefined : () => tried.length >= budget,
  );
  const clears = (tr: Trial): boolean => {
    const name = trialOf.get(tr.idx);
    // An enrolment's trial is a real index: it clears when it enrolled someone.
    return name === undefined ? tr.moved.size > 0 : fx.remedies[name]!.clears === true;
  };
  return { prover, tried, clears };
}

for (const row of fx.fix) {
  t.test(row.name, async (t) => {
    const after = await buildIndex({ rule: row.name, base: 'examples/mesh-current', ...(row.add ? { add: row.add } : {}) });
    const sleep = workloadAt(after, 'legacy/sleep');
    const remedy = (name: string): Remedy =>
      name === 'enrol'
        ? { says: 'enrol legacy/sleep', change: { kind: 'enrol', workloads: [sleep], mesh: 'sidecar' } }
        : objectRemedy(name);
    const { prover, tried, clears } = stubProver(after, row.budget);
    let drawn = false;
    const proof = prover.fix(() => {
      drawn = true;
      return row.options.map((o) => o.map(remedy));
    }, clears);
    t.equal(proof.text, WORDS[row.text] ?? row.text, 'the fix says');
    t.same(tried, row.tried, 'remedies tried, in order');
    t.equal(drawn, row.drawn ?? true, 'options drawn');
    t.same(
      proof.proposed.map((r) => r.says),
      row.drawn === false ? [] : row.options.flat().map((n) => (n === 'enrol' ? 'enrol legacy/sleep' : n)),
      'proposed: every remedy of every option',
    );
    const said = proof.text === NO_PROVEN_FIX || proof.text === FIXES_NOT_TRIED ? [] : proof.text.split('; or ');
    t.same(
      proof.held.map((r) => r.says),
      said,
      'held: the remedies said',
    );
  });
}

t.test('an evaluator failure that is not the budget is not swallowed', async (t) => {
  const after = await buildIndex({ rule: 'throws', base: 'examples/mesh-current' });
  const prover = new Prover(after, () => {
    throw new Error('boom');
  });
  t.throws(
    () =>
      prover.fix(
        () => [[objectRemedy('good')]],
        () => true,
      ),
    /boom/,
  );
});

t.test('without an evaluator nothing is tried; installProver replaces the default', async (t) => {
  const after = await buildIndex({ rule: 'none', base: 'examples/mesh-current' });
  const sleep = workloadAt(after, 'legacy/sleep');
  const idle = proverOf(after);
  t.equal(proverOf(after), idle, 'one prover per index');
  const enrol: Remedy = { says: 'enrol', change: { kind: 'enrol', workloads: [sleep], mesh: 'ambient' } };
  t.equal(
    idle.fix(
      () => [[objectRemedy('good')], [enrol]],
      () => true,
    ).text,
    FIXES_NOT_TRIED,
  );
  const mine = new Prover(after, undefined);
  installProver(after, mine);
  t.equal(proverOf(after), idle, 'the first prover installed stays');
  const fresh = await buildIndex({ rule: 'fresh', base: 'examples/mesh-current' });
  installProver(fresh, mine);
  t.equal(proverOf(fresh), mine, 'an index without a prover takes the one installed');
});

t.test('placeholders are proven once, in the order the findings are shown', async (t) => {
  const after = await buildIndex({ rule: 'resolve', base: 'examples/mesh-current' });
  const prover = new Prover(after, undefined);
  const calls: string[] = [];
  const proof = (text: string, held: string[], proposed: string[]) => (): Proof => {
    calls.push(text);
    return { text, held: held.map(objectRemedy), proposed: proposed.map(objectRemedy) };
  };
  const first = prover.defer(proof('A', ['a'], ['a', 'b']));
  const second = prover.defer(proof('B', [], []));
  t.not(first, second);
  t.notMatch(first, /[a-z ]fix/, 'the placeholder is no word a finding could hold');
  const finding = (client: string, fix: string, port: number | null = 80): RawFinding => ({
    code: 'MG101',
    evidence: 'certain',
    client,
    service: 'httpbin.foo',
    port,
    before: '200',
    after: '000',
    message: 'm',
    reason: 'r',
    fix,
  });
  const plain = finding('plain', 'nothing deferred');
  const findings = [
    finding('late', `then ${second}`),
    finding('x', `try ${first}; also ${first}`),
    plain,
    finding('stray', 'a mark no proof made: \uE000fix7\uE000', null),
    finding('y', `again ${first}`, null),
  ];
  const { findings: out, held } = prover.resolve(findings);
  t.same(
    out.map((f) => f.fix),
    ['then B', 'try A; also A', 'nothing deferred', 'a mark no proof made: \uE000fix7\uE000', 'again A'],
  );
  t.same(calls, ['B', 'A'], 'each proof made once, in the order shown');
  t.equal(out[2], plain, 'a finding without a placeholder is kept as it is');
  t.same([...held.keys()], ['MG101|x|httpbin.foo|80', 'MG101|y|httpbin.foo|'], 'only findings with proposals');
  t.same(
    held.get('MG101|x|httpbin.foo|80')!.proposed.map((r) => r.says),
    ['a', 'b', 'a', 'b'],
    'each placeholder adds its proposals',
  );
  t.same(
    held.get('MG101|y|httpbin.foo|')!.held.map((r) => r.says),
    ['a'],
  );
  t.equal(findingKey({ code: 'MG104', client: 'c', service: 's', port: null }), 'MG104|c|s|');
});

t.test('a workload enrolled into each mesh', async (t) => {
  const after = await buildIndex({ rule: 'enrolled', base: 'examples/mesh-current' });
  const sleep = workloadAt(after, 'legacy/sleep');
  const side = enrolled(sleep, 'sidecar');
  t.match(side, { mesh: 'sidecar', predicted: true, name: 'sleep', namespace: 'legacy' });
  t.equal(side.labels['security.istio.io/tlsMode'], 'istio');
  t.equal(side.labels.app, sleep.labels.app, 'its own labels stay');
  t.match(side.meshSignal, /sidecar injected \(a fix\)/);
  const amb = enrolled(sleep, 'ambient');
  t.equal(amb.mesh, 'ambient');
  t.equal(amb.labels['istio.io/dataplane-mode'], 'ambient');
  t.equal(amb.predicted, sleep.predicted, 'an ambient label predicts no sidecar');
  t.match(amb.meshSignal, /dataplane-mode=ambient \(a fix\)/);
  t.equal(sleep.mesh, 'none', 'the workload itself is left as it was');
});

t.test('clients reach a port on a trial mesh', async (t) => {
  const after = await buildIndex({
    rule: 'reach',
    base: 'examples/mesh-current',
    add: 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: legacy}\nspec: {mtls: {mode: STRICT}}\n',
  });
  const sleep = workloadAt(after, 'legacy/sleep');
  const httpbin = workloadAt(after, 'legacy/httpbin');
  const moved = new Map([[sleep, enrolled(sleep, 'sidecar')]]);
  const trial: Trial = { idx: after.withWorkloads(moved), moved };
  const { svc, port } = portAt(trial.idx, 'legacy/sleep:80');
  t.notOk(clientsReach(trial, [], svc, port), 'callers outside the mesh are cut off by STRICT');
  t.ok(clientsReach(trial, [sleep], svc, port), 'the enrolled workload, as the trial has it, speaks mTLS');
  t.notOk(clientsReach(trial, [httpbin], svc, port), 'a plaintext member is cut off');
  t.notOk(clientsReach(trial, [sleep, httpbin], svc, port), 'one member cut off is enough');
  const open = portAt(trial.idx, 'foo/httpbin:8000');
  t.ok(clientsReach(trial, [], open.svc, open.port), 'callers outside the mesh reach a PERMISSIVE port');
});
