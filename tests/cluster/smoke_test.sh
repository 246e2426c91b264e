#!/usr/bin/env bash
# Checks a running cluster (tests/cluster/up must have been run):
#   Deployment -> ReplicaSet -> 3 Running pods with the controller/scheduler Events,
#   CRD Established + custom resource, audit log entries for those writes,
#   bearer token / client certificate / ServiceAccount token authentication,
#   deletion with force-deleted pods and namespace cleanup.
# State file: $KWS_CLUSTER_STATE (default ${KWS_CLUSTER_DIR:-/tmp/kws-cluster}/state.json).
# Prints "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
STATE="${KWS_CLUSTER_STATE:-${KWS_CLUSTER_DIR:-/tmp/kws-cluster}/state.json}"
for c in jq curl; do command -v $c >/dev/null || { echo "missing $c" >&2; exit 1; }; done

PASS=0; FAIL=0
ok()   { PASS=$((PASS+1)); echo "ok   - $*"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL - $*"; }
check() { local d="$1"; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [[ $FAIL == 0 ]]; exit $?; }
# retry SECONDS CMD...: run CMD until it succeeds or time runs out.
retry() { local t="$1"; shift; local end=$(( $(date +%s) + t )); until "$@"; do (( $(date +%s) >= end )) && return 1; sleep 0.5; done; }

if [[ ! -f "$STATE" || "$(jq -r .status "$STATE")" != ready ]]; then
  bad "cluster state $STATE is ready"; finish
fi
ok "cluster state $STATE is ready"
S() { jq -r "$1" "$STATE"; }
API="$(S .api_url)"; CA="$(S .ca_file)"; AUDIT="$(S .audit_log)"
KUBECTL="$(S .bin_dir)/kubectl"
export KUBECONFIG="$(S .kubeconfig)"
NS="smoke-$(date +%s)-$RANDOM"
k() { "$KUBECTL" -n "$NS" "$@"; }

# --- authentication: admin bearer token, admin client certificate, ServiceAccount token
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
check "admin bearer token authenticates (GET /api/v1/namespaces -> 200)" \
  test "$(code --cacert "$CA" -H "Authorization: Bearer $(cat "$(S .admin_token_file)")" "$API/api/v1/namespaces")" = 200
check "admin client certificate authenticates (GET /api/v1/namespaces -> 200)" \
  test "$(code --cacert "$CA" --cert "$(S .admin_cert_file)" --key "$(S .admin_key_file)" "$API/api/v1/namespaces")" = 200
SADIR="$(S .service_account.token_dir)"
check "ServiceAccount token dir has token, ca.crt, namespace" \
  test -s "$SADIR/token" -a -s "$SADIR/ca.crt" -a -s "$SADIR/namespace"
SATOK="$(cat "$SADIR/token")"
check "ServiceAccount token authenticates (GET /api/v1/namespaces -> 200)" \
  test "$(code --cacert "$SADIR/ca.crt" -H "Authorization: Bearer $SATOK" "$API/api/v1/namespaces")" = 200
check "ServiceAccount token can watch cluster-wide (GET /api/v1/pods?watch=1 -> 200)" \
  test "$(code --cacert "$SADIR/ca.crt" -H "Authorization: Bearer $SATOK" "$API/api/v1/pods?watch=1&timeoutSeconds=1")" = 200
check "ServiceAccount token is read-only (POST /api/v1/namespaces -> 403)" \
  test "$(code --cacert "$SADIR/ca.crt" -H "Authorization: Bearer $SATOK" -H 'Content-Type: application/json' \
    -X POST -d '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"sa-must-not-create"}}' "$API/api/v1/namespaces")" = 403
check "a wrong token is rejected (401)" \
  test "$(code --cacert "$CA" -H "Authorization: Bearer not-a-token" "$API/api/v1/namespaces")" = 401

# --- Deployment -> ReplicaSet -> Pods
check "create namespace $NS" "$KUBECTL" create namespace "$NS" -o name
retry 30 k get serviceaccount default -o name >/dev/null 2>&1
check "kubectl apply of a 3-replica Deployment" k apply -f - <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: smoke-web
spec:
  replicas: 3
  selector:
    matchLabels: {app: smoke-web}
  template:
    metadata:
      labels: {app: smoke-web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: nginx:1.27
YAML
check "Deployment rolls out (3/3 available)" k rollout status deployment/smoke-web --timeout=90s
rs_count() { k get rs -l app=smoke-web -o json | jq '[.items[] | select(.metadata.ownerReferences[0].kind=="Deployment")] | length'; }
check "a ReplicaSet owned by the Deployment exists" test "$(rs_count)" -ge 1
running_pods() { k get pods -l app=smoke-web -o json | jq '[.items[] | select(.status.phase=="Running" and any(.status.conditions[]; .type=="Ready" and .status=="True"))] | length'; }
check "3 Pods are Running and Ready" retry 60 test "$(running_pods)" = 3
pods_with_ip() { k get pods -l app=smoke-web -o json | jq '[.items[] | select(.status.podIP != null and .spec.nodeName != null)] | length'; }
check "the Pods are bound to nodes and have pod IPs" test "$(pods_with_ip)" = 3

has_event() { # reason kind
  k get events -o json | jq -e --arg r "$1" --arg k "$2" 'any(.items[]; .reason==$r and .involvedObject.kind==$k)' >/dev/null
}
check "Event ScalingReplicaSet on the Deployment" retry 30 has_event ScalingReplicaSet Deployment
check "Event SuccessfulCreate on the ReplicaSet" retry 30 has_event SuccessfulCreate ReplicaSet
check "Event Scheduled on a Pod" retry 30 has_event Scheduled Pod
check "kubelet-style Event Started on a Pod" retry 30 has_event Started Pod

# --- CRD and custom resource
check "apply a CRD" "$KUBECTL" apply -f - <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.smoke.kws.test
spec:
  group: smoke.kws.test
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
YAML
check "the CRD becomes Established" "$KUBECTL" wait --for=condition=Established crd/gadgets.smoke.kws.test --timeout=60s
create_cr() { k apply -f - >/dev/null 2>&1 <<'YAML'
apiVersion: smoke.kws.test/v1
kind: Gadget
metadata: {name: g1}
spec: {size: 3}
YAML
}
check "a custom resource can be created" retry 30 create_cr
check "the custom resource can be read back" test "$(k get gadget g1 -o jsonpath='{.spec.size}')" = 3
check "the custom resource can be patched" k patch gadget g1 --type=merge -p '{"spec":{"size":4}}'

# --- deletion: pods terminate and are force-deleted by the fake kubelet
check "delete the Deployment" k delete deployment smoke-web --wait=false
no_pods() { test "$(k get pods -l app=smoke-web -o name | wc -l)" = 0; }
check "its Pods are gone (terminating pods force-deleted)" retry 60 no_pods
check "delete the custom resource" k delete gadget g1

# --- audit log: every write above, with objectRef and response status
# audit_has VERB RESOURCE NAME CODE [SUBRESOURCE]: a ResponseComplete entry in the test
# namespace (or cluster-scoped) exists. NAME "*" matches any name, including none
# (creates with generateName carry no name at level Metadata).
audit_has() {
  # first(...) stops at the first match: piping all matches into `grep -q`
  # made jq die of SIGPIPE, which pipefail turned into a false "missing".
  jq -n -e --arg v "$1" --arg r "$2" --arg n "$3" --arg c "$4" --arg sub "${5:-}" --arg ns "$NS" '
    first(inputs | select(.stage=="ResponseComplete" and .verb==$v and .objectRef.resource==$r
      and (.objectRef.subresource // "")==$sub
      and ($n=="*" or .objectRef.name==$n)
      and ((.objectRef.namespace // $ns)==$ns)
      and ($c=="" or (.responseStatus.code|tostring)==$c))) | true' "$AUDIT" >/dev/null 2>&1
}
check "audit log exists and is JSON lines" bash -c "jq -e -s 'length > 0' '$AUDIT' >/dev/null"
check "audit: create namespace $NS (201)" retry 10 audit_has create namespaces "$NS" 201
check "audit: create deployment smoke-web (201)" retry 10 audit_has create deployments smoke-web 201
check "audit: create replicaset by the controller (201)" retry 10 audit_has create replicasets "*" 201
check "audit: create pods by the controller (201)" retry 10 audit_has create pods "*" 201
check "audit: pod binding by the scheduler (201)" retry 10 audit_has create pods "*" 201 binding
check "audit: update pods/status by the fake kubelet (200)" retry 10 audit_has update pods "*" 200 status
check "audit: delete of the terminating pods (200)" retry 10 audit_has delete pods "*" 200
check "audit: create customresourcedefinition (201)" retry 10 audit_has create customresourcedefinitions gadgets.smoke.kws.test 201
check "audit: create gadget g1 (201)" retry 10 audit_has create gadgets g1 201
check "audit: patch gadget g1 (200)" retry 10 audit_has patch gadgets g1 200
check "audit: delete deployment smoke-web (200)" retry 10 audit_has delete deployments smoke-web 200
check "audit: delete gadget g1 (200)" retry 10 audit_has delete gadgets g1 200
check "audit: no get/list/watch entries" bash -c "! jq -e -c 'select(.verb==\"get\" or .verb==\"list\" or .verb==\"watch\")' '$AUDIT' | grep -q ."
check "audit: entries carry user, objectRef and responseStatus" bash -c \
  "jq -e -s 'all(.[]; .user.username != null and .objectRef.resource != null and .responseStatus.code != null)' '$AUDIT' >/dev/null"

# --- cleanup: namespace deletion completes (needs the pods to be really gone)
check "delete the CRD" "$KUBECTL" delete crd gadgets.smoke.kws.test
check "delete namespace $NS" "$KUBECTL" delete namespace "$NS" --wait=false
ns_gone() { ! "$KUBECTL" get namespace "$NS" >/dev/null 2>&1; }
check "namespace $NS is fully deleted" retry 90 ns_gone

finish
