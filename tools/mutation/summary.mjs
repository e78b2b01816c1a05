// npm run mutation:summary [-- --survivors]: the score of every file measured in
// tools/mutation/results/ (each part's latest run), by folder and in all, as Stryker counts it:
// killed and timed-out mutants over those that compiled. --survivors lists each surviving or
// uncovered mutant.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'tools/mutation/results';
const survivors = process.argv.includes('--survivors');
if (!existsSync(dir)) {
  console.error('no mutation results yet: run npm run mutation:part first');
  process.exit(2);
}
/** The latest result per file: parts may overlap, and the newer report wins. */
const files = new Map();
const reports = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ f, at: JSON.parse(readFileSync(join(dir, f), 'utf8')), when: statSync(join(dir, f)).mtimeMs }));
for (const { f, at, when } of reports) {
  for (const [path, file] of Object.entries(at.files)) {
    const seen = files.get(path);
    if (!seen || seen.when < when) files.set(path, { when, part: f, file });
  }
}
const count = (mutants) => {
  const c = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
  for (const m of mutants) if (m.status in c) c[m.status]++;
  return c;
};
const score = (c) => {
  const valid = c.Killed + c.Timeout + c.Survived + c.NoCoverage;
  return valid ? `${((100 * (c.Killed + c.Timeout)) / valid).toFixed(1)} %` : '-';
};
const add = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] + b[k]]));
const zero = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
const byFolder = new Map();
/** `src/core` and `src/admission`, each in all. */
const byTop = new Map();
let all = zero;
console.log('file\tkilled\ttimeout\tsurvived\tno coverage\tscore');
for (const [path, { file }] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const c = count(file.mutants);
  console.log(`${path}\t${c.Killed}\t${c.Timeout}\t${c.Survived}\t${c.NoCoverage}\t${score(c)}`);
  const folder = path.split('/').slice(0, -1).join('/');
  byFolder.set(folder, add(byFolder.get(folder) ?? zero, c));
  const top = path.split('/').slice(0, 2).join('/');
  byTop.set(top, add(byTop.get(top) ?? zero, c));
  all = add(all, c);
  if (survivors) {
    const lines = file.source.split('\n');
    for (const m of file.mutants.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage')) {
      const l = m.location.start.line;
      const code = lines[l - 1].trim().slice(0, 100);
      console.log(`  ${path}:${l} ${m.status} ${m.mutatorName}: ${code} => ${String(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 70)}`);
    }
  }
}
console.log('');
for (const [folder, c] of [...byFolder].sort(([a], [b]) => a.localeCompare(b))) console.log(`${folder}\t${c.Killed}\t${c.Timeout}\t${c.Survived}\t${c.NoCoverage}\t${score(c)}`);
console.log('');
for (const [top, c] of [...byTop].sort(([a], [b]) => a.localeCompare(b))) console.log(`${top} (measured)\t${c.Killed}\t${c.Timeout}\t${c.Survived}\t${c.NoCoverage}\t${score(c)}`);
console.log(`all measured\t${all.Killed}\t${all.Timeout}\t${all.Survived}\t${all.NoCoverage}\t${score(all)}`);
/**
 * Source files without results: those of a part that has run have nothing to mutate (types and
 * tables only); the others no part has measured yet, and their folder's score is not known.
 */
const walk = (d) =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : [],
  );
/** The results file of a part, named as part.sh names it. */
const resultsOf = (globs) => join(dir, `${globs.replace(/[/*,{}.]+/g, '_').replace(/^_|_$/g, '')}.json`);
const measuredGlobs = readFileSync('tools/mutation/parts.txt', 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .filter((l) => existsSync(resultsOf(l.trim())))
  .flatMap((l) => l.trim().split(','));
// True when a path matches one of a part's globs: a star stays within a folder, a double star spans folders.
const matchesGlob = (path, glob) => {
  const pattern = glob
    .split('**/')
    .map((piece) => piece.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
    .join('(?:.*/)?');
  return new RegExp(`^${pattern}$`).test(path);
};
const without = ['src/core', 'src/admission'].flatMap(walk).filter((p) => !files.has(p)).sort();
const empty = without.filter((p) => measuredGlobs.some((g) => matchesGlob(p, g)));
const unmeasured = without.filter((p) => !empty.includes(p));
if (empty.length) console.log(`nothing to mutate (${empty.length} files): ${empty.join(' ')}`);
if (unmeasured.length) console.log(`not measured (${unmeasured.length} files): ${unmeasured.join(' ')}`);
