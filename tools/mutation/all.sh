#!/usr/bin/env bash
# npm run mutation [-- --retest-survivors]: every part of src/core and src/admission in turn
# (tools/mutation/part.sh, incremental against the committed results), then the summary. A part
# that already has results tests again only what changed; the first run of all takes hours.
set -euo pipefail
cd "$(dirname "$0")/../.."
parts=(
  'src/core/*.ts,src/core/memo/**/*.ts'
  'src/core/model/**/*.ts'
  'src/core/mesh/**/*.ts'
  'src/core/policy/**/*.ts'
  'src/core/traffic/**/*.ts'
  'src/core/change/**/*.ts'
  'src/core/rules/**/*.ts'
  'src/core/verdict/**/*.ts'
  'src/core/plan/**/*.ts'
  'src/admission/**/*.ts'
)
for p in "${parts[@]}"; do bash tools/mutation/part.sh "$@" "$p"; done
node tools/mutation/summary.mjs
