# shellcheck shell=bash disable=SC2154 # root, tmp, ns, api, server_bin, stopped_at: set by run.sh
# The page at a hub: both servers of run.sh export what they record to a
# real Kafka broker (tests/kafka) as clusters "alpha" (the first server) and
# "beta" (the token-mode server), and a hub (`k8s-watch-server hub`)
# consumes the topic and serves the page for both. Sourced by run.sh after
# server.sh.
#
#   hub_broker  starts a broker of its own (state in $tmp/kafka), makes the
#               topic, writes the servers' and the hub's configs and sets
#               server_env and token_env so that the servers export;
#               returns 1 (with a FAIL line) when the broker did not start
#   hub_mode    starts the hub (store $tmp/hub-store, log $tmp/hub.log),
#               waits until it holds the first server's records of the
#               Deployment under the same ids and beta's of it too, and the
#               first server's coverage since its outage, and writes
#               $tmp/hub-facts.json
#   hub_stop    stops the hub
#   broker_down removes the broker (after the servers stopped exporting)

hub_topic=kws-ui-changes

hub_broker() {
  local kafka_port out
  kafka_port=$(free_port)
  out=$(KWS_KAFKA_DIR=$tmp/kafka "$root/tests/kafka/up" --port "$kafka_port" 2>"$tmp/kafka-up.log")
  hub_bootstrap=$(tail -1 <<<"$out")
  if [ -z "$hub_bootstrap" ] \
    || ! KWS_KAFKA_DIR=$tmp/kafka "$root/tests/kafka/create-topic" --bootstrap "$hub_bootstrap" \
      --topic "$hub_topic" --partitions 2 >>"$tmp/kafka-up.log" 2>&1; then
    tail -20 "$tmp/kafka-up.log"
    fail "a Kafka broker (tests/kafka/up) with the topic $hub_topic"
    return 1
  fi
  pass "a Kafka broker at $hub_bootstrap with the topic $hub_topic"
  local c
  for c in alpha beta; do
    printf 'export:\n  kafka:\n    brokers: ["%s"]\n    topic: %s\n    cluster: %s\n' \
      "$hub_bootstrap" "$hub_topic" "$c" >"$tmp/export-$c.yaml"
  done
  printf 'hub:\n  kafka:\n    brokers: ["%s"]\n    topic: %s\n    group: kws-ui-hub\n  clusters: [alpha, beta]\n' \
    "$hub_bootstrap" "$hub_topic" >"$tmp/hub.yaml"
  # shellcheck disable=SC2034 # read by server.sh
  {
    server_env=(CONFIG_PATH="$tmp/export-alpha.yaml")
    token_env=(CONFIG_PATH="$tmp/export-beta.yaml")
  }
}

# The ids of the records of Deployment web in $ns that URL answers.
web_ids() {
  curl -s --max-time 10 "$1" | jq -c '[.[]?.id]' 2>/dev/null
}

hub_mode() {
  hub_port=$(free_port)
  hub_api=http://127.0.0.1:$hub_port
  env STORAGE_PATH="$tmp/hub-store" SERVER_PORT="$hub_port" CONFIG_PATH="$tmp/hub.yaml" \
    "$server_bin" hub >>"$tmp/hub.log" 2>&1 &
  hub_pid=$!
  local ready=0 alpha_ids hub_alpha beta_ids="[]" web
  for _ in $(seq 200); do
    [ "$(http_code "$hub_api/readyz")" = 200 ] && { ready=1; break; }
    sleep 0.3
  done
  need "the hub is ready on port $hub_port" test "$ready" = 1 || return 1
  need "the hub lists the clusters alpha and beta" \
    test "$(curl -s "$hub_api/api/v1/clusters" | jq -c '[.clusters[].name]')" = '["alpha","beta"]' \
    || return 1
  web="namespace=$ns&resourceType=deployments&resourceName=web"
  alpha_ids=$(web_ids "$api/api/v1/events?$web")
  for _ in $(seq 100); do
    hub_alpha=$(web_ids "$hub_api/api/v1/events?cluster=alpha&$web")
    beta_ids=$(web_ids "$hub_api/api/v1/events?cluster=beta&$web")
    [ "$hub_alpha" = "$alpha_ids" ] && [ "$beta_ids" != "[]" ] && [ -n "$beta_ids" ] && break
    sleep 0.3
  done
  need "the hub holds the first server's records of deployment web under the same ids ($alpha_ids)" \
    test "$hub_alpha" = "$alpha_ids" || return 1
  need "the hub holds beta's records of deployment web ($beta_ids)" \
    test -n "$beta_ids" -a "$beta_ids" != "[]" || return 1
  local coverage="/api/v1/coverage?start=$stopped_at" own held
  for _ in $(seq 100); do
    own=$(curl -s "$api$coverage")
    held=$(curl -s "$hub_api$coverage&cluster=alpha")
    [ -n "$own" ] && [ "$own" = "$held" ] && break
    sleep 0.3
  done
  need "the hub's coverage of alpha since the outage is the first server's ($(jq -c '[.gaps[].reason] | unique' <<<"$own"))" \
    test -n "$own" -a "$own" = "$held" || return 1
  serve_page "$hub_api" || { fail "the hub serves the page ($page_url)"; return 1; }
  jq -n --arg base "$page_url" --arg api "$hub_api" --argjson alpha "$alpha_ids" \
    '{base: $base, api: $api, clusters: ["alpha", "beta"], alphaWebIds: $alpha}' \
    >"$tmp/hub-facts.json"
}

hub_stop() {
  terminate "$hub_pid"
  hub_pid=""
}

broker_down() {
  [ -d "$tmp/kafka" ] && KWS_KAFKA_DIR=$tmp/kafka "$root/tests/kafka/down" --quiet
}
