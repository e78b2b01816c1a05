// Readiness and plans over YAML cases; every plan is then applied step by step with check. The
// whole plan as `mtls-guard plan` prints it is pinned in test/fixtures/plan/plans.txt: after a
// deliberate change, write it again with MTLS_GUARD_UPDATE_WORDING=1 and review the diff.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { makePlan, type ChangeStep, type Plan, type Step } from '../../../src/core/plan/plan.js';
import { scopeName } from '../../../src/core/plan/readiness.js';
import { planText } from '../../../src/cli/plan.js';
import { judgeChange } from '../../../src/core/judge.js';
import type { MeshIndex } from '../../../src/core/mesh/mesh-index.js';
import type { Evidence } from '../../../src/core/model/model.js';
import { buildIndex, type EngineCase } from '../../helpers/engine.js';
import type { TapTest } from '../../helpers/tap.js';
import { matchesGolden } from '../../helpers/golden.js';

interface PlanCase extends EngineCase {
  lines: string[];
  complete: boolean;
  steps?: string[];
  absentSteps?: string[];
  blocked?: string[];
}

const cases = parse(readFileSync('test/fixtures/plan/plans.yaml', 'utf8')) as PlanCase[];
const GOLDEN = 'test/fixtures/plan/plans.txt';
/** Each case's printed plan, in the order of the cases, for the golden file. */
const printed: string[] = [];

function stepLine(s: Step): string {
  return `[${s.kind}] ${s.scope}: ${s.says}${s.kind === 'person' && s.then ? (s.verified ? ' (verified)' : ' (not verified)') : ''}`;
}

/** Applies a plan's change steps one by one: each must be allowed on top of the ones before. */
function applySteps(t: TapTest, idx: MeshIndex, plan: Plan, denyOn: Evidence): MeshIndex {
  let cur = idx;
  for (const s of plan.steps) {
    if (s.kind === 'person') continue;
    const j = judgeChange(cur, s.change, { denyOn, defaultMode: 'enforce', mode: { mode: 'enforce', source: 'test' } });
    t.ok(j.verdict.allowed, `check allows: ${s.says}`, { denied: j.verdict.wouldDeny.map((f) => f.message) });
    cur = j.after;
  }
  return cur;
}

for (const c of cases) {
  t.test(c.rule, async (t) => {
    const idx = await buildIndex(c);
    const denyOn = c.denyOn ?? 'declared';
    const plan = makePlan(idx, { denyOn });
    printed.push(`## ${c.rule}\n${planText(plan, denyOn)}`);
    const lines = [
      ...plan.namespaces.map((r) => `${scopeName(r.scope)}: ${r.ready ? 'ready' : `blocked by ${r.blocking.length} connection(s)`}`),
      `mesh: ${plan.mesh.ready ? 'ready' : 'blocked'}`,
    ];
    for (const want of c.lines)
      t.ok(
        lines.some((l) => l.startsWith(want)),
        `readiness ${want}`,
        { lines },
      );
    t.equal(plan.complete, c.complete, `complete=${c.complete}`, { blocked: plan.blocked.map((b) => b.scope) });
    const steps = plan.steps.map(stepLine);
    for (const want of c.steps ?? [])
      t.ok(
        steps.some((s) => s.startsWith(want)),
        `step ${want}`,
        { steps },
      );
    for (const not of c.absentSteps ?? [])
      t.notOk(
        steps.some((s) => s.startsWith(not)),
        `no step ${not}`,
      );
    if (c.blocked)
      t.same(
        plan.blocked.map((b) => b.scope),
        c.blocked,
        'blocked scopes',
      );
    const last = [...plan.steps].reverse().find((s) => s.kind !== 'person');
    if (c.complete) t.equal(last?.scope, 'mesh', 'the last change step makes the mesh STRICT');
    applySteps(t, idx, plan, denyOn);
  });
}

t.test('every plan reads as plans.txt has it', async (t) => {
  matchesGolden(t, GOLDEN, printed.join('\n'), 'the plans');
});

t.test(
  'findings that name only the first 50 ports of a namespace: an exception for every Service of that namespace whose pods have a sidecar, and for no other',
  async (t) => {
    const { generateMesh } = await import('../../../bench/engine/generate.js');
    const { MeshIndex } = await import('../../../src/core/mesh/mesh-index.js');
    // 120 Services in two namespaces: at the weakest threshold each namespace has a summary finding.
    const idx = MeshIndex.build(generateMesh(1, { namespaces: 2, services: 120, pods: 240, noSidecar: 0.3 }));
    const plan = makePlan(idx, { denyOn: 'possible' });
    const summarised = plan.namespaces.filter((r) => r.blocking.some((f) => f.targets?.some((x) => x.startsWith('and '))));
    t.equal(summarised.length, 2, 'both namespaces have a finding that lists only some of its ports');
    t.ok(plan.complete, 'the plan reaches mesh-wide STRICT', { blocked: plan.blocked.map((b) => b.scope) });
    const prepared = plan.steps.filter((s): s is ChangeStep => s.kind === 'prepare');
    t.same(
      prepared.filter((s) => s.change.object.namespace !== s.scope).map((s) => s.says),
      [],
      "each exception is in its step's namespace",
    );
    const withSidecars = idx.allServices().filter((s) => idx.endpoints(s).some((w) => w.mesh === 'sidecar'));
    t.ok(withSidecars.length < 120, 'some Services have no sidecar in their pods');
    t.equal(prepared.length, withSidecars.length, 'one exception per Service whose pods have a sidecar, none for the others');
    applySteps(t, idx, plan, 'possible');
  },
);

t.test(
  'a generated 10,000-pod mesh: readiness for every namespace, and a plan to mesh-wide STRICT that check allows step by step',
  async (t) => {
    const { generateMesh, DEFAULT_SIZE } = await import('../../../bench/engine/generate.js');
    const { MeshIndex } = await import('../../../src/core/mesh/mesh-index.js');
    const idx = MeshIndex.build(generateMesh(1, DEFAULT_SIZE));
    // At the weakest threshold every possible caller blocks, so the plan has exceptions to make.
    const plan = makePlan(idx, { denyOn: 'possible' });
    t.equal(
      plan.namespaces.length,
      new Set(
        idx
          .allWorkloads()
          .map((w) => w.namespace)
          .filter((n) => n !== idx.root),
      ).size,
      'one readiness per namespace with workloads',
    );
    t.ok(
      plan.namespaces.some((r) => !r.ready),
      'some namespaces are blocked at first',
    );
    t.ok(plan.complete, 'the plan reaches mesh-wide STRICT', { blocked: plan.blocked.map((b) => b.scope) });
    t.ok(
      plan.steps.some((s) => s.kind === 'prepare'),
      'with exceptions first',
    );
    const final = applySteps(t, idx, plan, 'possible');
    const { readinessOf } = await import('../../../src/core/plan/readiness.js');
    t.ok(readinessOf(final, { kind: 'mesh' }, { denyOn: 'possible' }).already, 'the mesh is STRICT at the end');
  },
);
