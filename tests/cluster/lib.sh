# Shared helpers for up, down, churn and the checks. Source it; do not execute.
KWS_CLUSTER_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KWS_DIR="$(realpath -m "${KWS_CLUSTER_DIR:-/tmp/kws-cluster}")"
KWS_STATE="$KWS_DIR/state.json"
export PATH="/usr/local/go/bin:$PATH"

kws_need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || { echo "missing required command: $c" >&2; exit 1; }
  done
}

# kws_state KEY -> jq expression on state.json (empty if missing)
kws_state() { [[ -f "$KWS_STATE" ]] && jq -r "$1 // empty" "$KWS_STATE" 2>/dev/null || true; }

# kws_is_ours PID: the process is a cluster component of this state dir (its binary is
# one of ours and its command line mentions the state dir).
kws_is_ours() {
  local pid="$1" exe cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  case "$(basename "${exe% (deleted)}")" in
    kws-cluster|kube-apiserver|kube-controller-manager|kube-scheduler) ;;
    *) return 1 ;;
  esac
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  # The harness has "--dir <dir>", the components have paths below <dir>/.
  [[ "$cmd" == *" $KWS_DIR "* || "$cmd" == *"$KWS_DIR/"* ]]
}

# kws_our_pids: every live component process of this state dir.
kws_our_pids() {
  local p
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    kws_is_ours "$p" && echo "$p"
  done
  return 0
}
