#!/usr/bin/env bash
# End-to-end check of the tests/kafka scripts against a real broker, in a state dir and
# on ports of its own (so a broker used by other tests is not touched):
#   up with a SASL_SSL listener, create-topic, produce 3 keyed messages, consume them;
#   over SASL_SSL: the certificate verifies (openssl s_client), produce with PLAIN,
#   consume with SCRAM-SHA-512, a wrong password is refused (PLAIN and SCRAM);
#   stop-broker, start-broker (same certificates and password), consume again (nothing
#   lost, also over SASL_SSL), down, nothing left running.
# Knobs: KWS_KAFKA_DIR (default /tmp/kws-kafka-smoke), KWS_KAFKA_SMOKE_PORT (19192),
# KWS_KAFKA_SMOKE_SECURE_PORT (19193).
# Prints "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export KWS_KAFKA_DIR="${KWS_KAFKA_DIR:-/tmp/kws-kafka-smoke}"
PORT="${KWS_KAFKA_SMOKE_PORT:-19192}"
SPORT="${KWS_KAFKA_SMOKE_SECURE_PORT:-19193}"
source "$HERE/lib.sh"

PASS=0; FAIL=0
ok()  { PASS=$((PASS+1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL+1)); echo "FAIL - $*"; }
check() { local d="$1"; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
finish() {
  if (( FAIL )) && [[ -d "$KWS_KAFKA_DIR/logs" ]]; then
    echo "--- tail of $KWS_KAFKA_DIR/logs/server.log"; tail -n 30 "$KWS_KAFKA_DIR/logs/server.log"
  fi
  "$HERE/down" --quiet || true
  echo "$PASS passed, $FAIL failed"
  [[ $FAIL == 0 ]]; exit $?
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

TOPIC="smoke-$RANDOM"
STOPIC="smoke-secure-$RANDOM"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
ERR="$TMP/err"
WANT="$(printf 'k1\t{"n":1,"s":"one"}\nk2\t{"n":2,"s":"two"}\nk3\t{"n":3,"s":"three"}\n')"
# consume_matches [ADDR TOPIC [WANT [ARGS...]]]: the topic holds exactly the WANT messages
# (default the 3 of $WANT in $TOPIC at $ADDR), each with its key (any order); ARGS go to
# the console consumer (e.g. --command-config FILE).
consume_matches() {
  local addr="${1:-$ADDR}" topic="${2:-$TOPIC}" want="${3:-$WANT}" got
  shift $(( $# < 3 ? $# : 3 ))
  got="$("$HERE/consume" --bootstrap "$addr" --topic "$topic" --timeout-ms 4000 -- "$@" 2>"$ERR")"
  if [[ "$(sort <<<"$got")" == "$(sort <<<"$want")" ]]; then return 0; fi
  echo "  expected:"; sed 's/^/    /' <<<"$want"; echo "  got:"; sed 's/^/    /' <<<"$got"
  echo "  consumer stderr:"; sed 's/^/    /' "$ERR"
  return 1
}
# refused TOOL ARGS...: the tool (produce/consume, output in $ERR) failed to authenticate.
refused() {
  "$@" >"$TMP/out" 2>"$ERR" <<<"$(printf 'refused\tmust-not-be-written')"
  if grep -q 'SaslAuthenticationException: Authentication failed' "$ERR" && [[ ! -s "$TMP/out" ]]; then
    return 0
  fi
  echo "  no authentication error; stdout:"; sed 's/^/    /' "$TMP/out"
  echo "  stderr:"; sed 's/^/    /' "$ERR"
  return 1
}
# tls_verifies: openssl accepts the secure listener's certificate with ca.crt only, for the
# IP address 127.0.0.1 and for the name localhost (both in subjectAltName).
tls_verifies() {
  local out
  out="$(openssl s_client -connect "$SADDR" -CAfile "$KWS_KAFKA_TLS/ca.crt" -verify_return_error \
    -verify_ip 127.0.0.1 </dev/null 2>&1)"
  grep -q 'Verify return code: 0 (ok)' <<<"$out" || { echo "  s_client -verify_ip:"; sed 's/^/    /' <<<"$out" | tail -n 15; return 1; }
  out="$(openssl s_client -connect "$SADDR" -CAfile "$KWS_KAFKA_TLS/ca.crt" -verify_return_error \
    -verify_hostname localhost </dev/null 2>&1)"
  grep -q 'Verify return code: 0 (ok)' <<<"$out" || { echo "  s_client -verify_hostname:"; sed 's/^/    /' <<<"$out" | tail -n 15; return 1; }
}
# tls_rejects_other_ca: with the system CAs instead of ca.crt the certificate does not verify.
tls_rejects_other_ca() {
  ! openssl s_client -connect "$SADDR" -verify_return_error </dev/null 2>&1 | grep -q 'Verify return code: 0 (ok)'
}

"$HERE/down" --quiet || { bad "down of a leftover $KWS_KAFKA_DIR"; finish; }
t=$(date +%s%N)
ADDR="$("$HERE/up" --port "$PORT" --secure-port "$SPORT")" || { bad "up --port $PORT --secure-port $SPORT"; finish; }
# (includes making the certificates and formatting the storage, a JVM start of its own)
check "up --secure-port printed only 127.0.0.1:$PORT ($(ms "$t") ms)" test "$ADDR" = "127.0.0.1:$PORT"
SADDR="127.0.0.1:$SPORT"
check "secure-address holds $SADDR" test "$(cat "$KWS_KAFKA_DIR/secure-address")" = "$SADDR"
check "tls/password is mode 600 and not empty" \
  bash -c "[[ -s '$KWS_KAFKA_TLS/password' && \$(stat -c %a '$KWS_KAFKA_TLS/password') == 600 ]]"
check "tls/ca.crt verifies tls/server.crt" \
  bash -c "openssl verify -CAfile '$KWS_KAFKA_TLS/ca.crt' '$KWS_KAFKA_TLS/server.crt' >/dev/null"
check "the server certificate has subjectAltName IP:127.0.0.1 and DNS:localhost" \
  bash -c "openssl x509 -in '$KWS_KAFKA_TLS/server.crt' -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1, DNS:localhost'"
TLS_SUM="$(cat "$KWS_KAFKA_TLS/ca.crt" "$KWS_KAFKA_TLS/server.pem" "$KWS_KAFKA_TLS/password" | sha256sum)"
kk_client_config PLAIN >"$TMP/plain.properties"
kk_client_config SCRAM-SHA-512 >"$TMP/scram.properties"
kk_client_config PLAIN "wrong-$RANDOM" >"$TMP/plain-wrong.properties"
kk_client_config SCRAM-SHA-512 "wrong-$RANDOM" >"$TMP/scram-wrong.properties"
t=$(date +%s%N); again="$("$HERE/up" 2>/dev/null)"
check "a second up reuses the broker and prints the same address ($(ms "$t") ms)" test "$again" = "$ADDR"
check "create-topic $TOPIC with 3 partitions" "$HERE/create-topic" --bootstrap "$ADDR" --topic "$TOPIC" --partitions 3
check "topic $TOPIC is listed" bash -c "source '$HERE/lib.sh'; kk_tool org.apache.kafka.tools.TopicCommand --bootstrap-server '$ADDR' --describe --topic '$TOPIC' 2>/dev/null | grep -q 'PartitionCount: 3'"
check "produce 3 keyed messages" "$HERE/produce" --bootstrap "$ADDR" --topic "$TOPIC" <<<"$WANT"
check "consume returns the 3 messages with their keys" consume_matches

check "openssl s_client verifies $SADDR with tls/ca.crt (Verify return code: 0)" tls_verifies
check "with the system CAs instead of tls/ca.crt the certificate does not verify" tls_rejects_other_ca
check "create-topic $STOPIC (plaintext)" "$HERE/create-topic" --bootstrap "$ADDR" --topic "$STOPIC" --partitions 3
check "produce 3 messages over SASL_SSL with PLAIN" \
  "$HERE/produce" --bootstrap "$SADDR" --topic "$STOPIC" -- --command-config "$TMP/plain.properties" <<<"$WANT"
check "consume them over SASL_SSL with SCRAM-SHA-512" \
  consume_matches "$SADDR" "$STOPIC" "$WANT" --command-config "$TMP/scram.properties"
check "produce with a wrong PLAIN password is refused" \
  refused "$HERE/produce" --bootstrap "$SADDR" --topic "$STOPIC" -- --command-config "$TMP/plain-wrong.properties"
check "produce with a wrong SCRAM-SHA-512 password is refused" \
  refused "$HERE/produce" --bootstrap "$SADDR" --topic "$STOPIC" -- --command-config "$TMP/scram-wrong.properties"
check "consume with a wrong PLAIN password is refused" \
  refused "$HERE/consume" --bootstrap "$SADDR" --topic "$STOPIC" --timeout-ms 4000 -- --command-config "$TMP/plain-wrong.properties"
check "consume with a wrong SCRAM-SHA-512 password is refused" \
  refused "$HERE/consume" --bootstrap "$SADDR" --topic "$STOPIC" --timeout-ms 4000 -- --command-config "$TMP/scram-wrong.properties"

pid="$(cat "$KWS_KAFKA_PIDFILE")"
check "stop-broker exits 0" "$HERE/stop-broker"
# A zombie counts as gone: the broker's parent (up) has exited, whoever adopted it reaps it.
check "the broker process $pid is gone" bash -c "[[ ! -d /proc/$pid || \$(awk '{print \$3}' /proc/$pid/stat 2>/dev/null) == Z ]]"
check "ports $PORT and $SPORT are closed while stopped" bash -c "! ss -Hltn '( sport = :$PORT or sport = :$SPORT )' | grep -q ."
check "the data is kept" test -f "$KWS_KAFKA_DIR/data/meta.properties"
t=$(date +%s%N); again="$("$HERE/start-broker")"
check "start-broker prints the same address ($(ms "$t") ms)" test "$again" = "$ADDR"
check "after the restart the 3 messages are still there" consume_matches
check "after the restart: same certificates, key and password" \
  test "$(cat "$KWS_KAFKA_TLS/ca.crt" "$KWS_KAFKA_TLS/server.pem" "$KWS_KAFKA_TLS/password" | sha256sum)" = "$TLS_SUM"
check "after the restart openssl s_client verifies $SADDR" tls_verifies
WANT4="$WANT"$'\n'$'k4\t{"n":4,"s":"four"}'
check "after the restart: produce a 4th message over SASL_SSL with SCRAM-SHA-512" \
  "$HERE/produce" --bootstrap "$SADDR" --topic "$STOPIC" -- --command-config "$TMP/scram.properties" <<<$'k4\t{"n":4,"s":"four"}'
check "after the restart: consume the 4 over SASL_SSL with PLAIN (no refused message)" \
  consume_matches "$SADDR" "$STOPIC" "$WANT4" --command-config "$TMP/plain.properties"

read -r _ CPORT _ <"$KWS_KAFKA_PORTS"
check "down exits 0" "$HERE/down"
check "the state dir is removed" test ! -e "$KWS_KAFKA_DIR"
check "no broker java process of $KWS_KAFKA_DIR is left" test -z "$(kk_our_pids)"
# our_java: java processes whose command line mentions the state dir (broker or tool).
our_java() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/exe" 2>/dev/null)" == */java ]] || continue
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$KWS_KAFKA_DIR" && echo "${p#/proc/}"
  done
  return 0
}
check "no java process with $KWS_KAFKA_DIR on its command line is left" test -z "$(our_java)"
check "no listener on ports $PORT (broker), $SPORT (SASL_SSL) and $CPORT (controller)" \
  bash -c "! ss -Hltn '( sport = :$PORT or sport = :$SPORT or sport = :$CPORT )' | grep -q ."
check "down again exits 0 (nothing runs)" "$HERE/down" --quiet
finish
