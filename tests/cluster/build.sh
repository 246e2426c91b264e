#!/usr/bin/env bash
# Builds the pinned Kubernetes control-plane binaries and the cluster harness into a
# cache directory outside the repository, keyed by the sha256 of go.sum and this script.
# Prints the bin directory on stdout. Reuses an existing build when present.
#
#   KWS_CLUSTER_CACHE  cache root (default: $HOME/.cache/kws-cluster)
#   KWS_FORCE_BUILD=1  rebuild the harness even if its sources did not change
#   KWS_BUILD_PARALLEL go build -p value (default: 2)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="/usr/local/go/bin:$PATH"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly"
P="${KWS_BUILD_PARALLEL:-2}"

K8S_VERSION="$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v1\./ {print $2; exit}' "$HERE/go.mod")"
CACHE_ROOT="${KWS_CLUSTER_CACHE:-$HOME/.cache/kws-cluster}"
# Bump RECIPE when the build flags below change, so old caches are not reused.
RECIPE=1
KEY="$( (cat "$HERE/go.sum"; echo "recipe=$RECIPE k8s=$K8S_VERSION") | sha256sum | cut -c1-16)"
OUT="$CACHE_ROOT/$KEY"
BIN="$OUT/bin"
mkdir -p "$OUT"

log() { echo "[build] $*" >&2; }

# Control-plane binaries: built once per key, all in one go build invocation so the
# shared packages compile once.
K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
have_all=1
for b in "${K8S_BINS[@]}"; do [[ -x "$BIN/$b" ]] || have_all=0; done
if [[ $have_all == 0 ]]; then
  exec 9>"$OUT/.build.lock"
  flock 9
  have_all=1
  for b in "${K8S_BINS[@]}"; do [[ -x "$BIN/$b" ]] || have_all=0; done
  if [[ $have_all == 0 ]]; then
    minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
    L="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      L="$L -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
      L="$L -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    tmp="$OUT/bin.tmp.$$"
    rm -rf "$tmp"; mkdir -p "$tmp"
    log "building ${K8S_BINS[*]} $K8S_VERSION into $BIN (go build -p $P; cold build takes a long time)"
    start=$(date +%s)
    (cd "$HERE" && go build -p "$P" -trimpath -ldflags "$L" -o "$tmp/" \
      $(printf 'k8s.io/kubernetes/cmd/%s ' "${K8S_BINS[@]}"))
    mkdir -p "$BIN"
    for b in "${K8S_BINS[@]}"; do mv -f "$tmp/$b" "$BIN/$b"; done
    rm -rf "$tmp"
    log "control-plane binaries built in $(( $(date +%s) - start ))s"
  fi
  exec 9>&-
fi

# Harness: rebuilt when its sources change (cheap with a warm GOCACHE).
SRC_KEY="$(cd "$HERE" && find cmd internal -name '*.go' -print0 2>/dev/null | sort -z | xargs -0 cat | sha256sum | cut -c1-16)"
if [[ "${KWS_FORCE_BUILD:-0}" == 1 || ! -x "$BIN/kws-cluster" || "$(cat "$BIN/.kws-cluster.src" 2>/dev/null)" != "$SRC_KEY" ]]; then
  log "building kws-cluster harness"
  mkdir -p "$BIN"
  (cd "$HERE" && go build -p "$P" -trimpath -ldflags "-s -w" -o "$BIN/kws-cluster.tmp.$$" ./cmd/kws-cluster)
  mv -f "$BIN/kws-cluster.tmp.$$" "$BIN/kws-cluster"
  echo "$SRC_KEY" > "$BIN/.kws-cluster.src"
fi

echo "$BIN"
