#!/usr/bin/env bash
# Builds the Istio oracle (tools/istio-oracle: Istio's own control plane as a Go test binary) once and
# caches it outside the repository, keyed by the istio.io/istio version and a hash of the oracle's
# sources. Prints the binary's path. The first build takes about 15 minutes on 2 cores.
#   MTLS_GUARD_CACHE   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/mtls-guard)
#   GOTOOLCHAIN        passed through to go (the module needs go >= 1.26; see tools/istio-oracle/README.md)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/istio-oracle"
cache=${MTLS_GUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtls-guard}
bin="$cache/bin"
mkdir -p "$bin"

istio_version=$(sed -nE 's|^[[:space:]]*(require[[:space:]]+)?istio\.io/istio[[:space:]]+(v[^[:space:]]+).*$|\2|p' "$src/go.mod" | head -n 1)
[ -n "$istio_version" ] || { echo "cannot read the istio.io/istio version from tools/istio-oracle/go.mod" >&2; exit 1; }
# The oracle's own sources change more often than Istio: they are part of the key too.
src_hash=$(cd "$src" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-12)
out="$bin/istio-oracle-$istio_version-$src_hash.test"

if [ ! -x "$out" ]; then
  echo "building the Istio oracle (istio.io/istio $istio_version) into $out (first use only; minutes)" >&2
  lock="$bin/.istio-oracle.lock"
  # One build at a time: a second caller waits for the first and then finds the binary.
  exec 9>"$lock"
  flock 9
  if [ ! -x "$out" ]; then
    (cd "$src" && nice -n 10 go test -c -buildvcs=false -ldflags "-s -w -X mtls-guard.local/tools/istio-oracle.istioModule=$istio_version" -o "$out.tmp.$$" .)
    mv "$out.tmp.$$" "$out"
    # Each build is ~140 MB: keep this one and the two most recent others (other checkouts may use them).
    { ls -t "$bin"/istio-oracle-*.test | grep -vxF "$out" | tail -n +3 | xargs -r rm -f --; } || true
  fi
  flock -u 9
fi
ln -sfn "$out" "$bin/istio-oracle"
echo "$out"
