#!/usr/bin/env bash
# Runs the container image with Podman the way deploy/statefulset.yaml runs
# the pod, against the local control plane (tests/cluster/up):
#   * deploy/build-image --binary builds the image's runtime stage around the
#     release binary (no compile, no registry; base and layers cached); the
#     image, the binary and its libraries on no base image, is under 100 MB;
#   * the container runs with the StatefulSet's user, read-only root
#     filesystem, dropped capabilities, limits, environment, /data volume,
#     /tmp, the ConfigMap's resources.yaml at /config and a real ServiceAccount
#     token and CA (rbac.yaml) at the in-cluster paths, with
#     KUBERNETES_SERVICE_HOST/PORT pointing at the control plane;
#   * the HEALTHCHECK and the `kubectl exec` commands of deploy/README.md
#     (busybox's wget, du, df, tar, rm; k8s-watch-server backup) work in it;
#   * it becomes ready and records ConfigMaps created and changed with
#     kubectl; `podman stop` (SIGTERM) exits 0 with the last change stored;
#     on the next start it resumes from its volume: the change made while it
#     was down is recorded once, nothing unchanged is recorded again.
# Prints one line per check and `N passed, M failed` last; exits non-zero on
# any failure, and 77 (ctest SKIP_RETURN_CODE) with a SKIP line when Podman
# cannot run containers here.
#
# Environment:
#   KWS_CLUSTER_STATE   state file of the control plane (/tmp/kws-cluster/state.json)
#   KWS_SERVER_BINARY   the release binary (else KWS_DEFAULT_SERVER_BINARY, else build/k8s-watch-server)
#   KWS_PODMAN_CACHE    Podman storage and base image (deploy/podman-env.sh)
#   KWS_KEEP_TMP=1      keep the scratch directory (container logs) afterwards
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
deploy="$root/deploy"
state=${KWS_CLUSTER_STATE:-/tmp/kws-cluster/state.json}
server_bin=${KWS_SERVER_BINARY:-${KWS_DEFAULT_SERVER_BINARY:-$root/build/k8s-watch-server}}

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"
indent() { sed 's/^/    /'; }
skip() {
  echo "SKIP: $* (image_e2e needs Podman able to run containers)"
  trap - EXIT
  cleanup >/dev/null 2>&1
  exit 77
}

suffix="$$-$RANDOM"
ns="kws-image-e2e-$suffix"
cluster_name="k8s-watch-server-image-e2e-$suffix"
ctr="kws-image-e2e-$suffix"
volume="kws-image-e2e-data-$suffix"
image=localhost/k8s-watch-server:e2e
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kws-image-e2e.XXXXXX")
chmod 755 "$tmp"
podman_ready=0

cleanup() {
  if [ "$podman_ready" = 1 ]; then
    podman rm --force --ignore --time 5 "$ctr" "$ctr-bogus"
    podman volume rm --force "$volume"
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

# ------------------------------------------------------------- podman ---
for tool in podman buildah runc mmdebstrap; do
  command -v "$tool" >/dev/null 2>&1 \
    || skip "$tool is not installed (deploy/install-build-deps.sh --test-tools installs it)"
done
# shellcheck source=deploy/podman-env.sh
source "$deploy/podman-env.sh"
kws_podman_env
if ! out=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}}' 2>&1); then
  skip "podman info fails: $(echo "$out" | tail -1)"
fi
podman_ready=1
# Whether this host lets runc start a container at all (namespaces, mounts,
# cgroups), before any image is made: /bin/true and its libraries as rootfs.
probe="$tmp/probe-rootfs"
mkdir -p "$probe"
cp "$(readlink -f /bin/true)" "$probe/true"
for lib in $(ldd /bin/true | grep -oE '/[^ ]+'); do
  mkdir -p "$probe$(dirname "$lib")"
  cp "$(readlink -f "$lib")" "$probe$lib"
done
if ! out=$(podman run --rm --network=none --rootfs "$probe" /true 2>&1); then
  skip "podman cannot start a container here: $(echo "$out" | tail -1)"
fi
pass "podman runs containers ($out$(podman --version), $(podman info --format '{{.Host.OCIRuntime.Name}}, {{.Store.GraphDriverName}} storage, cgroups {{.Host.CgroupsVersion}}'))"

# --------------------------------------------------------------- image ---
if [ ! -x "$server_bin" ]; then
  fail "server binary $server_bin exists (set KWS_SERVER_BINARY)"
  exit 1
fi
if ldd "$server_bin" 2>/dev/null | grep -qE 'lib(a|ub|t)san'; then
  fail "$server_bin is a release binary (it links a sanitizer runtime, which the image does not have)"
  exit 1
fi
old_image=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null)
start=$SECONDS
if "$deploy/build-image" --binary "$server_bin" --tag "$image" >"$tmp/build.log" 2>&1; then
  pass "deploy/build-image --binary: $(tail -1 "$tmp/build.log" | sed 's/^[^:]*: //') (took $((SECONDS - start)) s)"
  # The image of the previous binary (its layer of the binary) goes; the
  # layers below it stay cached.
  if [ -n "$old_image" ] && [ "$old_image" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
    podman rmi "$old_image" >/dev/null 2>&1
  fi
else
  tail -30 "$tmp/build.log" | sed 's/^/    /'
  fail "deploy/build-image --binary $server_bin"
  exit 1
fi
check "the image runs the binary as user 65532 with entrypoint /usr/local/bin/k8s-watch-server" \
  test "$(podman image inspect --format '{{.Config.User}} {{index .Config.Entrypoint 0}}' "$image")" \
    = "65532:65532 /usr/local/bin/k8s-watch-server"
# The runtime stage holds the binary, its shared libraries and busybox only.
size_mb=$(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.1f", $1 / 1e6}')
check "the image is smaller than 100 MB ($size_mb MB)" \
  awk -v s="$size_mb" 'BEGIN {exit !(s > 0 && s < 100)}'

# ------------------------------------------------------------- cluster ---
kws_e2e_cluster "$state"
kws_e2e_namespace
if ! kws_e2e_rbac; then
  sed 's/^/    /' "$tmp/rbac.err"
  fail "rbac.yaml applied in $ns"
  exit 1
fi
pass "rbac.yaml applied (ServiceAccount k8s-watch-server in $ns, ClusterRole/Binding $cluster_name)"

# What a pod of the StatefulSet gets: the projected ServiceAccount token, CA
# and namespace, and the ConfigMap's resources.yaml, readable by anyone
# (defaultMode 0644), mounted read-only.
sa="$tmp/serviceaccount"
mkdir -p "$tmp/config"
if ! kws_e2e_service_account "$sa"; then
  sed 's/^/    /' "$tmp/token.err"
  fail "kubectl create token for the ServiceAccount"
  exit 1
fi
"${K[@]}" create --dry-run=client -o json -f "$deploy/configmap.yaml" \
  | jq -r '.data["resources.yaml"]' >"$tmp/config/resources.yaml"
chmod 755 "$sa" "$tmp/config"
chmod 644 "$sa"/* "$tmp/config/resources.yaml"
check "kubectl create token for the ServiceAccount; ConfigMap data extracted" \
  test -s "$sa/token" -a -s "$tmp/config/resources.yaml"

# ----------------------------------------- the StatefulSet's pod, podman ---
"${K[@]}" create --dry-run=client -o json -f "$deploy/statefulset.yaml" >"$tmp/sts.json"
pod='.spec.template.spec'
c="$pod.containers[0]"
sts() { jq -r "$1" "$tmp/sts.json"; }
uid=$(sts "$pod.securityContext.runAsUser")
gid=$(sts "$pod.securityContext.runAsGroup")
fs_group=$(sts "$pod.securityContext.fsGroup")
grace=$(sts "$pod.terminationGracePeriodSeconds")
mem_limit=$(sts "$c.resources.limits.memory")
cpu_limit=$(sts "$c.resources.limits.cpu")
cpu_request=$(sts "$c.resources.requests.cpu")
cpu_millis() { case $1 in *m) echo "${1%m}" ;; *) awk -v c="$1" 'BEGIN {print c * 1000}' ;; esac; }
memory() { # Kubernetes quantity (Ki, Mi, Gi) to podman's k, m, g
  local q=$1
  q=${q/Ki/k}; q=${q/Mi/m}; echo "${q/Gi/g}"
}
check "statefulset: read-only root filesystem, no privilege escalation, all capabilities dropped" \
  test "$(sts "$c.securityContext | [.readOnlyRootFilesystem, .allowPrivilegeEscalation, (.capabilities.drop | join(\",\"))] | join(\" \")")" \
    = "true false ALL"
check "statefulset mounts: data /data, config /config (read-only), tmp /tmp" \
  test "$(sts "[$c.volumeMounts[] | \"\(.name)=\(.mountPath)\(if .readOnly then \":ro\" else \"\" end)\"] | sort | join(\" \")")" \
    = "config=/config:ro data=/data tmp=/tmp"
# The container's environment: the StatefulSet's, POD_NAMESPACE from the
# downward API, and what the kubelet adds for the Service of the apiserver.
# With host networking (the control plane listens on loopback) the REST API
# gets a free port instead of 8080, which may be taken on the host.
port=$(free_port)
admin_port=$(free_port)
probe_port=$(free_port)
envs=()
while IFS= read -r e; do
  case $e in
    SERVER_PORT=*) envs+=(--env "SERVER_PORT=$port") ;;
    ADMIN_PORT=*) envs+=(--env "ADMIN_PORT=$admin_port") ;;
    PROBE_PORT=*) envs+=(--env "PROBE_PORT=$probe_port") ;;
    POD_NAMESPACE=) envs+=(--env "POD_NAMESPACE=$ns") ;;
    *) envs+=(--env "$e") ;;
  esac
done < <(sts "$c.env[] | \"\(.name)=\(.value // \"\")\"")
envs+=(--env KUBERNETES_SERVICE_HOST=127.0.0.1 --env "KUBERNETES_SERVICE_PORT=$api_port")
note "REST API on port $port, admin on $admin_port, probes on $probe_port (host network; the StatefulSet's are 8080, 8081, 8082)"

# The PVC: an empty volume the kubelet makes group-writable for fsGroup.
podman volume create "$volume" >/dev/null
vol_dir=$(podman volume inspect --format '{{.Mountpoint}}' "$volume")
chgrp "$fs_group" "$vol_dir" && chmod 2775 "$vol_dir"

run=(podman run --detach --name "$ctr" --hostname k8s-watch-server-0
     --network=host
     --user "$uid:$gid" --group-add "$fs_group"
     --read-only --read-only-tmpfs=false
     --cap-drop=ALL --security-opt=no-new-privileges
     --memory "$(memory "$mem_limit")"
     --cpus "$(awk -v m="$(cpu_millis "$cpu_limit")" 'BEGIN {print m / 1000}')"
     --cpu-shares "$(($(cpu_millis "$cpu_request") * 1024 / 1000))"
     --stop-timeout "$grace"
     --volume "$volume:/data:nocopy"
     --volume "$tmp/config:/config:ro"
     --tmpfs "/tmp:rw,size=1g,mode=1777"
     --volume "$sa:/var/run/secrets/kubernetes.io/serviceaccount:ro"
     "${envs[@]}" "$image")
if ! out=$("${run[@]}" 2>&1 >/dev/null) && ! podman container exists "$ctr"; then
  indent <<<"$out"
  fail "podman run (the StatefulSet's settings)"
  exit 1
fi
base="http://127.0.0.1:$port"
running() { [ "$(podman inspect --format '{{.State.Running}}' "$ctr" 2>/dev/null)" = true ]; }
wait_http() { # wait_http URL CODE SECONDS
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt "$deadline" ]; do
    [ "$(http_code "$1")" = "$2" ] && return 0
    running || return 1
    sleep 0.5
  done
  return 1
}
# logs FILE [SKIP]: the container's log (all of its runs) without the first
# SKIP lines.
logs() { podman logs "$ctr" 2>&1 | tail -n "+$((${2:-0} + 1))" >"$1"; }
now_ms() { date +%s%3N; }
start=$SECONDS
if wait_http "$base/readyz" 200 180; then
  pass "container started as the StatefulSet runs it: /readyz 200 after $((SECONDS - start)) s"
else
  podman logs --tail 30 "$ctr" 2>&1 | sed 's/^/    /'
  fail "container /readyz 200 within 180 s"
  exit 1
fi
check "/livez 200" test "$(http_code "$base/livez")" = 200
check "the probe port (the StatefulSet's probes) answers /livez and /readyz 200, nothing else (404)" \
  test "$(http_code "http://127.0.0.1:$probe_port/livez") $(http_code "http://127.0.0.1:$probe_port/readyz") $(http_code "http://127.0.0.1:$probe_port/api/v1/events")" = "200 200 404"
# deploy/configmap.yaml sets auth.mode token: queries carry a token, here
# the ServiceAccount's own (it may get everything).
auth=(-H "Authorization: Bearer $(cat "$sa/token")")
api() { curl -s --max-time 5 "${auth[@]}" "$@"; }
check "auth.mode token: a query without a token is 401" \
  test "$(http_code "$base/api/v1/events?limit=1")" = 401
check "the timeline page and its script are served from the binary" \
  bash -c "curl -s --max-time 5 '$base/' | grep -q '/ui/app.js' && test \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 '$base/ui/app.js')\" = 200"
check "the server runs as uid $uid, gid $gid" \
  test "$(podman exec "$ctr" sh -c 'echo "$(id -u) $(id -g)"')" = "$uid $gid"
check "the root filesystem is read-only" \
  bash -c "podman exec '$ctr' sh -c 'touch /usr/local/bin/x' 2>&1 | grep -q 'Read-only file system'"
check "the store is on the /data volume (/data/watch-events)" \
  podman exec "$ctr" test -d /data/watch-events
if out=$(podman healthcheck run "$ctr" 2>&1); then
  pass "the image's HEALTHCHECK (wget /health) passes"
else
  indent <<<"$out"
  fail "the image's HEALTHCHECK (wget /health) passes"
fi
# What deploy/README.md runs with `kubectl exec` (busybox's applets and the
# binary found by PATH): health, database statistics, the online backup.
check "kubectl exec commands of deploy/README.md: wget -qO- http://localhost:$port/health, du -sh /data/watch-events, df -h /data" \
  bash -c "podman exec '$ctr' wget -qO- 'http://localhost:$port/health' | grep -q . \
    && podman exec '$ctr' du -sh /data/watch-events | grep -q /data/watch-events \
    && podman exec '$ctr' df -h /data | grep -q /data"
# As the README writes it: /data/backups does not exist yet, backup makes it.
online_backup() {
  podman exec "$ctr" k8s-watch-server backup --dest /data/backups/e2e >"$tmp/backup.out" 2>&1 \
    && podman exec "$ctr" tar czf - -C /data/backups e2e | tar tzf - >"$tmp/backup.list" \
    && grep -q '^e2e/CURRENT$' "$tmp/backup.list" \
    && podman exec "$ctr" rm -rf /data/backups/e2e \
    && ! podman exec "$ctr" test -e /data/backups/e2e
}
if online_backup; then
  pass "online backup with kubectl-exec commands: k8s-watch-server backup --dest (a new parent directory), tar czf - of the checkpoint ($(wc -l <"$tmp/backup.list") entries), rm -rf"
else
  indent <"$tmp/backup.out"
  fail "online backup with kubectl-exec commands: k8s-watch-server backup --dest (a new parent directory), tar czf -, rm -rf"
fi
logs "$tmp/run-1.log"
for line in "using configuration from /config/resources.yaml" \
            "Started watching /v1 (ConfigMap)" "Cache synced successfully" \
            "Starting HTTP server on port $port"; do
  check "log line: $line" grep -qF "$line" "$tmp/run-1.log"
done

# records NAME: this namespace's ConfigMap NAME's records, as id verb rv lines.
records() {
  api "$base/api/v1/events?namespace=$ns&resourceType=configmaps&resourceName=$1&order=asc" \
    | jq -r '.[] | "\(.id) \(.verb) \(.resourceVersion)"' 2>/dev/null
}
wait_records() { # wait_records NAME COUNT
  for _ in $(seq 60); do
    [ "$(records "$1" | wc -l)" -ge "$2" ] && return 0
    sleep 0.5
  done
  return 1
}
"${K[@]}" -n "$ns" create configmap kws-image-a --from-literal=greeting=hello >/dev/null
check "a ConfigMap created with kubectl is recorded (create)" wait_records kws-image-a 1
"${K[@]}" -n "$ns" patch configmap kws-image-a --type=merge -p '{"data":{"greeting":"bye"}}' >/dev/null
check "its update is recorded (update)" wait_records kws-image-a 2
got=$(api "$base/api/v1/events/$ns/configmaps/kws-image-a" \
  | jq -r '[.watchEvents[].objectChanges.data.greeting] | join(",")' 2>/dev/null)
check "the object history holds both versions (greeting: ${got:-none})" test "$got" = "hello,bye"

# The last change before the stop: B is in the API (stored) just before the
# SIGTERM; B2 is created right before it and may still be on its way.
"${K[@]}" -n "$ns" create configmap kws-image-b --from-literal=k=v >/dev/null
wait_records kws-image-b 1
before_a=$(records kws-image-a)
before_b=$(records kws-image-b)
all_before=$(api "$base/api/v1/events?namespace=$ns&limit=1000" | jq -r '.[].id' | sort)
"${K[@]}" -n "$ns" create configmap kws-image-b2 --from-literal=k=v >/dev/null
stop_at=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
t0=$(now_ms)
podman stop --time "$grace" "$ctr" >/dev/null 2>&1
stop_ms=$(($(now_ms) - t0))
rc=$(podman inspect --format '{{.State.ExitCode}}' "$ctr")
logs "$tmp/run-1.log"
run1_lines=$(wc -l <"$tmp/run-1.log")
check "podman stop (SIGTERM to the server as PID 1): exit code 0 after $stop_ms ms (got $rc)" \
  test "$rc" = 0
check "no 'Error storing event' in the log" bash -c "! grep -q 'Error storing event' '$tmp/run-1.log'"

# While it is down: C is created, A stays as it is.
"${K[@]}" -n "$ns" create configmap kws-image-c --from-literal=k=v >/dev/null

start=$SECONDS
podman start "$ctr" >/dev/null 2>&1
if wait_http "$base/readyz" 200 180; then
  pass "podman start on the same volume: /readyz 200 after $((SECONDS - start)) s"
else
  podman logs --tail 30 "$ctr" 2>&1 | sed 's/^/    /'
  fail "podman start on the same volume: /readyz 200 within 180 s"
  exit 1
fi
check "the change recorded just before the stop is there after the restart, as the same record" \
  test "$(records kws-image-b)" = "$before_b"
logs "$tmp/run-2.log" "$run1_lines"
check "log line: storage: the server was down for ... (it resumed from its volume)" \
  grep -q "storage: the server was down for" "$tmp/run-2.log"
wait_records kws-image-b2 1
b2=$(records kws-image-b2)
check "the ConfigMap created right before the stop is recorded once ($(echo "$b2" | wc -l) record)" \
  test "$(echo "$b2" | awk '$2 == "create"' | wc -l)" = 1
b2_at=$(api "$base/api/v1/events?namespace=$ns&resourceType=configmaps&resourceName=kws-image-b2" | jq -r '.[0].timestamp')
if [[ "$b2_at" < "$stop_at" ]]; then
  note "it was stored before the stop ($b2_at < $stop_at)"
else
  note "it reached the server after the SIGTERM and was recorded on resume ($b2_at)"
fi
recorded_once() { # recorded_once NAME: one record of this namespace's ConfigMap
  local n
  for _ in $(seq 60); do
    n=$(records "$1" | wc -l)
    [ "$n" = 1 ] && return 0
    sleep 0.5
  done
  return 1
}
check "the ConfigMap created while the server was down is recorded once on resume" \
  recorded_once kws-image-c
check "the unchanged ConfigMap has the same records as before the stop (nothing recorded twice)" \
  test "$(records kws-image-a)" = "$before_a"
after=$(api "$base/api/v1/events?namespace=$ns&limit=1000")
check "every record from before the stop is still there" \
  test -z "$(comm -23 <(echo "$all_before") <(echo "$after" | jq -r '.[].id' | sort))"
dups=$(echo "$after" | jq -r '[group_by(.uid + " " + .resourceVersion + " " + .verb)[] | select(length > 1) | .[0] | "\(.resourceType)/\(.resourceName)@\(.resourceVersion)"] | join(" ")')
check "no object version is recorded twice in $ns ($(echo "$after" | jq length) records${dups:+; twice: $dups})" \
  test -z "$dups"
gaps=$(api "$base/api/v1/coverage" | jq -r '[.gaps[] | select(.resourceType == "configmaps") | .reason] | join(", ")')
note "coverage gaps of configmaps after the restart: ${gaps:-none}"

t0=$(now_ms)
podman stop --time "$grace" "$ctr" >/dev/null 2>&1
stop_ms=$(($(now_ms) - t0))
rc=$(podman inspect --format '{{.State.ExitCode}}' "$ctr")
check "second podman stop: exit code 0 after $stop_ms ms (got $rc)" test "$rc" = 0
logs "$tmp/run-2.log" "$run1_lines"
check "no 'Error storing event' in the second run's log" \
  bash -c "! grep -q 'Error storing event' '$tmp/run-2.log'"

# The server reaches the apiserver with the token at the in-cluster path (the
# image has no kubeconfig): the same container with a wrong token there is
# refused.
mkdir -p "$tmp/bogus-sa" "$tmp/bogus-data"
cp "$sa/ca.crt" "$sa/namespace" "$tmp/bogus-sa/"
printf 'not-a-token' >"$tmp/bogus-sa/token"
chmod 644 "$tmp/bogus-sa"/*
chmod 777 "$tmp/bogus-data"
bogus_port=$(free_port)
podman run --detach --name "$ctr-bogus" --network=host --no-healthcheck \
  --user "$uid:$gid" --read-only --read-only-tmpfs=false --cap-drop=ALL \
  --volume "$tmp/bogus-data:/data" \
  --volume "$tmp/bogus-sa:/var/run/secrets/kubernetes.io/serviceaccount:ro" \
  --env "SERVER_PORT=$bogus_port" --env KUBERNETES_SERVICE_HOST=127.0.0.1 \
  --env "KUBERNETES_SERVICE_PORT=$api_port" "$image" >/dev/null 2>&1
refused=0
for _ in $(seq 30); do
  podman logs "$ctr-bogus" 2>&1 | grep -q "HTTP 401 Unauthorized" && { refused=1; break; }
  sleep 0.5
done
check "with a wrong token at /var/run/secrets/kubernetes.io/serviceaccount/token the apiserver answers 401 and /readyz stays 503" \
  test "$refused:$(http_code "http://127.0.0.1:$bogus_port/readyz")" = 1:503
podman rm --force --time 0 "$ctr-bogus" >/dev/null 2>&1
