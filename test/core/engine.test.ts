// Table-driven engine tests: every case in test/fixtures/core names the Istio rule it proves.
import t from 'tap';
import { simulate } from '../../src/core/evaluate.js';
import { judge } from '../../src/cli/check.js';
import { buildIndex, changeObjects, loadCases } from '../helpers/engine.js';

/** True when a finding has every field of `want`: strings as substrings, other values equal. */
function hasFields(f: object, want: Record<string, unknown>): boolean {
  const got = f as Record<string, unknown>;
  return Object.entries(want).every(([k, v]) =>
    typeof v === 'string' ? String(got[k] ?? '').includes(v) : JSON.stringify(got[k]) === JSON.stringify(v),
  );
}

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
          // A wanted finding is one that has every field it names (strings as substrings); the
          // closest one with its code is shown when none has.
          for (const want of e.findings ?? []) {
            const hit = verdict.findings.find((f) => hasFields(f, want));
            if (hit) t.pass(`finding ${JSON.stringify(want)}`);
            else
              t.match(
                verdict.findings.find((f) => f.code === want['code']),
                want,
                `finding ${JSON.stringify(want)}`,
              );
          }
          for (const not of c.absent ?? []) {
            const hit = verdict.findings.find((f) => hasFields(f, not));
            t.notOk(hit, `no finding like ${JSON.stringify(not)}`, { found: hit });
          }
        }
      });
    }
  });
}
