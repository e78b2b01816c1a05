// Judging one change: its summary, each mode, the order of findings and the time budget
// (src/core/judge.ts, src/core/evaluate.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { describeChange, evaluateChange } from '../../src/core/evaluate.js';
import { judgeChange } from '../../src/core/judge.js';
import { BudgetExceededError } from '../../src/core/model/errors.js';
import type { Change, Evidence, Mode } from '../../src/core/model/model.js';
import { EVIDENCE_ORDER } from '../../src/core/model/model.js';
import { parseIstioObject } from '../../src/core/model/objects.js';
import { buildIndex, fixtureChanges } from '../helpers/engine.js';

const fx = parse(readFileSync('test/fixtures/core/units/judge.yaml', 'utf8')) as {
  summaries: [Change['operation'], unknown, string][];
  modes: { change: unknown; denyOn: Evidence; rows: { mode: Mode; evaluated: boolean; allowed: boolean }[] };
};
const index = () => buildIndex({ rule: 'judge', base: 'examples/mesh-current' });

t.test('describeChange', async (t) => {
  for (const [operation, o, want] of fx.summaries) t.equal(describeChange({ operation, object: parseIstioObject(o) }), want);
});

t.test('each mode', async (t) => {
  const idx = await index();
  const change: Change = { operation: 'CREATE', object: parseIstioObject(fx.modes.change) };
  for (const r of fx.modes.rows) {
    const j = judgeChange(idx, change, { denyOn: fx.modes.denyOn, defaultMode: 'enforce', mode: { mode: r.mode, source: 'test' } });
    t.same({ evaluated: j.evaluated, allowed: j.verdict.allowed }, { evaluated: r.evaluated, allowed: r.allowed }, r.mode);
    t.equal(j.summary, describeChange(change), `${r.mode}: the summary`);
    t.equal(j.object, 'PeerAuthentication foo/default', `${r.mode}: the object`);
    t.ok(j.after.find(change.object), `${r.mode}: the index after holds the change`);
    if (!r.evaluated) t.same([j.verdict.findings, j.verdict.wouldDeny, j.remedies.size], [[], [], 0], 'off: nothing judged');
    else t.ok(j.verdict.wouldDeny.length > 0, `${r.mode}: what enforce would deny is said`);
  }
  const j = judgeChange(idx, change, { denyOn: 'possible', defaultMode: 'warn' });
  t.equal(j.mode.mode, 'warn', 'without a mode, the namespace label or the default decides');
});

t.test('findings come strongest evidence first, then by code, client, service and port', async (t) => {
  const idx = await buildIndex({
    rule: 'order',
    base: 'examples/mesh-current',
    telemetry:
      'istio_requests_total{reporter="destination",source_workload="sleep",source_workload_namespace="legacy",destination_workload="httpbin",destination_workload_namespace="foo",destination_service="httpbin.foo.svc.cluster.local",connection_security_policy="none"} 12\n',
  });
  const change: Change = { operation: 'CREATE', object: parseIstioObject(fx.modes.change) };
  const fs = evaluateChange(idx, change).findings;
  t.ok(fs.length > 2, `${fs.length} findings`);
  const key = (f: (typeof fs)[number]) => [EVIDENCE_ORDER.indexOf(f.evidence), f.code, f.client, f.service, f.port ?? 0] as const;
  for (let i = 1; i < fs.length; i++) {
    const [a, b] = [key(fs[i - 1]!), key(fs[i]!)];
    const order = a[0] - b[0] || a[1].localeCompare(b[1]) || a[2].localeCompare(b[2]) || a[3].localeCompare(b[3]) || a[4] - b[4];
    t.ok(order <= 0, `${fs[i - 1]!.message} before ${fs[i]!.message}`);
  }
  t.equal(fs[0]!.evidence, 'observed', 'the observed break first');
});

t.test('every fix proposed on the fixture changes creates what the mesh lacks and updates what it has', async (t) => {
  const seen = { CREATE: 0, UPDATE: 0 };
  for await (const { name, idx, change } of fixtureChanges()) {
    const ev = evaluateChange(idx, change);
    for (const { proposed } of ev.remedies.values())
      for (const r of proposed) {
        if (r.change.kind !== 'object') continue;
        seen[r.change.operation]++;
        const has = ev.after.find(r.change.object) !== undefined;
        if (has !== (r.change.operation === 'UPDATE')) t.fail(`${name}: ${r.change.operation} ${r.says}`);
      }
  }
  t.ok(seen.CREATE > 20 && seen.UPDATE > 5, `fixes proposed: ${seen.CREATE} creations and ${seen.UPDATE} updates`);
});

t.test('every fixture change that breaks a connection asks for time before it is done', async (t) => {
  // Policies by service, namespace and mesh policies by bucket, and DestinationRules each have
  // their own walk; each must stop when the budget is spent.
  let breaking = 0;
  for await (const { name, idx, change } of fixtureChanges()) {
    if (!evaluateChange(idx, change).findings.some((f) => f.port !== null)) continue;
    breaking++;
    t.throws(() => evaluateChange(idx, change, () => true), BudgetExceededError, name);
  }
  t.ok(breaking > 50, `${breaking} breaking changes`);
});

t.test('a change out of time stops with BudgetExceededError', async (t) => {
  const idx = await index();
  const change: Change = { operation: 'CREATE', object: parseIstioObject(fx.modes.change) };
  t.throws(() => evaluateChange(idx, change, () => true), BudgetExceededError);
  t.throws(() => judgeChange(idx, change, { denyOn: 'possible', defaultMode: 'enforce', overBudget: () => true }), { code: 'E_BUDGET' });
  // Fixes out of time are fixes not tried, never a judgement lost.
  const j = judgeChange(idx, change, { denyOn: 'possible', defaultMode: 'enforce', fixBudget: () => true });
  t.ok(j.verdict.findings.length > 0, 'judged without fixes');
  t.ok(
    j.verdict.findings.every((f) => /not tried/.test(f.fix) || f.fix === ''),
    'each finding says its fixes were not tried',
    { fixes: j.verdict.findings.map((f) => f.fix) },
  );
});
