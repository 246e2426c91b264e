# shellcheck shell=bash disable=SC2154 # root, ns, port, api, kubeconfig: set by the script
# The server's life in the page tests and the page bench: start it on the
# test's store and port (again after a stop, so the store sees an outage),
# find where it serves the page, and wait for records of the test namespace.
# Sourced once root is set; brings tests/e2e/lib.sh along.
#
#   ui_env             once ns is set: state, server_bin, cluster_name, a
#                      fresh tmp, no server yet, and the EXIT trap (on_exit,
#                      which calls the script's cleanup)
#   ui_cleanup         stops the servers, deletes the test namespace and tmp
#   start_server       starts $server_bin on $tmp/store and $port (log
#                      appended to $tmp/server.log), waits for /readyz
#   stop_server        SIGTERM, waits for it to exit
#   set_page_base_url  sets base: the page the server serves at /ui/ (HTML and
#                      its app.js), or with
#                      KWS_UI_DEV_SERVER=1 (development only) ui/dev-server.mjs
#                      over a fresh ui/build.sh, proxying the API to the server
#   wait_record QUERY  prints the id of the first record of $ns matching
#                      resourceType=QUERY, waiting up to 30 s; empty if none
#   space_after ID     returns 2 s after the time of record ID

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"

ui_env() {
  # shellcheck disable=SC2034 # state: read by the script; cluster_name: lib.sh
  {
    state=${KWS_CLUSTER_STATE:-${KWS_CLUSTER_DIR:-/tmp/kws-cluster}/state.json}
    cluster_name=$ns
  }
  server_bin=${KWS_SERVER_BINARY:-${KWS_DEFAULT_SERVER_BINARY:-$root/build/k8s-watch-server}}
  tmp=$(mktemp -d)
  server_pid=""
  dev_pid=""
  base=""
  trap on_exit EXIT
}

ui_cleanup() {
  [ -n "$dev_pid" ] && kill "$dev_pid" 2>/dev/null && wait "$dev_pid"
  stop_server
  kws_e2e_cleanup_cluster
  rm -rf "$tmp"
}

start_server() {
  KUBECONFIG=$kubeconfig STORAGE_PATH=$tmp/store SERVER_PORT=$port \
    "$server_bin" >>"$tmp/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do
    [ "$(http_code "$api/readyz")" = 200 ] && break
    sleep 0.3
  done
  check "the server is ready on port $port" test "$(http_code "$api/readyz")" = 200
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid"
  server_pid=""
}

set_page_base_url() {
  if [ "${KWS_UI_DEV_SERVER:-}" = 1 ]; then
    local dev_port
    dev_port=$(free_port)
    "$root/ui/build.sh" "$tmp/ui-out" >"$tmp/ui-build.log" 2>&1 \
      || { tail -20 "$tmp/ui-build.log"; return 1; }
    node "$root/ui/dev-server.mjs" --dir "$tmp/ui-out" --port "$dev_port" \
      --api "$api" >"$tmp/dev-server.log" 2>&1 &
    dev_pid=$!
    base=http://127.0.0.1:$dev_port/ui/
    note "development: the page from ui/ through ui/dev-server.mjs at $base"
  else
    base=$api/ui/
  fi
  # The page and its script: a server built without the page (KWS_UI=OFF)
  # answers /ui/ with a note but no app.js.
  for _ in $(seq 50); do
    curl -s --max-time 5 "$base" | grep -qi '<html' \
      && [ "$(http_code "${base}app.js")" = 200 ] && return 0
    sleep 0.2
  done
  return 1
}

wait_record() {
  local id=""
  for _ in $(seq 100); do
    id=$(curl -s "$api/api/v1/events?namespace=$ns&resourceType=$1" | jq -r '.[0].id // empty')
    [ -n "$id" ] && break
    sleep 0.3
  done
  echo "$id"
}

space_after() {
  local at wait
  at=$(curl -s "$api/api/v1/records/$1" | jq -r .timestamp)
  wait=$(awk -v t="$(date -d "$at" +%s.%N)" -v now="$(date +%s.%N)" \
    'BEGIN { w = t + 2 - now; print (w > 0 ? w : 0) }')
  sleep "$wait"
}
