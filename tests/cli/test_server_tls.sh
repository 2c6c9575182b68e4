#!/usr/bin/env bash
# `stratus server` with TLS on its TCP listener: HTTPS with a certificate the
# client trusts works (and tokens still apply), plain HTTP to that port is
# not served, and a key that does not match the certificate is a clear
# startup error.
. "$(dirname "$0")/lib.sh"
use_home
SERVER_PID=
trap '[ -z "$SERVER_PID" ] || kill -9 "$SERVER_PID" 2>/dev/null; stop_home; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
LOG="$TMP/server.log"
: >"$LOG"
command -v openssl >/dev/null || fail "openssl is needed to make the test certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$STRATUS_HOME/server.key" -out "$STRATUS_HOME/server.crt" 2>"$TMP/openssl.err" ||
  fail "openssl: $(cat "$TMP/openssl.err")"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other \
  -keyout "$TMP/other.key" -out "$TMP/other.crt" 2>/dev/null || fail "openssl (second key)"
conf() {
  cat >"$STRATUS_HOME/server.yaml" <<YAML
listen:
  - unix: stratus.sock
  - tcp: 127.0.0.1:0
    tls: {cert: server.crt, key: $1}
drivers:
  - name: local
    driver: local
    locations: ["*"]
YAML
}

# A key that is not the certificate's: the server says which files, and stops.
conf "$TMP/other.key"
run 2 "$STRATUS" server --config "$STRATUS_HOME/server.yaml"
has "$ERR" "server.crt"
has "$ERR" "key"
ok "a TLS key that does not match its certificate is refused at startup"

conf server.key
"$STRATUS" server --config "$STRATUS_HOME/server.yaml" >>"$LOG" 2>&1 &
SERVER_PID=$!
wait_for grep -q "ready for" "$LOG"
PORT=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)$|\1|p' "$LOG" | tail -n 1)
[ -n "$PORT" ] || fail "no https port in the log: $(cat "$LOG")"

code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 30 --cacert "$STRATUS_HOME/server.crt" \
  "https://127.0.0.1:$PORT/healthz")
[ "$code" = 200 ] || fail "healthz over TLS: HTTP $code $(cat "$TMP/body")"
has "$(cat "$TMP/body")" '"ok":true'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 30 --cacert "$STRATUS_HOME/server.crt" \
  "https://127.0.0.1:$PORT/v1/jobs")
[ "$code" = 401 ] || fail "no token over TLS: HTTP $code, expected 401"
ok "HTTPS with the configured certificate; tokens still required"

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --unix-socket "$STRATUS_HOME/stratus.sock" \
  -X POST -d '{"name": "ci", "role": "viewer"}' http://localhost/v1/tokens)
[ "$code" = 201 ] || fail "token over the socket: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "http://127.0.0.1:$PORT/healthz")
[ "$code" != 200 ] || fail "plain HTTP was served on the TLS port"
kill -0 "$SERVER_PID" || fail "plain HTTP on the TLS port killed the server"
ok "plain HTTP on the TLS port is not served, and the server carries on"

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "the server did not stop cleanly"
SERVER_PID=
ok "stops on SIGTERM"
