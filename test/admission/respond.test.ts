import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { budgetWarnings, WARNINGS_TOTAL_MAX } from '../../src/admission/respond.js';

interface Case {
  name: string;
  count: number;
  length: number;
  finding?: boolean;
  newlines?: boolean;
  wantLines?: number;
  wantMore: boolean;
}

for (const c of parse(readFileSync('test/fixtures/admission/warnings.yaml', 'utf8')) as Case[]) {
  t.test(c.name, async (t) => {
    const lines = Array.from({ length: c.count }, (_, i) => {
      const head = c.finding ? `MG101 w${i}.ns -> s.ns:80 ` : `note ${i} `;
      const body = 'x'.repeat(Math.max(0, c.length - head.length));
      return c.newlines ? `${head}\n${body}` : head + body;
    });
    const out = budgetWarnings(lines);
    const total = out.reduce((n, s) => n + s.length, 0);
    t.ok(total <= WARNINGS_TOTAL_MAX, `total ${total} ≤ ${WARNINGS_TOTAL_MAX}`);
    for (const s of out) {
      t.notMatch(s, /[\r\n]/, 'no newlines');
      t.ok(s.length <= (s.startsWith('MG1') ? 120 : 300), `length ${s.length}`);
    }
    if (c.wantLines !== undefined) t.equal(out.length, c.wantLines, `${c.wantLines} lines`);
    const last = out.at(-1)!;
    t.equal(/^and \d+ more/.test(last), c.wantMore, c.wantMore ? 'ends with a summary' : 'no summary');
    if (c.wantMore) {
      const more = Number(/^and (\d+) more/.exec(last)![1]);
      t.equal(out.length - 1 + more, c.count, 'the summary counts exactly the lines left out');
    }
  });
}
