# Shared helpers for the tests/kafka scripts. Source it; do not execute.
KWS_KAFKA_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KWS_KAFKA_DIR="$(realpath -m "${KWS_KAFKA_DIR:-/tmp/kws-kafka}")"
KWS_KAFKA_CONF="$KWS_KAFKA_DIR/server.properties"
KWS_KAFKA_PIDFILE="$KWS_KAFKA_DIR/broker.pid"
KWS_KAFKA_PORTS="$KWS_KAFKA_DIR/ports"   # "BROKER_PORT CONTROLLER_PORT [SECURE_PORT]"
KWS_KAFKA_TLS="$KWS_KAFKA_DIR/tls"       # CA, server certificate and key, SASL password
KWS_KAFKA_JAVA="${KWS_KAFKA_JAVA:-java}"

kk_need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || { echo "missing required command: $c" >&2; exit 1; }
  done
}

# kk_jars: the directory holding the pinned jars; downloads them on first use.
# The cache key is the pom's hash, so a changed pom gets a new directory.
kk_jars() {
  local root="${XDG_CACHE_HOME:-$HOME/.cache}/kws-kafka" key dir tmp n
  key="$(sha256sum "$KWS_KAFKA_HERE/pom.xml" | cut -c1-16)"
  dir="$root/jars-$key"
  if [[ ! -d "$dir" ]]; then
    kk_need mvn
    mkdir -p "$root"
    tmp="$(mktemp -d "$root/.tmp-$key.XXXXXX")"
    # mvn runs on a copy of the pom in the temp dir: nothing is written into the repo.
    cp "$KWS_KAFKA_HERE/pom.xml" "$tmp/pom.xml"
    echo "[kafka] downloading the Kafka jars into $dir" >&2
    if ! mvn -q -B -Dstyle.color=never -f "$tmp/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$tmp/jars" >"$tmp/mvn.log" 2>&1; then
      echo "[kafka] mvn failed:" >&2; tail -n 30 "$tmp/mvn.log" >&2; rm -rf "$tmp"; return 1
    fi
    n="$(grep -c '<dependency>' "$tmp/pom.xml")"
    if [[ "$(find "$tmp/jars" -name '*.jar' | wc -l)" != "$n" ]]; then
      echo "[kafka] expected $n jars in $tmp/jars" >&2; rm -rf "$tmp"; return 1
    fi
    # Atomic publish; if a concurrent run won the race, keep its copy.
    mv -T "$tmp/jars" "$dir" 2>/dev/null || true
    rm -rf "$tmp"
  fi
  echo "$dir"
}

# kk_classpath: the java -cp value (a wildcard over the cached jars).
kk_classpath() { local d; d="$(kk_jars)" || return 1; echo "$d/*"; }

# kk_tool CLASS ARGS...: run a Kafka command-line tool class quietly (warnings to stderr).
kk_tool() {
  local cp; cp="$(kk_classpath)" || return 1
  # Small heap, C1 only and serial GC: the tools are short-lived, startup dominates.
  "$KWS_KAFKA_JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KWS_KAFKA_HERE/log4j2-tools.properties" -cp "$cp" "$@"
}

kk_listening() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }

# kk_make_tls DIR: a CA and a server certificate signed by it, both valid 2 days, RSA 2048:
#   ca.crt ca.key          the CA (clients trust ca.crt)
#   server.crt server.key  CN=localhost, subjectAltName IP:127.0.0.1 and DNS:localhost
#   server.pem             server.key (unencrypted PKCS#8) + server.crt: the broker's keystore
# Keys are mode 600, certificates 644.
kk_make_tls() {
  local d="$1" log="$1/openssl.log"
  kk_need openssl
  mkdir -p "$d" || return 1
  # A && chain, not set -e: errexit does not apply in a subshell on the left of ||.
  ( umask 077 && cd "$d" && : >"$log" &&
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout ca.key -out ca.crt \
      -subj "/CN=kws-kafka test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$log" &&
    openssl req -new -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
      -subj "/CN=localhost" 2>>"$log" &&
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext &&
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
      -sha256 -days 2 -extfile server.ext -out server.crt 2>>"$log" &&
    openssl verify -CAfile ca.crt server.crt >>"$log" 2>&1 &&
    cat server.key server.crt >server.pem &&
    chmod 644 ca.crt server.crt &&
    rm -f server.csr server.ext "$log"
  ) || { echo "[kafka] making the certificates in $d failed:" >&2; cat "$log" >&2; return 1; }
}

# kk_client_config MECHANISM [PASSWORD]: Java client properties (for --command-config) for
# the SASL_SSL listener, on stdout. MECHANISM is PLAIN or SCRAM-SHA-512; PASSWORD defaults
# to the one in tls/password. The user is "kws".
kk_client_config() {
  local mech="$1" pw module
  pw="${2-$(cat "$KWS_KAFKA_TLS/password")}" || return 1
  case "$mech" in
    PLAIN) module=org.apache.kafka.common.security.plain.PlainLoginModule ;;
    SCRAM-SHA-512) module=org.apache.kafka.common.security.scram.ScramLoginModule ;;
    *) echo "kk_client_config: unknown mechanism $mech" >&2; return 2 ;;
  esac
  printf '%s\n' security.protocol=SASL_SSL ssl.truststore.type=PEM \
    "ssl.truststore.location=$KWS_KAFKA_TLS/ca.crt" "sasl.mechanism=$mech" \
    "sasl.jaas.config=$module required username=\"kws\" password=\"$pw\";"
}

# kk_is_ours PID: a java process running kafka.Kafka with this state dir's config.
kk_is_ours() {
  local pid="$1" cmd
  [[ "$pid" =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *" kafka.Kafka $KWS_KAFKA_CONF " ]]   # cmdline ends with the config path
}

# kk_alive PID: the process runs (a zombie does not). A broker just started is alive
# before it is ours: until the child execs java, its command line is the shell's.
kk_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"   # the state follows the command name, which may hold spaces
  [[ "${stat%% *}" != Z ]]
}

# kk_our_pids: every live broker process of this state dir.
kk_our_pids() {
  local p
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    kk_is_ours "$p" && echo "$p"
  done
  return 0
}

# kk_answers ADDR: the broker answers a metadata request (the topics tool lists topics).
kk_answers() {
  # Short client timeouts: the default would wait 60 s for a broker that is not up yet.
  printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=10000\n' >"$KWS_KAFKA_DIR/admin.properties"
  kk_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$1" --list \
    --command-config "$KWS_KAFKA_DIR/admin.properties" >/dev/null 2>&1
}

# kk_lock: serialize up/start-broker/stop-broker on this state dir (fd 8).
kk_lock() {
  mkdir -p "$KWS_KAFKA_DIR"
  exec 8>"$KWS_KAFKA_DIR/.lock"
  flock -w 300 8 || { echo "[kafka] could not lock $KWS_KAFKA_DIR/.lock" >&2; exit 1; }
}

# kk_start: start the broker of a formatted state dir (or reuse the running one), wait
# until it answers, print the bootstrap address on stdout.
kk_start() {
  local port cport sport addr pid cp t0 deadline p
  read -r port cport sport <"$KWS_KAFKA_PORTS"
  addr="127.0.0.1:$port"
  pid="$(cat "$KWS_KAFKA_PIDFILE" 2>/dev/null || true)"
  if kk_is_ours "$pid" && kk_answers "$addr"; then
    echo "[kafka] reusing the running broker (pid $pid) at $addr${sport:+ (SASL_SSL at 127.0.0.1:$sport)}" >&2
    echo "$addr"; return 0
  fi
  kk_is_ours "$pid" && { echo "[kafka] broker pid $pid runs but does not answer; run down" >&2; return 1; }
  for p in "$port" "$cport" $sport; do
    kk_listening "$p" && { echo "[kafka] port $p is already in use by another process" >&2; return 1; }
  done
  cp="$(kk_classpath)" || return 1
  mkdir -p "$KWS_KAFKA_DIR/logs"
  t0=$(date +%s%N)
  # setsid: the broker leads its own process group, away from the caller's signals.
  # shellcheck disable=SC2086  # KWS_KAFKA_JVM_OPTS is a space-separated list of flags
  setsid "$KWS_KAFKA_JAVA" ${KWS_KAFKA_JVM_OPTS:--Xms128m -Xmx512m -XX:+UseG1GC} -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KWS_KAFKA_DIR/logs" \
    -Dlog4j2.configurationFile="$KWS_KAFKA_HERE/log4j2-broker.properties" \
    -cp "$cp" kafka.Kafka "$KWS_KAFKA_CONF" >>"$KWS_KAFKA_DIR/logs/stdout.log" 2>&1 </dev/null 8>&- &
  pid=$!
  echo "$pid" >"$KWS_KAFKA_PIDFILE"
  disown || true
  deadline=$(( $(date +%s) + ${KWS_KAFKA_START_TIMEOUT:-120} ))
  # Cheap poll for the listeners first (all open together, once the broker is up), then
  # one real request over the plaintext one (a JVM start each).
  until kk_listening "$port" && { [[ -z "$sport" ]] || kk_listening "$sport"; } && kk_answers "$addr"; do
    if ! kk_alive "$pid" || (( $(date +%s) > deadline )); then
      echo "[kafka] the broker did not start (pid $pid); tail of $KWS_KAFKA_DIR/logs:" >&2
      tail -n 20 "$KWS_KAFKA_DIR/logs/stdout.log" "$KWS_KAFKA_DIR/logs/server.log" >&2 2>/dev/null
      kill -KILL "$pid" 2>/dev/null
      return 1
    fi
    sleep 0.2
  done
  echo "[kafka] broker pid $pid ready at $addr${sport:+ (SASL_SSL at 127.0.0.1:$sport)} in $(( ($(date +%s%N) - t0) / 1000000 )) ms (logs: $KWS_KAFKA_DIR/logs)" >&2
  echo "$addr"
}

# kk_stop TIMEOUT_S: SIGTERM every broker of this state dir, SIGKILL after TIMEOUT_S,
# wait until its ports are free. Keeps the data.
kk_stop() {
  local timeout="$1" pids=() p end ports=() busy
  p="$(cat "$KWS_KAFKA_PIDFILE" 2>/dev/null || true)"
  kk_is_ours "$p" && pids+=("$p")
  for p in $(kk_our_pids); do [[ " ${pids[*]} " == *" $p "* ]] || pids+=("$p"); done
  if (( ${#pids[@]} )); then
    echo "[kafka] stopping broker pid ${pids[*]}" >&2
    kill -TERM "${pids[@]}" 2>/dev/null
    end=$(( $(date +%s) + timeout ))
    while [[ -n "$(kk_our_pids)" ]] && (( $(date +%s) < end )); do sleep 0.2; done
    for p in $(kk_our_pids); do
      echo "[kafka] pid $p did not exit after ${timeout}s: SIGKILL" >&2
      kill -KILL "$p" 2>/dev/null
    done
  fi
  rm -f "$KWS_KAFKA_PIDFILE"
  [[ -s "$KWS_KAFKA_PORTS" ]] && read -r -a ports <"$KWS_KAFKA_PORTS"
  for _ in $(seq 1 50); do
    busy=""
    for p in "${ports[@]}"; do kk_listening "$p" && busy+=" $p"; done
    [[ -z "$busy" && -z "$(kk_our_pids)" ]] && return 0
    sleep 0.2
  done
  [[ -n "$(kk_our_pids)" ]] && echo "[kafka] broker processes still running: $(kk_our_pids | xargs)" >&2
  [[ -n "$busy" ]] && echo "[kafka] ports still listening:$busy" >&2
  return 1
}
