// The documentation stands alone: the README stays a front page, every relative link and anchor
// in README.md and docs/*.md leads somewhere in the repository, every repository path the pages
// name exists, and no page points at material outside the repository.
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const README_MAX_LINES = 250;

const pages = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join('docs', f)),
];

/** The text of a page without its fenced code blocks, which hold output and YAML rather than links and headings. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  const text = heading.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a page offers, with GitHub's -1, -2 suffixes for repeated headings. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const s = slug(m[1]!);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n === 0 ? s : `${s}-${n}`);
  }
  return out;
}

/** The targets of the markdown links of a page, outside code blocks and code spans. */
function links(markdown: string): string[] {
  const text = prose(markdown).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** What is wrong with one link of a page, or undefined when it leads to a file (and heading) of the repository. */
function brokenLink(page: string, target: string, read: (path: string) => string | undefined): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  const [path = '', anchor] = target.split('#', 2);
  const file = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
  if (file.startsWith('..')) return `${target} leaves the repository`;
  if (!existsSync(file)) return `${target}: no such file ${file}`;
  if (anchor === undefined || !file.endsWith('.md')) return undefined;
  const text = read(file);
  if (text === undefined || !anchors(text).has(anchor)) return `${target}: ${file} has no heading with anchor #${anchor}`;
  return undefined;
}

/** Repository paths a page names in code spans (`src/…`, `test/…`, …), without globs or placeholders. */
function namedPaths(markdown: string): string[] {
  const spans = [...prose(markdown).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return spans.filter((s) => /^(src|test|bench|tools|charts|examples|docs)\/[\w./-]*$/.test(s) && !s.includes('..'));
}

/** References to material outside the repository, which a reader who clones it does not have. */
function outsideReferences(markdown: string): string[] {
  return [...markdown.matchAll(/\.\.\/shared|istio-semantics\.md/g)].map((m) => m[0]);
}

const read = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

t.test(`README.md is a front page of at most ${README_MAX_LINES} lines`, async (t) => {
  const lines = readFileSync('README.md', 'utf8').split('\n');
  const count = lines.at(-1) === '' ? lines.length - 1 : lines.length;
  t.ok(count <= README_MAX_LINES, `README.md has ${count} lines`);
  t.ok(count > 20, 'and is not empty');
});

t.test('the docs pages the README promises exist and are linked from it', async (t) => {
  const readme = links(readFileSync('README.md', 'utf8'));
  for (const page of ['install', 'configuration', 'cli', 'webhook', 'evidence', 'engine', 'codes', 'performance', 'design', 'semantics']) {
    t.ok(existsSync(`docs/${page}.md`), `docs/${page}.md exists`);
    t.ok(
      readme.some((l) => l.split('#')[0] === `docs/${page}.md`),
      `README.md links docs/${page}.md`,
    );
  }
});

for (const page of pages) {
  t.test(page, async (t) => {
    const text = readFileSync(page, 'utf8');
    const targets = links(text);
    t.ok(targets.length > 0, 'has links');
    const broken = targets.map((l) => brokenLink(page, l, read)).filter((p): p is string => p !== undefined);
    t.same(broken, [], 'every relative link leads to a file, and every anchor to a heading');
    // semantics.md cites paths in Istio's repositories (ztunnel's `src/…` among them), not in this one.
    const missing = page === 'docs/semantics.md' ? [] : namedPaths(text).filter((p) => !existsSync(p));
    t.same(missing, [], 'every repository path named in code spans exists');
    t.same(outsideReferences(text), [], 'no reference to documents outside the repository');
  });
}

t.test('the checks themselves fail on bad pages', async (t) => {
  t.equal(slug('1.5 `portLevelMtls`'), '15-portlevelmtls');
  t.equal(slug("4.4 Does the client look at the server's policy?"), '44-does-the-client-look-at-the-servers-policy');
  t.equal(slug('Try it on a real API server: `npm run cluster`'), 'try-it-on-a-real-api-server-npm-run-cluster');
  t.same([...anchors('# A\n\n## A\n\n```\n# not a heading\n```\n')], ['a', 'a-1'], 'repeated headings get suffixes; code is not a heading');
  const page = 'docs/x.md';
  const fake = (text: string) => (p: string) => (p === 'docs/codes.md' ? text : undefined);
  t.equal(brokenLink(page, 'codes.md', fake('')), undefined, 'an existing file');
  t.match(brokenLink(page, 'no-such-page.md', fake('')) ?? '', 'no such file', 'a missing file');
  t.match(brokenLink(page, '../../outside.md', fake('')) ?? '', 'leaves the repository', 'a path out of the repository');
  t.equal(brokenLink(page, 'codes.md#the-table', fake('# Codes\n\n## The table\n')), undefined, 'an existing heading');
  t.match(brokenLink(page, 'codes.md#no-such-heading', fake('# Codes\n')) ?? '', 'no heading', 'a missing heading');
  t.equal(brokenLink(page, 'https://istio.io/latest/docs/', fake('')), undefined, 'external links are not followed');
  t.same(links('[a](b.md) `[c](d.md)`\n```\n[e](f.md)\n```\n'), ['b.md'], 'links in code are not links');
  t.same(namedPaths('`src/no/such/file.ts` `rules/mg1NN-*.ts` `src/core/model/codes.ts`'), [
    'src/no/such/file.ts',
    'src/core/model/codes.ts',
  ]);
  t.same(outsideReferences('see ../shared/x and istio-semantics.md §4'), ['../shared', 'istio-semantics.md']);
});
