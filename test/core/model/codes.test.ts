// The codes table is the one source: docs/codes.md holds its rows, in order, and every hint fits
// an admission warning (src/core/model/codes.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { section } from '../../helpers/markdown.js';
import { ALL_CODES, CODES } from '../../../src/core/model/codes.js';

/** A table row as docs/codes.md writes it: | `CODE` | name | kind | summary | */
interface Row {
  code: string;
  name: string;
  kind: string;
  summary: string;
}

/** The rows of a page's finding-code table, in order. */
function codeRows(markdown: string): Row[] {
  return [...markdown.matchAll(/^\| `(MG\d{3})` \| (.*?) \| (.*?) \| (.*) \|$/gm)].map((m) => ({
    code: m[1]!,
    name: m[2]!,
    kind: m[3]!,
    summary: m[4]!,
  }));
}

const codesDoc = section(readFileSync('docs/codes.md', 'utf8'), 'The table');

t.test('docs/codes.md holds the rows of the table: code, name, kind and summary, in order', async (t) => {
  t.ok(ALL_CODES.length > 10, 'the table is not empty');
  t.same(
    codeRows(codesDoc),
    ALL_CODES.map((c) => ({ code: c.code, name: c.name, kind: c.kind, summary: c.summary })),
  );
  for (const c of ALL_CODES) t.notMatch(c.summary, /\|/, `${c.code}'s summary fits in a table cell`);
});

t.test('the row parser sees a drifted row', async (t) => {
  // The same check on a page whose summary differs by one word must fail, or it proves nothing.
  const c = ALL_CODES[0]!;
  const drifted = `| \`${c.code}\` | ${c.name} | ${c.kind} | ${c.summary.replace(/ /, ' not ')} |\n`;
  t.notSame(codeRows(drifted), [{ code: c.code, name: c.name, kind: c.kind, summary: c.summary }]);
  t.equal(codeRows(drifted).length, 1, 'the drifted row is still read as a row');
});

t.test('each row is keyed by its own code, with a short hint', async (t) => {
  for (const [key, c] of Object.entries(CODES)) {
    t.equal(c.code, key, `${key}: its code`);
    t.ok(c.hint.length > 10 && c.hint.length <= 80, `${key}: a hint of a few words (${c.hint.length} characters)`);
    t.equal(c.kind, { '1': 'connection', '2': 'config', '3': 'note' }[key[2]!], `${key}: its kind follows its number`);
  }
});
