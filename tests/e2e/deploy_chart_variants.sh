# shellcheck shell=bash disable=SC2154 # tmp, K, have_binary: set by deploy_test.sh
# The chart's variants that change how the server is reached: HTTPS from a
# kubernetes.io/tls Secret, and auth.mode proxy with the front proxy's CA;
# and export to Kafka with its Secret at /kafka.
# Sourced by deploy_test.sh, whose render, check, dry_run, jqt and
# config_rejected it uses; chart_certificate_variants runs the checks.

chart_certificate_variants() {
  local cs
  if render k8s-watch-server "$tmp/chart-tls.yaml" --set tls.secretName=kws-tls; then
    check "chart (tls.secretName) passes the server dry run" dry_run "$tmp/chart-tls.yaml"
    "${K[@]}" apply --dry-run=server -f "$tmp/chart-tls.yaml" -o json >"$tmp/chart-tls.json" 2>/dev/null
    cs='[.items[] | select(.kind=="StatefulSet")][0]'
    check "chart (tls.secretName): Secret kws-tls mounted at /tls, every probe HTTPS" \
      jqt "$tmp/chart-tls.json" "$cs | .spec.template.spec | ([.volumes[] | select(.name==\"tls\")][0].secret.secretName == \"kws-tls\") and ([.containers[0].volumeMounts[] | select(.name==\"tls\")][0].mountPath == \"/tls\") and ([.containers[0] | .startupProbe, .livenessProbe, .readinessProbe | .httpGet.scheme] == [\"HTTPS\", \"HTTPS\", \"HTTPS\"])"
    jq -r '[.items[] | select(.kind=="ConfigMap")][0].data["resources.yaml"]' "$tmp/chart-tls.json" >"$tmp/chart-tls-resources.yaml"
    if [ "$have_binary" = 1 ]; then
      check "the server reads the chart's TLS certificate from /tls/tls.crt" \
        config_rejected "$tmp/chart-tls-resources.yaml" "tls.certFile: cannot read /tls/tls.crt"
    fi
  else
    sed 's/^/    /' "$tmp/chart-tls.yaml.err"
    fail "helm template (tls.secretName)"
  fi
  if render k8s-watch-server "$tmp/chart-proxy.yaml" --set tls.secretName=kws-tls \
       --set proxyAuth.caConfigMapName=kws-proxy-ca --set config.auth.mode=proxy \
       --set 'config.auth.proxy.allowedNames={front-proxy-client}'; then
    check "chart (auth.mode proxy) passes the server dry run" dry_run "$tmp/chart-proxy.yaml"
    "${K[@]}" apply --dry-run=server -f "$tmp/chart-proxy.yaml" -o json >"$tmp/chart-proxy.json" 2>/dev/null
    check "chart (auth.mode proxy): ConfigMap kws-proxy-ca mounted at /proxy-ca" \
      jqt "$tmp/chart-proxy.json" "[.items[] | select(.kind==\"StatefulSet\")][0] | .spec.template.spec | ([.volumes[] | select(.name==\"proxy-ca\")][0].configMap.name == \"kws-proxy-ca\") and ([.containers[0].volumeMounts[] | select(.name==\"proxy-ca\")][0].mountPath == \"/proxy-ca\")"
    jq -r '[.items[] | select(.kind=="ConfigMap")][0].data["resources.yaml"]' "$tmp/chart-proxy.json" >"$tmp/chart-proxy-resources.yaml"
    check "chart config (auth.mode proxy): clientCAFile /proxy-ca/ca.crt and the allowed name" \
      bash -c "grep -q 'clientCAFile: /proxy-ca/ca.crt' '$tmp/chart-proxy-resources.yaml' && grep -q -- '- front-proxy-client' '$tmp/chart-proxy-resources.yaml'"
    if [ "$have_binary" = 1 ]; then
      check "the server validates the chart's proxy settings and reads /tls/tls.crt next" \
        config_rejected "$tmp/chart-proxy-resources.yaml" "tls.certFile: cannot read /tls/tls.crt"
    fi
  else
    sed 's/^/    /' "$tmp/chart-proxy.yaml.err"
    fail "helm template (auth.mode proxy)"
  fi
  if render k8s-watch-server "$tmp/chart4.yaml" --set config.auth.mode=proxy; then
    fail "helm template refuses auth.mode proxy without tls.secretName and proxyAuth.caConfigMapName"
  else
    check "helm template refuses auth.mode proxy without its certificate settings" \
      grep -q "needs tls.secretName" "$tmp/chart4.yaml.err"
  fi
}

chart_export_variant() {
  if render k8s-watch-server "$tmp/chart-kafka.yaml" --set kafkaExport.secretName=kws-kafka \
       --set-json 'config.export={"kafka":{"brokers":["kafka-0.kafka:9092"],"cluster":"prod-eu-1","tls":{"caFile":"/kafka/ca.crt"},"sasl":{"mechanism":"SCRAM-SHA-512","username":"kws","passwordFile":"/kafka/password"}}}'; then
    check "chart (export.kafka) passes the server dry run" dry_run "$tmp/chart-kafka.yaml"
    "${K[@]}" apply --dry-run=server -f "$tmp/chart-kafka.yaml" -o json >"$tmp/chart-kafka.json" 2>/dev/null
    check "chart (kafkaExport.secretName): Secret kws-kafka mounted at /kafka" \
      jqt "$tmp/chart-kafka.json" "[.items[] | select(.kind==\"StatefulSet\")][0] | .spec.template.spec | ([.volumes[] | select(.name==\"kafka\")][0].secret.secretName == \"kws-kafka\") and ([.containers[0].volumeMounts[] | select(.name==\"kafka\")][0].mountPath == \"/kafka\")"
    jq -r '[.items[] | select(.kind=="ConfigMap")][0].data["resources.yaml"]' "$tmp/chart-kafka.json" >"$tmp/chart-kafka-resources.yaml"
    if [ "$have_binary" = 1 ]; then
      check "the server validates the chart's export settings and reads the SASL password from /kafka" \
        config_rejected "$tmp/chart-kafka-resources.yaml" "export.kafka.sasl.passwordFile: cannot read /kafka/password"
    fi
  else
    sed 's/^/    /' "$tmp/chart-kafka.yaml.err"
    fail "helm template (export.kafka)"
  fi
}
