// The codes table is the one source: every code is documented in the README and exercised by a test.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CODES } from '../../src/core/model/codes.js';

function texts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? texts(join(dir, e.name)) : /\.(ya?ml|ts)$/.test(e.name) ? [readFileSync(join(dir, e.name), 'utf8')] : []);
}

const readme = readFileSync('README.md', 'utf8');
const tests = texts('test').join('\n');

t.ok(ALL_CODES.length > 10, 'the table is not empty');
for (const c of ALL_CODES) {
  t.test(c.code, async (t) => {
    t.match(readme, new RegExp(`\\| \`${c.code}\` \\| ${c.name} \\|`), `README documents ${c.code} (${c.name}) in the codes table`);
    const uses = tests.split(c.code).length - 1;
    // This file names no code literally, so every hit is a fixture or a test asserting the code.
    t.ok(uses > 0, `a test exercises ${c.code}`);
  });
}

t.test('error codes: the README table and src/core/model/errors.ts list the same codes', async (t) => {
  const source = readFileSync('src/core/model/errors.ts', 'utf8');
  const inSource = [...source.matchAll(/super\('(E_[A-Z_]+)'/g)].map((m) => m[1]!).sort();
  const section = readme.slice(readme.indexOf('### Error codes'), readme.indexOf('## How the prediction works'));
  const inReadme = [...section.matchAll(/^\| `(E_[A-Z_]+)` \|/gm)].map((m) => m[1]!).sort();
  t.ok(inSource.length >= 7, 'errors.ts has its codes');
  t.same(inReadme, inSource);
});
