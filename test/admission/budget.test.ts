// The time one request may spend judging and proving fixes (src/admission/budget.ts),
// table-driven from test/fixtures/admission/budget.yaml.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { requestBudget } from '../../src/admission/budget.js';

interface Step {
  at: number;
  over?: boolean;
  remainingMs?: number;
  fixes?: boolean;
}
const rows = parse(readFileSync('test/fixtures/admission/budget.yaml', 'utf8')) as {
  name: string;
  deadline: number;
  fixMs?: number;
  steps: Step[];
}[];

for (const row of rows) {
  t.test(row.name, async (t) => {
    let now = 0;
    const b = requestBudget(() => now, row.deadline, ...(row.fixMs !== undefined ? [row.fixMs] : []));
    for (const s of row.steps) {
      now = s.at;
      if (s.over !== undefined) t.equal(b.over(), s.over, `over at ${s.at}`);
      if (s.remainingMs !== undefined) t.equal(b.remainingMs(), s.remainingMs, `remaining at ${s.at}`);
      if (s.fixes !== undefined) t.equal(b.fixes?.(), s.fixes, `fixes over at ${s.at}`);
    }
  });
}
