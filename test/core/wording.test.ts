// What users read, pinned: for every case of test/fixtures/core, the distinct reasons `simulate`
// gives (with the code and the TLS the client used) and, for a change, every finding's message,
// reason, fix and what its evidence rests on. engine.test.ts checks codes and chosen fields; this
// checks the words, so that a reason that stops naming the policy, the rule or the annotation
// that decides is seen.
//
// The expected text is in test/fixtures/core/wording/<file>.txt. After a deliberate change of
// wording, write it again with MTLS_GUARD_UPDATE_WORDING=1 and review the diff.
import t from 'tap';
import { join } from 'node:path';
import { simulate } from '../../src/core/evaluate.js';
import { judge } from '../../src/cli/check.js';
import { buildIndex, changeObjects, loadCases, ROOT } from '../helpers/engine.js';
import { matchesGolden } from '../helpers/golden.js';

const DIR = join(ROOT, 'test', 'fixtures', 'core', 'wording');

for (const { file, cases } of loadCases('test/fixtures/core')) {
  t.test(file, async (t) => {
    const lines: string[] = [];
    for (const c of cases) {
      lines.push(`## ${c.rule}`);
      const idx = await buildIndex(c);
      const said = new Set(simulate(idx).map((x) => `${x.outcome.code} ${x.outcome.tlsMode}: ${x.outcome.reason}`));
      lines.push(...[...said].sort());
      if (c.change) {
        const [v] = judge(idx, changeObjects(c), { delete: c.delete ?? false, mode: 'enforce', denyOn: c.denyOn ?? 'declared' }).slice(-1);
        for (const f of v!.verdict.findings) {
          lines.push(`${f.code} ${f.evidence} ${f.severity}: ${f.message}`, `  reason: ${f.reason}`, `  fix: ${f.fix}`);
          if (f.evidenceDetail) lines.push(`  evidence: ${f.evidenceDetail}`);
        }
      }
    }
    const text = `${lines.join('\n')}\n`;
    matchesGolden(t, join(DIR, file.replace(/\.yaml$/, '.txt')), text, file);
  });
}
