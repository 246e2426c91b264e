# shellcheck shell=bash disable=SC2154 # tmp, K, have_binary: set by deploy_test.sh
# The chart's variants that change how the server is reached: HTTPS from a
# kubernetes.io/tls Secret, and auth.mode proxy with the front proxy's CA;
# export to Kafka with its Secret at /kafka; and a hub.
# Sourced by deploy_test.sh, whose render, check, dry_run, jqt and
# config_rejected it uses; chart_certificate_variants runs the checks.

# Renders the chart as variant `name` with the helm arguments that follow,
# checks that it passes the server dry run and that `pod_test` (a jq test of
# the StatefulSet's pod spec, described by `pod_label`) holds, writes the
# server config it renders to $tmp/chart-<name>-resources.yaml and, with the
# server binary at hand, checks that the server validates that config and
# stops on `rejected` (the file it cannot read here). False when helm
# refuses.
chart_variant() {
  local name=$1 label=$2 pod_label=$3 pod_test=$4 rejected=$5
  shift 5
  # The subcommand the pod runs (a hub's), for the server's own check.
  local subcommand=${variant_subcommand:-}
  if ! render k8s-watch-server "$tmp/chart-$name.yaml" "$@"; then
    sed 's/^/    /' "$tmp/chart-$name.yaml.err"
    fail "helm template ($label)"
    return 1
  fi
  check "chart ($label) passes the server dry run" dry_run "$tmp/chart-$name.yaml"
  "${K[@]}" apply --dry-run=server -f "$tmp/chart-$name.yaml" -o json >"$tmp/chart-$name.json" 2>/dev/null
  check "chart ($label): $pod_label" \
    jqt "$tmp/chart-$name.json" "[.items[] | select(.kind==\"StatefulSet\")][0] | .spec.template.spec | $pod_test"
  jq -r '[.items[] | select(.kind=="ConfigMap")][0].data["resources.yaml"]' "$tmp/chart-$name.json" >"$tmp/chart-$name-resources.yaml"
  if [ "$have_binary" = 1 ]; then
    check "the server validates the chart's settings ($label) and stops on: $rejected" \
      config_rejected "$tmp/chart-$name-resources.yaml" "$rejected" "$subcommand"
  fi
}

# A jq test: volume `name` comes from `source` and is mounted at `path`.
mounted() {
  echo "([.volumes[] | select(.name==\"$1\")][0].$2) and ([.containers[0].volumeMounts[] | select(.name==\"$1\")][0].mountPath == \"$3\")"
}

chart_certificate_variants() {
  chart_variant tls tls.secretName "Secret kws-tls mounted at /tls, every probe HTTPS" \
    "$(mounted tls 'secret.secretName == "kws-tls"' /tls) and ([.containers[0] | .startupProbe, .livenessProbe, .readinessProbe | .httpGet.scheme] == [\"HTTPS\", \"HTTPS\", \"HTTPS\"])" \
    "tls.certFile: cannot read /tls/tls.crt" \
    --set tls.secretName=kws-tls
  if chart_variant proxy "auth.mode proxy" "ConfigMap kws-proxy-ca mounted at /proxy-ca" \
       "$(mounted proxy-ca 'configMap.name == "kws-proxy-ca"' /proxy-ca)" \
       "tls.certFile: cannot read /tls/tls.crt" \
       --set tls.secretName=kws-tls --set proxyAuth.caConfigMapName=kws-proxy-ca \
       --set config.auth.mode=proxy --set 'config.auth.proxy.allowedNames={front-proxy-client}'; then
    check "chart config (auth.mode proxy): clientCAFile /proxy-ca/ca.crt and the allowed name" \
      bash -c "grep -q 'clientCAFile: /proxy-ca/ca.crt' '$tmp/chart-proxy-resources.yaml' && grep -q -- '- front-proxy-client' '$tmp/chart-proxy-resources.yaml'"
  fi
  if render k8s-watch-server "$tmp/chart4.yaml" --set config.auth.mode=proxy; then
    fail "helm template refuses auth.mode proxy without tls.secretName and proxyAuth.caConfigMapName"
  else
    check "helm template refuses auth.mode proxy without its certificate settings" \
      grep -q "needs tls.secretName" "$tmp/chart4.yaml.err"
  fi
}

chart_export_variant() {
  chart_variant kafka export.kafka "Secret kws-kafka mounted at /kafka" \
    "$(mounted kafka 'secret.secretName == "kws-kafka"' /kafka)" \
    "export.kafka.sasl.passwordFile: cannot read /kafka/password" \
    --set kafkaExport.secretName=kws-kafka \
    --set-json 'config.export={"kafka":{"brokers":["kafka-0.kafka:9092"],"cluster":"prod-eu-1","tls":{"caFile":"/kafka/ca.crt"},"sasl":{"mechanism":"SCRAM-SHA-512","username":"kws","passwordFile":"/kafka/password"}}}'
}

# A hub: `k8s-watch-server hub` with the Kafka Secret, no ClusterRole, and
# its settings validated by the hub; and what the chart refuses of a hub.
chart_hub_variant() {
  local hub_json='{"kafka":{"brokers":["kafka-0.kafka:9092"],"group":"fleet","tls":{"caFile":"/kafka/ca.crt"},"sasl":{"mechanism":"PLAIN","username":"hub","passwordFile":"/kafka/password"}},"clusters":["prod-eu-1","prod-us-1"]}'
  if variant_subcommand=hub chart_variant hub hub.enabled \
       "runs the hub with Secret kws-kafka mounted at /kafka" \
       "(.containers[0].args == [\"hub\"]) and $(mounted kafka 'secret.secretName == "kws-kafka"' /kafka)" \
       "hub.kafka.sasl.passwordFile: cannot read /kafka/password" \
       --set hub.enabled=true --set kafkaExport.secretName=kws-kafka \
       --set config.auth.mode=none --set-json "config.hub=$hub_json"; then
    check "chart (hub) makes no ClusterRole: a hub watches nothing" \
      bash -c "! grep -qE '^kind: ClusterRole(Binding)?$' '$tmp/chart-hub.yaml'"
  fi
  if render k8s-watch-server "$tmp/chart-hub-token.yaml" --set hub.enabled=true \
       --set-json "config.hub=$hub_json"; then
    fail "helm template refuses a hub with auth.mode token"
  else
    check "helm template refuses a hub with auth.mode token" \
      grep -q "hub.enabled needs config.auth.mode none" "$tmp/chart-hub-token.yaml.err"
  fi
  if render k8s-watch-server "$tmp/chart-hub-empty.yaml" --set hub.enabled=true \
       --set config.auth.mode=none; then
    fail "helm template refuses a hub without config.hub"
  else
    check "helm template refuses a hub without config.hub" \
      grep -q "hub.enabled needs config.hub.kafka" "$tmp/chart-hub-empty.yaml.err"
  fi
}
