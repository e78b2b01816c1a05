#!/usr/bin/env bash
# npm run mutation:part -- 'src/core/change/**/*.ts' [more globs, comma-separated in one argument]
# One Stryker run over part of the code, with its own incremental and report files under
# .stryker/parts/, so that parts measured on different days keep their results side by side.
# `npm run mutation:summary` reads every part's report.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: npm run mutation:part -- 'src/core/<part>/**/*.ts'" >&2; exit 2; }
name=$(printf '%s' "$1" | tr '/*,{}.' '______')
mkdir -p .stryker/parts
config=".stryker/parts/$name.config.json"
node -e '
const fs = require("node:fs");
const [, globs, name, out] = process.argv;
const c = JSON.parse(fs.readFileSync("stryker.config.json", "utf8"));
c.mutate = globs.split(",");
c.incrementalFile = `.stryker/parts/${name}.incremental.json`;
c.jsonReporter = { fileName: `.stryker/parts/${name}.json` };
c.reporters = ["clear-text", "progress-append-only", "json"];
fs.writeFileSync(out, JSON.stringify(c, null, 2));
' "$1" "$name" "$config"
exec npx stryker run "$config"
