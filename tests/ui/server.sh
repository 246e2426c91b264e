# shellcheck shell=bash disable=SC2154 # root, ns, port, api, kubeconfig: set by the script
# The server's life in the page tests and the page bench: start it on the
# test's store and port (again after a stop, so the store sees an outage),
# find where it serves the page, and wait for records of the test namespace.
# Sourced once root is set; brings tests/e2e/lib.sh along.
#
#   ui_env             once ns is set: state, server_bin, cluster_name, a
#                      fresh tmp, no server yet, and the EXIT trap (on_exit,
#                      which calls the script's cleanup)
#   ui_cleanup         stops the servers (and hub.sh's hub and broker),
#                      deletes the test namespace and tmp
#   start_server       starts $server_bin on $tmp/store and $port (log
#                      appended to $tmp/server.log) with the environment
#                      of server_env, waits for /readyz
#   stop_server        SIGTERM, waits for it to exit
#   start_token_server a second server with AUTH_MODE=token on a store
#                      ($tmp/token-store) and a port of its own: sets
#                      token_port and token_api (log $tmp/token-server.log),
#                      with the environment of token_env, waits for /readyz
#   stop_token_server  SIGTERM, waits for it to exit
#   serve_page API     sets page_url: the page the server at API serves at
#                      /ui/ (HTML and its app.js), or with
#                      KWS_UI_DEV_SERVER=1 (development only) ui/dev-server.mjs
#                      over one fresh ui/build.sh, proxying the API to it
#   set_page_base_url  sets base: serve_page of the first server
#   wait_record QUERY  prints the id of the first record of $ns matching
#                      resourceType=QUERY, waiting up to 30 s; empty if none
#   wait_record_as API TOKEN NAMESPACE QUERY
#                      the same, asked of API with the bearer TOKEN (none
#                      when empty)
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
  token_pid=""
  hub_pid=""
  server_env=()
  token_env=()
  dev_pids=()
  base=""
  trap on_exit EXIT
}

ui_cleanup() {
  local pid
  for pid in "${dev_pids[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid"
  done
  # hub.sh's, when the script sourced it.
  if declare -F hub_stop >/dev/null; then hub_stop; fi
  stop_token_server
  stop_server
  if declare -F broker_down >/dev/null; then broker_down; fi
  kws_e2e_cleanup_cluster
  rm -rf "$tmp"
}

# launch_server STORE PORT LOG [NAME=VALUE...]: $server_bin in the
# background with the environment given (pid in launched_pid); returns once
# it answers /readyz (1 after 60 s).
launch_server() {
  local store=$1 p=$2 log=$3
  shift 3
  env KUBECONFIG="$kubeconfig" STORAGE_PATH="$store" SERVER_PORT="$p" "$@" \
    "$server_bin" >>"$log" 2>&1 &
  launched_pid=$!
  for _ in $(seq 200); do
    [ "$(http_code "http://127.0.0.1:$p/readyz")" = 200 ] && return 0
    sleep 0.3
  done
  return 1
}

terminate() {
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null
  wait "$1"
}

start_server() {
  local rc=0
  launch_server "$tmp/store" "$port" "$tmp/server.log" "${server_env[@]}" || rc=1
  server_pid=$launched_pid
  check "the server is ready on port $port" test "$rc" = 0
  return $rc
}

stop_server() {
  terminate "$server_pid"
  server_pid=""
}

start_token_server() {
  token_port=$(free_port)
  # shellcheck disable=SC2034 # token_api: read by the script
  token_api=http://127.0.0.1:$token_port
  local rc=0
  launch_server "$tmp/token-store" "$token_port" "$tmp/token-server.log" AUTH_MODE=token \
    "${token_env[@]}" || rc=1
  token_pid=$launched_pid
  check "the token-mode server (AUTH_MODE=token) is ready on port $token_port" test "$rc" = 0
  return $rc
}

stop_token_server() {
  terminate "$token_pid"
  token_pid=""
}

serve_page() {
  local to=$1
  if [ "${KWS_UI_DEV_SERVER:-}" = 1 ]; then
    local dev_port
    dev_port=$(free_port)
    if [ ! -f "$tmp/ui-out/app.js" ]; then
      "$root/ui/build.sh" "$tmp/ui-out" >"$tmp/ui-build.log" 2>&1 \
        || { tail -20 "$tmp/ui-build.log"; page_url=""; return 1; }
    fi
    node "$root/ui/dev-server.mjs" --dir "$tmp/ui-out" --port "$dev_port" \
      --api "$to" >>"$tmp/dev-server.log" 2>&1 &
    dev_pids+=("$!")
    page_url=http://127.0.0.1:$dev_port/ui/
    note "development: the page from ui/ through ui/dev-server.mjs at $page_url (API $to)"
  else
    page_url=$to/ui/
  fi
  # The page and its script: a server built without the page (KWS_UI=OFF)
  # answers /ui/ with a note but no app.js.
  for _ in $(seq 50); do
    curl -s --max-time 5 "$page_url" | grep -qi '<html' \
      && [ "$(http_code "${page_url}app.js")" = 200 ] && return 0
    sleep 0.2
  done
  return 1
}

set_page_base_url() {
  local rc=0
  serve_page "$api" || rc=1
  # shellcheck disable=SC2034 # base: read by the script
  base=$page_url
  return $rc
}

wait_record() {
  wait_record_as "$api" "" "$ns" "$1"
}

wait_record_as() {
  local to=$1 token=$2 namespace=$3 q=$4 id="" auth=()
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  for _ in $(seq 100); do
    # An error answer (401, 403) is an object: no id yet.
    id=$(curl -s "${auth[@]}" "$to/api/v1/events?namespace=$namespace&resourceType=$q" \
      | jq -r '.[0]?.id // empty' 2>/dev/null)
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
