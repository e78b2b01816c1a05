#!/usr/bin/env bash
# Builds a git ref into a worktree outside the repository and runs bench/engine/compare.ts
# against it: `npm run bench:compare -- 424ce53`.
set -euo pipefail
ref=${1:?usage: npm run bench:compare -- <git ref>}
root=$(git rev-parse --show-toplevel)
dir=${TMPDIR:-/tmp}/mtls-guard-bench-$(git rev-parse --short "$ref")
if [ ! -d "$dir/dist/src/core" ]; then
  rm -rf "$dir"
  git -C "$root" worktree add --detach "$dir" "$ref" >/dev/null
  ln -s "$root/node_modules" "$dir/node_modules"
  (cd "$dir" && node_modules/.bin/tsc -p tsconfig.json)
fi
cd "$root"
exec node dist/bench/engine/compare.js "$dir/dist"
