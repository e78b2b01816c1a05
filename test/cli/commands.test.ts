// The CLI contract, table-driven from test/fixtures/cli/commands.yaml.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';

interface Case {
  name: string;
  argv: string[];
  /** A command run first (same placeholders), e.g. to make certificates. */
  setup?: string[];
  files?: Record<string, string>;
  exit: number;
  stdout?: string[];
  stdoutExact?: string;
  stderr?: string[];
  json?: unknown;
}

const cases = parse(readFileSync('test/fixtures/cli/commands.yaml', 'utf8')) as Case[];
for (const c of cases) {
  t.test(c.name, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-cli-'));
    for (const [name, text] of Object.entries(c.files ?? {})) writeFileSync(join(dir, name), text);
    const fill = (a: string): string => (a.startsWith('@') ? join(dir, a.slice(1)) : a);
    if (c.setup) t.equal((await runCli(c.setup.map(fill))).code, 0, 'setup succeeds');
    const argv = c.argv.map(fill);
    const r = await runCli(argv);
    t.equal(r.code, c.exit, `exit ${c.exit}`, { stderr: r.err, stdout: r.out.slice(0, 2000) });
    for (const s of c.stdout ?? []) t.ok(r.out.includes(s), `stdout has: ${s}`, { stdout: r.out });
    for (const s of c.stderr ?? []) t.ok(r.err.includes(s), `stderr has: ${s}`, { stderr: r.err });
    if (c.stdoutExact !== undefined) t.equal(r.out, c.stdoutExact, 'stdout is exactly');
    if (c.json !== undefined) t.match(JSON.parse(r.out), c.json, 'json output');
    t.notMatch(r.err, /internal error| {4}at /, 'no stack trace');
  });
}

// `npx mtls-guard` runs the bin by its path, through its shebang: it must be executable after every
// build, not only after npm first installs the package (an npx cache that holds it never does again).
t.test('the bin runs by its own path after a build', async (t) => {
  const { stdout } = await promisify(execFile)('dist/src/cli/main.js', ['--help']);
  t.match(stdout, /simulate \[-f PATH/, 'usage printed');
});

// On an older Node every command says which Node it needs, before anything that needs a newer
// one is loaded (client-node's undici used to fail with a stack trace on Node 20).
t.test('on Node 20 the bin says it needs Node 24, with exit 2 and no stack trace', async (t) => {
  const older =
    'data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.20.2"}});Object.defineProperty(process,"version",{value:"v20.20.2"})';
  for (const cmd of [['simulate', '-f', 'examples/mesh-current'], ['serve'], ['check']]) {
    const r = await promisify(execFile)(process.execPath, ['--import', older, 'dist/src/cli/main.js', ...cmd]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    t.equal((r as { code?: number }).code, 2, `${cmd[0]}: exit 2`);
    t.match(
      (r as { stderr: string }).stderr,
      'mtls-guard needs Node.js 24 or later; this is v20.20.2.',
      `${cmd[0]}: says which Node it needs`,
    );
    t.notMatch((r as { stderr: string }).stderr, / {4}at /, 'no stack trace');
  }
});
