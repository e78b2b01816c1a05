import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { budgetWarnings, denyMessage, shortFinding, WARNINGS_TOTAL_MAX } from '../../src/admission/respond.js';
import type { Finding } from '../../src/core/model/findings.js';
import { expandChars } from '../helpers/fixture-values.js';

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

interface Words {
  deny: { name: string; summary: string; canAcknowledge?: boolean; findings: Partial<Finding>[]; want: string }[];
  short: { name: string; finding: Partial<Finding>; want: string }[];
  fold: { line: string; want: string }[];
}
const words = parse(readFileSync('test/fixtures/admission/messages.yaml', 'utf8')) as Words;
const finding = (f: Partial<Finding>): Finding =>
  ({
    code: 'MG101',
    port: 8000,
    reason: 'the client has no sidecar',
    fix: 'keep port 8000 PERMISSIVE',
    ...f,
    message: expandChars(f.message ?? ''),
  }) as Finding;

t.test('deny messages', async (t) => {
  for (const row of words.deny)
    t.equal(denyMessage(row.summary, row.findings.map(finding), row.canAcknowledge ?? true), row.want, row.name);
});

t.test('one warning per finding', async (t) => {
  for (const row of words.short) t.equal(shortFinding(finding(row.finding)), expandChars(row.want), row.name);
});

t.test('each warning on one line, cut to its limit', async (t) => {
  for (const row of words.fold)
    t.same(budgetWarnings([expandChars(row.line)]), [expandChars(row.want)], JSON.stringify(row.line).slice(0, 40));
});
