#!/usr/bin/env bash
# Builds a git ref into a worktree outside the repository and runs a side-by-side benchmark
# against it: `npm run bench:compare -- 424ce53` (the engine, bench/engine/compare.ts) or
# `npm run bench:compare-snapshot -- 424ce53` (the live snapshot, bench/snapshot/compare.ts).
set -euo pipefail
ref=${1:?usage: npm run bench:compare -- <git ref>, or npm run bench:compare-snapshot -- <git ref>}
bench=${BENCH_COMPARE:-engine}
root=$(git rev-parse --show-toplevel)
dir=${TMPDIR:-/tmp}/mtls-guard-bench-$(git rev-parse --short "$ref")
if [ ! -d "$dir/dist/src/core" ]; then
  rm -rf "$dir"
  git -C "$root" worktree add --detach "$dir" "$ref" >/dev/null
  ln -s "$root/node_modules" "$dir/node_modules"
  (cd "$dir" && node_modules/.bin/tsc -p tsconfig.json)
fi
cd "$root"
case $bench in
  engine) exec node dist/bench/engine/compare.js "$dir/dist" ;;
  snapshot) exec node dist/bench/snapshot/compare.js "$dir/dist" ;;
  *) echo "unknown benchmark: $bench (engine or snapshot)" >&2; exit 2 ;;
esac
