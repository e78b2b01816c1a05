// Golden tests: every traffic table of the seed articles, reproduced through `mtls-guard simulate`.
import t from 'tap';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';

interface Step {
  name: string;
  apply?: string;
  delete?: string[];
  article?: string;
  expect?: string;
  deviations?: Record<string, { code: string; exit?: number }>;
}
/** Where a seed's tables were published: the fixture names its article, so it stands without it. */
interface Source {
  title: string;
  author?: string;
  language: string;
  about: string;
}
interface Seed {
  seed: string;
  source: Source;
  mesh: string;
  version?: string;
  base?: string;
  steps: Step[];
}
interface Row {
  client: string;
  service: string;
  port: number;
  code: string;
  exit?: number;
}

const SHARED_SEEDS = join(process.cwd(), '..', 'shared', 'seeds');
const dir = 'test/fixtures/seeds';
const tmp = mkdtempSync(join(tmpdir(), 'mtls-guard-seeds-'));

function key(o: Record<string, unknown>): string {
  const m = (o['metadata'] ?? {}) as Record<string, unknown>;
  return `${String(o['kind'])}/${String(m['namespace'] ?? (o['kind'] === 'MeshPolicy' ? '' : 'default'))}/${String(m['name'])}`;
}

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()) {
  const seed = parse(readFileSync(join(dir, file), 'utf8')) as Seed;
  // The articles live in ../shared when it is there; the fixture lines are checked against them.
  const articleText = existsSync(SHARED_SEEDS)
    ? readdirSync(SHARED_SEEDS)
        .filter((f) => f.startsWith(`${seed.seed}_`))
        .map((f) => readFileSync(join(SHARED_SEEDS, f), 'utf8'))
        .join('\n')
    : '';
  t.test(`seed ${seed.seed}: "${seed.source?.title}" (${seed.source?.language})`, async (t) => {
    t.ok(seed.source?.title && seed.source.about, 'the fixture names the article its tables come from');
    // Where the articles are at hand (../shared), each quoted line is checked against its article too.
    if (!articleText) t.comment(`${seed.seed}: the article is not at hand; its quoted lines are checked against the engine only`);
    const objects = new Map<string, Record<string, unknown>>();
    if (seed.base) for (const d of parseAllDocuments(seed.base)) objects.set(key(d.toJS()), d.toJS());
    let n = 0;
    for (const step of seed.steps) {
      n++;
      for (const k of step.delete ?? []) t.ok(objects.delete(k), `step ${n}: ${k} exists before it is deleted`);
      for (const d of parseAllDocuments(step.apply ?? '')) if (d.contents) objects.set(key(d.toJS()), d.toJS());
      const f = join(tmp, `${seed.seed}-${n}.yaml`);
      writeFileSync(f, [...objects.values()].map((o) => stringify(o)).join('---\n'));
      const argv = ['simulate', '-f', seed.mesh, '-f', f, '--format', 'json', ...(seed.version ? ['--istio-version', seed.version] : [])];
      const res = await runCli(argv);
      t.equal(res.code, 0, `step ${n}: simulate exits 0`, { err: res.err });
      const rows = JSON.parse(res.out) as Row[];
      await t.test(`step ${n}: ${step.name}`, async (t) => {
        const find = (client: string, service: string, port?: number): Row | undefined =>
          rows.find((r) => r.client === client && r.service === service && (port === undefined || r.port === port));
        let last: { label: string; row: Row | undefined } | undefined;
        for (const line of (step.article ?? '')
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)) {
          if (articleText) t.ok(articleText.includes(line), `copied from the article: ${line}`);
          const exit = /^command terminated with exit code (\d+)$/.exec(line);
          if (exit) {
            const want = step.deviations?.[last!.label]?.exit ?? Number(exit[1]);
            t.equal(last!.row?.exit, want, `${last!.label}: curl exit ${want}`);
            continue;
          }
          const m = /^(\S+) to (\S+): (\d{3})$/.exec(line);
          if (!m) {
            t.fail(`unparsed article line: ${line}`);
            continue;
          }
          const label = `${m[1]} to ${m[2]}`;
          const row = find(m[1]!, m[2]!);
          const dev = step.deviations?.[label];
          t.equal(
            row?.code,
            dev?.code ?? m[3],
            dev ? `${label}: ${dev.code} (the article says ${m[3]}; see the comment in ${file})` : line,
          );
          if (dev?.exit !== undefined) t.equal(row?.exit, dev.exit, `${label}: curl exit ${dev.exit}`);
          last = { label, row };
        }
        for (const line of (step.expect ?? '')
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)) {
          const m = /^(\S+) to (\S+):(\d+): (\d{3})(?: exit (\d+))?$/.exec(line);
          if (!m) {
            t.fail(`unparsed expect line: ${line}`);
            continue;
          }
          const row = find(m[1]!, m[2]!, Number(m[3]));
          t.equal(row?.code, m[4], line);
          if (m[5]) t.equal(row?.exit, Number(m[5]), `${line}: curl exit`);
        }
      });
    }
  });
}
