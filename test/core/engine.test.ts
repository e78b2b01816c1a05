// Table-driven engine tests: every case in test/fixtures/core names the Istio rule it proves.
import t from 'tap';
import { simulate } from '../../src/core/evaluate.js';
import { judge } from '../../src/cli/check.js';
import { buildIndex, changeObjects, loadCases } from '../helpers/engine.js';

for (const { file, cases } of loadCases('test/fixtures/core')) {
  t.test(file, async (t) => {
    for (const c of cases) {
      await t.test(c.rule, async (t) => {
        const idx = await buildIndex(c);
        if (c.simulate) {
          const lines = new Set(simulate(idx).map((x) => `${x.client} to ${x.service}:${x.port}: ${x.outcome.code}`));
          for (const want of c.simulate)
            t.ok(lines.has(want), want, { found: [...lines].filter((l) => l.startsWith(want.split(':')[0]!)) });
        }
        if (c.simulateAbsent) {
          const lines = simulate(idx).map((x) => `${x.client} to ${x.service}:${x.port}: ${x.outcome.code}`);
          for (const not of c.simulateAbsent)
            t.notOk(
              lines.some((l) => l.startsWith(not)),
              `simulate prints no ${not}`,
            );
        }
        if (c.change) {
          const [v] = judge(idx, changeObjects(c), { delete: c.delete ?? false, mode: 'enforce', denyOn: c.denyOn ?? 'declared' }).slice(
            -1,
          );
          const verdict = v!.verdict;
          const e = c.expect ?? {};
          if (e.allowed !== undefined)
            t.equal(verdict.allowed, e.allowed, `allowed=${e.allowed}`, {
              findings: verdict.findings.map((f) => `${f.code} ${f.evidence} ${f.message}`),
            });
          if (e.codes)
            t.same([...new Set(verdict.findings.map((f) => f.code))].sort(), [...e.codes].sort(), `codes ${e.codes.join(',')}`, {
              findings: verdict.findings.map((f) => `${f.code} ${f.message}`),
            });
          if (e.noBreaks) t.equal(verdict.findings.filter((f) => f.port !== null).length, 0, 'no breaking connections');
          for (const want of e.findings ?? [])
            t.match(
              verdict.findings.find((f) => f.code === want['code'] && (!want['client'] || f.client === want['client'])),
              want,
              `finding ${JSON.stringify(want)}`,
            );
          for (const not of c.absent ?? []) {
            const hit = verdict.findings.find((f) =>
              Object.entries(not).every(([k, v]) => String((f as unknown as Record<string, unknown>)[k] ?? '').includes(String(v))),
            );
            t.notOk(hit, `no finding like ${JSON.stringify(not)}`, { found: hit });
          }
        }
      });
    }
  });
}
