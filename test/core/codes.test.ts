// Every finding code is exercised by a test, and docs/cli.md lists exactly the error codes the
// source raises; both read source text. That docs/codes.md holds the table row for row is checked
// in test/core/model/codes.test.ts, which reads only the module (and so runs in the mutation set).
import t from 'tap';
import { section } from '../helpers/markdown.js';
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

/** The error codes listed in the `## Error codes` section of a markdown page. */
function errorCodesIn(markdown: string): string[] {
  return [...section(markdown, 'Error codes').matchAll(/^\| `(E_[A-Z_]+)` \|/gm)].map((m) => m[1]!).sort();
}

const cliDoc = readFileSync('docs/cli.md', 'utf8');
const tests = texts('test', /\.(ya?ml|ts)$/);

t.ok(ALL_CODES.length > 10, 'the table is not empty');

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
