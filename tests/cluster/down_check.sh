#!/usr/bin/env bash
# Runs tests/cluster/down against a running cluster and checks that nothing is left:
# no recorded pid alive, no process of ours using the state dir, no recorded port
# listening. Prints "N passed, M failed"; exits non-zero on failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
STATE="${KWS_CLUSTER_STATE:-$KWS_STATE}"
PASS=0; FAIL=0
check() { local d="$1"; shift; if "$@"; then PASS=$((PASS+1)); echo "ok   - $d"; else FAIL=$((FAIL+1)); echo "FAIL - $d"; fi; }

if [[ ! -f "$STATE" ]]; then
  echo "FAIL - no state file $STATE (is the cluster up?)"; echo "0 passed, 1 failed"; exit 1
fi
mapfile -t pids < <(jq -r '.pids[]' "$STATE")
mapfile -t ports < <(jq -r '.ports[]' "$STATE")
pgid="$(jq -r .pgid "$STATE")"

check "down exits 0" "$KWS_CLUSTER_HERE/down"
alive=()
for p in "${pids[@]}"; do
  # A pid counts as alive if it still exists and is not a zombie.
  if [[ -d /proc/$p ]] && [[ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != Z ]]; then alive+=("$p"); fi
done
check "no recorded pid is alive (${pids[*]})" test ${#alive[@]} -eq 0
check "process group $pgid is empty" bash -c "! ps -o stat= -g '$pgid' 2>/dev/null | grep -qv '^Z'"
check "no kws-cluster/kube-* process uses $KWS_DIR" test -z "$(kws_our_pids)"
busy=()
for p in "${ports[@]}"; do [[ -n "$(ss -Hltn "sport = :$p")" ]] && busy+=("$p"); done
check "no recorded port is listening (${ports[*]})" test ${#busy[@]} -eq 0
check "state.json was retired" test ! -f "$KWS_STATE"
echo "$PASS passed, $FAIL failed"
[[ $FAIL == 0 ]]
