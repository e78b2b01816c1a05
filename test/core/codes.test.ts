// The codes table is the one source: every code is documented in docs/codes.md, row for row, and
// exercised by a test; docs/cli.md lists exactly the error codes the source raises.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CODES } from '../../src/core/model/codes.js';

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), ext) : ext.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const texts = (dir: string, ext: RegExp): string =>
  files(dir, ext)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');

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

/** The error codes listed in the `## Error codes` section of a markdown page. */
function errorCodesIn(markdown: string): string[] {
  return [...section(markdown, 'Error codes').matchAll(/^\| `(E_[A-Z_]+)` \|/gm)].map((m) => m[1]!).sort();
}

/** The part of a markdown page under one `## ` heading. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) return '';
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next < 0 ? undefined : next);
}

const codesDoc = section(readFileSync('docs/codes.md', 'utf8'), 'The table');
const cliDoc = readFileSync('docs/cli.md', 'utf8');
const tests = texts('test', /\.(ya?ml|ts)$/);

t.ok(ALL_CODES.length > 10, 'the table is not empty');

t.test('docs/codes.md holds the rows of src/core/model/codes.ts: code, name, kind and summary, in order', async (t) => {
  const rows = codeRows(codesDoc);
  t.same(
    rows,
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

for (const c of ALL_CODES) {
  t.test(c.code, async (t) => {
    const uses = tests.split(c.code).length - 1;
    // This file names no code literally, so every hit is a fixture or a test asserting the code.
    t.ok(uses > 0, `a test exercises ${c.code}`);
  });
}

t.test('error codes: the table in docs/cli.md and the errors raised in src/ list the same codes', async (t) => {
  const inSource = [...texts('src', /\.ts$/).matchAll(/super\(\s*'(E_[A-Z_]+)'/g)].map((m) => m[1]!).sort();
  const inDoc = errorCodesIn(cliDoc);
  t.ok(inSource.length >= 7, 'the source has its codes');
  t.same(inDoc, inSource);
  t.same(
    errorCodesIn('\n## Error codes\n\n| code | meaning |\n|---|---|\n| `E_ONE` | x |\n\n## Next\n\n| `E_TWO` | y |\n'),
    ['E_ONE'],
    'only the Error codes section counts',
  );
});
