// The engine fixtures that state what Istio does on a mesh of their own (test/fixtures/core/oracle-found.yaml:
// no base folder, no Istio version of their own) are checked against Istio's control plane too: every
// `simulate` line's code must be the oracle's. test/core/engine.test.ts checks the same lines against the
// engine, so each such case is a point where both agree. A case marked `oracle: <class>` shows a documented
// difference (tools/istio-oracle/differences.ts): there the oracle must still answer otherwise.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { EngineCase } from '../helpers/engine.js';
import { OracleSession } from '../../tools/istio-oracle/oracle.js';
import { pairKey } from '../../tools/istio-oracle/differential.js';
import { DIFFERENCES } from '../../tools/istio-oracle/differences.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'core', 'oracle-found.yaml');
const LINE = /^(\S+) to (\S+):(\d+): (\d{3})$/;

const cases = (parse(readFileSync(FIXTURES, 'utf8')) as EngineCase[]).filter((c) => !c.base && !c.version && c.add && c.simulate);

let session: OracleSession;
t.before(async () => {
  session = await OracleSession.start();
});
t.teardown(async () => {
  await session?.close();
});

t.test('oracle-found.yaml has self-contained cases to check', async (t) => {
  t.ok(cases.length >= 6, `${cases.length} cases`);
});

for (const [i, c] of cases.entries()) {
  t.test(c.rule, async (t) => {
    const documented = c.oracle ? DIFFERENCES.find((d) => d.id === c.oracle) : undefined;
    if (c.oracle) t.ok(documented && documented.verdict !== 'engine-bug', `${c.oracle} is a documented difference`);
    const report = await session.judge({ id: `fixture-${i}`, yaml: c.add! });
    for (const line of c.simulate!) {
      const m = LINE.exec(line);
      if (!t.ok(m, `a simulate line the oracle can check: ${line}`) || !m) continue;
      const key = pairKey({ client: m[1]!, service: m[2]!, port: Number(m[3]) });
      const got = report.outcomes.find((o) => pairKey(o) === key);
      if (documented) t.not(got?.code, m[4], `the oracle still differs (${documented.id}): ${line}`, { detail: got?.detail });
      else t.equal(got?.code, m[4], `oracle: ${line}`, { detail: got?.detail });
    }
  });
}
