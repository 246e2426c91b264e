# shellcheck shell=bash disable=SC2154 # root, ns, cluster_name, tmp: set by the script
# Shared by the e2e scripts that run against the local control plane
# (tests/cluster/up): deploy_test.sh and image_test.sh source it.
#
#   pass, fail, note, check   one output line per check, counted
#   on_exit                   the EXIT trap: calls the script's cleanup, prints
#                             `N passed, M failed`, exits 0 only without a
#                             failure
#   kws_e2e_cluster STATE     the control plane of the state file: kubeconfig,
#                             kubectl_bin, ca_file, api_port and K (kubectl
#                             with the kubeconfig); exits on failure
#   kws_e2e_namespace         creates the test namespace $ns; exits on failure
#   kws_e2e_rbac              applies deploy/rbac.yaml in $ns, the ClusterRole
#                             and its binding renamed to $cluster_name
#   kws_e2e_service_account DIR
#                             what a pod of the StatefulSet gets mounted at
#                             /var/run/secrets/kubernetes.io/serviceaccount:
#                             a token of the ServiceAccount, the CA, $ns
#   kws_e2e_cleanup_cluster   deletes what kws_e2e_rbac and kws_e2e_namespace
#                             made
#   free_port, http_code      a free local port; the HTTP status of a URL
#
# The script sets root, ns, cluster_name and tmp before calling them and
# defines cleanup.

passed=0
failed=0
ns_created=0
rbac_applied=0
K=()

pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
note() { echo "NOTE: $*"; }
check() { # check "description" command...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

on_exit() {
  cleanup >/dev/null 2>&1
  echo "$passed passed, $failed failed"
  if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then exit 0; fi
  exit 1
}

kws_e2e_cluster() {
  local state=$1 status
  if [ ! -f "$state" ]; then
    fail "control plane state file $state exists (run tests/cluster/up)"
    exit 1
  fi
  status=$(jq -r .status "$state" 2>/dev/null)
  if [ "$status" != ready ]; then
    fail "control plane is ready (state $state says '${status:-unreadable}')"
    exit 1
  fi
  # shellcheck disable=SC2034 # used by the scripts
  {
    kubeconfig=$(jq -r .kubeconfig "$state")
    kubectl_bin="$(jq -r .bin_dir "$state")/kubectl"
    ca_file=$(jq -r .ca_file "$state")
    api_port=$(jq -r '.ports["kube-apiserver"]' "$state")
  }
  K=("$kubectl_bin" --kubeconfig "$kubeconfig" --request-timeout=30s)
  if ! "${K[@]}" get --raw /readyz >/dev/null 2>&1; then
    fail "kube-apiserver answers /readyz"
    exit 1
  fi
  pass "control plane is ready ($(jq -r .api_url "$state"))"
}

kws_e2e_namespace() {
  if "${K[@]}" create namespace "$ns" >/dev/null; then
    ns_created=1
    pass "test namespace $ns created"
  else
    fail "test namespace $ns created"
    exit 1
  fi
}

# kws_e2e_rbac: rbac.yaml in the test namespace, the cluster-wide objects
# renamed; the rendered objects in $tmp/rbac.yaml, errors in $tmp/rbac.err.
kws_e2e_rbac() {
  mkdir -p "$tmp/rbac"
  cp "$root/deploy/rbac.yaml" "$tmp/rbac/rbac.yaml"
  cat >"$tmp/rbac/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $ns
resources:
  - rbac.yaml
patches:
  - target: {kind: ClusterRole, name: k8s-watch-server}
    patch: |-
      - op: replace
        path: /metadata/name
        value: $cluster_name
  - target: {kind: ClusterRoleBinding, name: k8s-watch-server}
    patch: |-
      - op: replace
        path: /metadata/name
        value: $cluster_name
      - op: replace
        path: /roleRef/name
        value: $cluster_name
EOF
  rbac_applied=1
  "${K[@]}" kustomize "$tmp/rbac" >"$tmp/rbac.yaml" 2>"$tmp/rbac.err" \
    && "${K[@]}" apply -f "$tmp/rbac.yaml" >"$tmp/rbac.out" 2>>"$tmp/rbac.err"
}

# kws_e2e_service_account DIR: DIR/token (of the ServiceAccount
# k8s-watch-server in $ns, valid for an hour), DIR/ca.crt (the control
# plane's CA) and DIR/namespace; errors in $tmp/token.err.
kws_e2e_service_account() {
  local dir=$1 token
  token=$("${K[@]}" create token k8s-watch-server -n "$ns" --duration=1h 2>"$tmp/token.err") \
    || return 1
  mkdir -p "$dir"
  printf '%s' "$token" >"$dir/token"
  cp "$ca_file" "$dir/ca.crt"
  printf '%s' "$ns" >"$dir/namespace"
}

kws_e2e_cleanup_cluster() {
  [ ${#K[@]} -gt 0 ] || return 0
  if [ "$rbac_applied" = 1 ]; then
    "${K[@]}" delete clusterrolebinding "$cluster_name" --ignore-not-found --wait=false
    "${K[@]}" delete clusterrole "$cluster_name" --ignore-not-found --wait=false
  fi
  if [ "$ns_created" = 1 ]; then
    "${K[@]}" delete namespace "$ns" --ignore-not-found --wait=false
  fi
}

# A port below Linux's ephemeral range (32768 and up), used by no socket in
# any state: a port the kernel may hand to an outgoing connection meanwhile
# (the server's own to the apiserver, etcd's) would fail the server's bind.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000))
    ss -Htan "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
  echo 18080
}

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }
