#!/usr/bin/env bash
# npm run mutation [-- --retest-survivors]: every part of src/core and src/admission in turn (the
# lines of tools/mutation/parts.txt, each run by tools/mutation/part.sh, incremental against the
# committed results), then the summary. A part that already has results tests again only what
# changed; the first run of all takes hours.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t parts < <(grep -v '^#' tools/mutation/parts.txt | grep .)
for p in "${parts[@]}"; do bash tools/mutation/part.sh "$@" "$p"; done
node tools/mutation/summary.mjs
