// `mtls-guard report` end to end in-process, table-driven from test/fixtures/cli/report.yaml: the
// exit code, what it prints, and what the page it writes holds.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_REPORT_FILE, parseReportArgs } from '../../src/config/cli-args.js';
import { runCli } from '../helpers/cli.js';

interface Case {
  name: string;
  argv: string[];
  files?: Record<string, string>;
  exit: number;
  stdout?: string[];
  stderr?: string[];
  page?: string[];
  pageAbsent?: string[];
  noPage?: boolean;
}

for (const c of parse(readFileSync('test/fixtures/cli/report.yaml', 'utf8')) as Case[]) {
  t.test(c.name, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-report-'));
    for (const [name, text] of Object.entries(c.files ?? {})) writeFileSync(join(dir, name), text);
    const fill = (a: string): string => (a.startsWith('@') ? join(dir, a.slice(1)) : a);
    const r = await runCli(c.argv.map(fill));
    t.equal(r.code, c.exit, `exit ${c.exit}`, { stderr: r.err, stdout: r.out });
    for (const s of c.stdout ?? []) t.ok(r.out.includes(s), `stdout has: ${s}`, { stdout: r.out });
    for (const s of c.stderr ?? []) t.ok(r.err.includes(s), `stderr has: ${s}`, { stderr: r.err });
    t.notMatch(r.err, /internal error| {4}at /, 'no stack trace');
    const out = join(dir, 'r.html');
    if (c.noPage || c.exit !== 0) t.notOk(existsSync(out), 'no page is written');
    if (c.page || c.pageAbsent) {
      const html = readFileSync(out, 'utf8');
      for (const s of c.page ?? []) t.ok(html.includes(s), `the page has: ${s}`);
      for (const s of c.pageAbsent ?? []) t.notOk(html.includes(s), `the page has no: ${s}`);
    }
  });
}

t.test('the page goes to mtls-guard-report.html unless --out says', async (t) => {
  t.equal(DEFAULT_REPORT_FILE, 'mtls-guard-report.html');
  t.equal(parseReportArgs(['-f', 'x']).out, DEFAULT_REPORT_FILE);
  t.equal(parseReportArgs(['-f', 'x', '--out', 'y.html']).out, 'y.html');
  t.same(parseReportArgs(['-f', 'x', '--change', 'a.yaml', '--change', 'b.yaml']).changes, ['a.yaml', 'b.yaml'], 'changes in order');
  t.throws(() => parseReportArgs(['-f', 'x', '--out', '']), /--out needs a file name/);
});
