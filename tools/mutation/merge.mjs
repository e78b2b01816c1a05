// node tools/mutation/merge.mjs <part results> <file results>: folds the results of a run over a
// few files (say `src/core/verdict/prove.ts` alone, after its tests grew) into the results of the
// part that holds them, so that each file has one result and the part's next run is incremental
// against it. The file run's results replace the part's for its files; the test files are merged.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const [into, from] = process.argv.slice(2);
if (!into || !from) {
  console.error('usage: node tools/mutation/merge.mjs <part results> <file results>');
  process.exit(2);
}
const part = JSON.parse(readFileSync(into, 'utf8'));
const few = JSON.parse(readFileSync(from, 'utf8'));
for (const [path, file] of Object.entries(few.files)) {
  if (!(path in part.files)) {
    console.error(`${path} is not in ${into}: measure it with its part instead`);
    process.exit(2);
  }
  part.files[path] = file;
}
part.testFiles = { ...part.testFiles, ...few.testFiles };
writeFileSync(into, JSON.stringify(part));
rmSync(from);
console.log(`merged ${Object.keys(few.files).join(', ')} into ${into}`);
