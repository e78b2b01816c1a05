#!/usr/bin/env bash
# npm run mutation:part -- [--retest-survivors] 'src/core/change/**/*.ts' [more globs, comma-separated in one argument]
# One Stryker run over part of the code. Its results are kept in tools/mutation/results/ (committed):
# they are Stryker's incremental file, so a later run, on any clone, tests again only the mutants
# whose code or covering test files changed. Stryker does not see fixtures: after a table gains
# rows, --retest-survivors drops the surviving and uncovered mutants from the results first, so
# that they are tested again (killed ones are kept). `npm run mutation:summary` reads every part.
set -euo pipefail
cd "$(dirname "$0")/../.."
retest=0
if [ "${1:-}" = --retest-survivors ]; then retest=1; shift; fi
[ $# -eq 1 ] || { echo "usage: npm run mutation:part -- [--retest-survivors] 'src/core/<part>/**/*.ts'" >&2; exit 2; }
name=$(printf '%s' "$1" | tr '/*,{}.' '______' | sed 's/__*/_/g; s/^_//; s/_$//')
mkdir -p .stryker/parts tools/mutation/results
config=".stryker/parts/$name.config.json"
results="tools/mutation/results/$name.json"
node -e '
const fs = require("node:fs");
const [, globs, results, out, retest] = process.argv;
const c = JSON.parse(fs.readFileSync("stryker.config.json", "utf8"));
c.mutate = globs.split(",");
c.incrementalFile = results;
c.reporters = ["clear-text", "progress-append-only"];
fs.writeFileSync(out, JSON.stringify(c, null, 2));
if (retest === "1" && fs.existsSync(results)) {
  const r = JSON.parse(fs.readFileSync(results, "utf8"));
  let dropped = 0;
  for (const f of Object.values(r.files)) {
    const kept = f.mutants.filter((m) => m.status !== "Survived" && m.status !== "NoCoverage");
    dropped += f.mutants.length - kept.length;
    f.mutants = kept;
  }
  fs.writeFileSync(results, JSON.stringify(r));
  console.error(`mutation: ${dropped} surviving or uncovered mutants will be tested again`);
}
' "$1" "$results" "$config" "$retest"
# Stryker compares the compiled test files with those of the kept results to decide which results
# still hold, and reads them from dist/test here (stryker.config.json ignores the rest of dist/).
npm run --silent build:mutation
exec npx stryker run "$config"
