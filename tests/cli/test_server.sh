#!/usr/bin/env bash
# `stratus server`: the UNIX socket (its owner is admin) and a TCP listener
# on a free loopback port (bearer tokens), talked to with curl: 401 without
# or with a bad token, 403 for a viewer's submit, a revoked token stops
# working, tokens never reach the log, JSON 413 past max_body, streamed
# logs that end with the job, one server per home, and kill -9 of the server
# loses nothing: jobs submitted and running before it complete after a
# restart, their nodes never relaunched.
. "$(dirname "$0")/lib.sh"
use_home
SERVER_PID=
trap '[ -z "$SERVER_PID" ] || kill -9 "$SERVER_PID" 2>/dev/null; stop_home; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
SOCK="$STRATUS_HOME/stratus.sock"
export STRATUS_HTTP_TIMEOUT=1   # idle connections are closed after 1 s
LOG="$TMP/server.log"
: >"$LOG"
cat >"$STRATUS_HOME/server.yaml" <<'YAML'
listen:
  - unix: stratus.sock
  - tcp: 127.0.0.1:0
max_body: 4KiB
drivers:
  - name: local
    driver: local
    locations: ["*"]
    timing: {backoff_base: 0.2s, relaunch_overhead: 1s, poll: 1s}
YAML

# --- the configuration is checked without starting anything ---
run 0 "$STRATUS" server --config "$STRATUS_HOME/server.yaml" --check-config
has "$OUT" "valid"
has "$OUT" "http://127.0.0.1:0"
has "$OUT" " offers, " # the catalog the server will load
[ ! -e "$SOCK" ] || fail "--check-config started a server"
printf 'listen:\n  - unix: s.sock\ndrivers:\n  - name: x\n    driver: nosuch\n' >"$TMP/bad.yaml"
run 2 "$STRATUS" server --config "$TMP/bad.yaml" --check-config
has "$ERR" "bad.yaml:"
# the catalog it names is loaded as the server would: one that does not
# load fails the check, as it would fail the start
mkdir "$TMP/cat"
cp "$SOURCE_DIR"/catalog/*.csv "$TMP/cat/"
printf 'cloud,region,instance_type,nodes,disount\n' >"$TMP/cat/commitments.csv"
printf 'catalog: %s\n' "$TMP/cat" >"$TMP/badcat.yaml"
run 2 "$STRATUS" server --config "$TMP/badcat.yaml" --check-config
has "$ERR" "commitments.csv:1"
printf 'catalog: %s\n' "$TMP/nosuch" >"$TMP/badcat.yaml"
run 2 "$STRATUS" server --config "$TMP/badcat.yaml" --check-config
has "$ERR" "$TMP/nosuch"
ok "server --check-config: a valid file is summed up, a bad one is refused with file:line, and so is a catalog that does not load"
run 0 "$STRATUS" server --help
has "$OUT" "usage: stratus server"
ok "server --help"


# api VIA METHOD PATH [BODY]: VIA is "unix", "-" (TCP, no token) or a token
# (TCP).  Sets CODE (HTTP status) and OUT (the body).
api() {
  local via=$1 m=$2 p=$3 body=${4-}
  local args=(-s -o "$TMP/body" -w '%{http_code}' -X "$m" --max-time 60)
  [ -z "$body" ] || args+=(--data-binary "$body" -H 'Content-Type: application/json')
  if [ "$via" = unix ]; then
    args+=(--unix-socket "$SOCK" "http://localhost$p")
  else
    [ "$via" = - ] || args+=(-H "Authorization: Bearer $via")
    args+=("http://127.0.0.1:$PORT$p")
  fi
  CODE=$(curl "${args[@]}")
  OUT=$(cat "$TMP/body")
}
expect() { [ "$CODE" = "$1" ] || fail "$2: HTTP $CODE, expected $1: $OUT"; }

# submit_body FILE: the JSON of a submit of spec FILE.
submit_body() {
  python3 -c 'import json,sys; print(json.dumps({"spec": open(sys.argv[1]).read(), "file": sys.argv[1]}))' "$1"
}
job_state() { api unix GET "/v1/jobs/$1"; json 'j["state"]'; }
api_state_is() {
  _s=$(job_state "$1")
  [ "$_s" = "$2" ] && return 0
  case "$_s" in SUCCEEDED|FAILED|CANCELLED) fail "job $1 ended $_s, expected $2";; esac
  return 1
}
wait_api_state() {
  _s=
  poll 60 api_state_is "$1" "$2" || fail "job $1 not $2 after 60 s (x${POLL_SLACK:-4}) (state $_s)"
}

start_server
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK"), expected 600"
api unix GET /healthz
expect 200 "healthz on the socket"
[ "$(json 'j["ok"]')" = True ] || fail "healthz not ok: $OUT"
api - GET /healthz
expect 200 "healthz over TCP needs no token"
ok "server listens on an owner-only socket and on TCP port $PORT; /healthz answers both"

run 2 "$STRATUS" server --config "$STRATUS_HOME/server.yaml"
has "$ERR" "already runs"
kill -0 "$SERVER_PID" || fail "the second server stopped the first"
ok "a second server for the same home is refused"

# --- tokens, through the socket (its owner is admin) ---
api unix POST /v1/tokens '{"name": "alice-viewer", "role": "viewer"}'
expect 201 "create a viewer token"
VIEWER=$(json 'j["token"]')
api unix POST /v1/tokens '{"name": "bob", "role": "member"}'
expect 201 "create a member token"
MEMBER=$(json 'j["token"]')
case "$VIEWER$MEMBER" in st_*st_*) ;; *) fail "tokens look wrong: $VIEWER $MEMBER";; esac
api unix GET /v1/tokens
expect 200 "list tokens"
hasnt "$OUT" "$VIEWER"
hasnt "$OUT" "$MEMBER"
has "$OUT" "alice-viewer"
ok "tokens made over the socket; the list never shows them"

api - GET /v1/jobs
expect 401 "no token"
[ "$(json 'j["error"]["code"]')" = EINVAL ] || fail "401 without a JSON error: $OUT"
api "st_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /v1/jobs
expect 401 "an unknown token"
api "$VIEWER" GET /v1/jobs
expect 200 "a viewer reads"
cat >"$TMP/quick.yaml" <<YAML
name: quick
resources:
  accelerators: {H100: 8, A100-80GB: 8, A10: 4}
run: echo quick-out
YAML
api "$VIEWER" POST /v1/jobs "$(submit_body "$TMP/quick.yaml")"
expect 403 "a viewer submits"
api "$VIEWER" POST /v1/tokens '{"name": "sneaky", "role": "admin"}'
expect 403 "a viewer makes a token"
api "$MEMBER" POST /v1/jobs "$(submit_body "$TMP/quick.yaml")"
expect 201 "a member submits"
QUICK=$(json 'j["id"]')
ok "401 without a token or with a bad one; a viewer reads but is refused a submit (403); a member submits"

api unix DELETE /v1/tokens/alice-viewer
expect 200 "revoke"
api "$VIEWER" GET /v1/jobs
expect 401 "a revoked token"
api "$MEMBER" GET /v1/jobs
expect 200 "another token after a revoke"
ok "a revoked token stops working; the others keep working"

big=$(python3 -c 'import json; print(json.dumps({"spec": "x" * 6000}))')
api "$MEMBER" POST /v1/jobs "$big"
expect 413 "a body over max_body"
[ "$(json 'j["error"]["code"]')" = ETOOBIG ] || fail "413 without a JSON error: $OUT"
has "$OUT" "max_body"
ok "a body over max_body is refused with a JSON 413"
python3 -c 'print("name: huge\nrun: echo hi\n# " + "x" * 9000)' >"$TMP/huge.yaml"
run 2 "$STRATUS" launch "$TMP/huge.yaml" --detach
has "$ERR" "larger than the server takes (max_body"
hasnt "$ERR" "<html"
ok "a request far over max_body (refused by libevent unread) gets a clear CLI error, exit 2"

# --- logs, streamed until the job ends ---
wait_api_state "$QUICK" SUCCEEDED
cat >"$TMP/slowlog.yaml" <<YAML
name: slowlog
resources:
  accelerators: {H100: 8, A100-80GB: 8, A10: 4}
run: |
  echo first-line
  while [ ! -f $TMP/loggate ]; do read -t 0.1 _ <>$TMP/.tick || :; done
  echo last-line
YAML
api unix POST /v1/jobs "$(submit_body "$TMP/slowlog.yaml")"
expect 201 "submit slowlog"
SLOW=$(json 'j["id"]')
wait_api_state "$SLOW" RUNNING
curl -s -N --max-time 120 --unix-socket "$SOCK" "http://localhost/v1/jobs/$SLOW/logs?follow=1" >"$TMP/follow.out" 2>&1 &
CURL_PID=$!
wait_for grep -q first-line "$TMP/follow.out"
# Quiet for longer than the server's idle timeout (1 s here): a follow must
# outlive it.  (Not a synchronization: any longer quiet period would do.)
sleep 2.5
kill -0 "$CURL_PID" 2>/dev/null || fail "the followed log ended while the job runs: $(cat "$TMP/follow.out")"
touch "$TMP/loggate"
wait "$CURL_PID" || fail "following the log failed: $(cat "$TMP/follow.out")"
has "$(cat "$TMP/follow.out")" "last-line"
[ "$(job_state "$SLOW")" = SUCCEEDED ] || fail "slowlog not SUCCEEDED after its log ended"
ok "a followed log streams as the job writes and ends when the job ends"

# --- kill -9 of the server loses nothing ---
gated() {
  cat >"$TMP/$1.yaml" <<YAML
name: $1
resources:
  accelerators: {H100: 8, A100-80GB: 8, A10: 4}
run: |
  echo "\$STRATUS_ATTEMPT_ID" >>$TMP/$1.starts
  while [ ! -f $TMP/gate ]; do read -t 0.1 _ <>$TMP/.tick || :; done
  echo $1-done
YAML
}
gated running
gated queued
api "$MEMBER" POST /v1/jobs "$(submit_body "$TMP/running.yaml")"
expect 201 "submit running"
RUNNING=$(json 'j["id"]')
wait_api_state "$RUNNING" RUNNING
wait_for test -s "$TMP/running.starts"
api "$MEMBER" POST /v1/jobs "$(submit_body "$TMP/queued.yaml")"
expect 201 "submit queued"
QUEUED=$(json 'j["id"]')
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
[ -S "$SOCK" ] || fail "expected the dead server's socket file to be left behind"
start_server
touch "$TMP/gate"
wait_api_state "$RUNNING" SUCCEEDED
wait_api_state "$QUEUED" SUCCEEDED
[ "$(wc -l <"$TMP/running.starts")" = 1 ] || fail "the running job's node started again: $(cat "$TMP/running.starts")"
api unix GET "/v1/jobs/$RUNNING"
[ "$(json 'j["attempts"]')" = 1 ] || fail "the running job needed another attempt: $OUT"
ok "kill -9 of the server: a job submitted just before completes after the restart; a running one keeps its node"

grep -qF -- "$MEMBER" "$LOG" && fail "a token is in the server's log"
grep -qF -- "$VIEWER" "$LOG" && fail "a revoked token is in the server's log"
ok "no token in the server's log"

# --- stopping ---
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"; rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: the server exited $rc: $(tail -n 5 "$LOG")"
[ ! -e "$SOCK" ] || fail "the socket is left after a clean stop"
ok "SIGTERM stops the server cleanly (exit 0, socket removed)"

# A lock held by a process the pid file does not name is a server on its
# way out (one whose store is gone removes its pid file first): a new one
# waits for the lock rather than exit as if a server ran.
rm -f "$STRATUS_HOME/controller.pid"
flock "$STRATUS_HOME/controller.lock" sleep 2 &
FLOCK_PID=$!
wait_for bash -c "! flock -n '$STRATUS_HOME/controller.lock' true"
start_server
wait "$FLOCK_PID"
ok "a server waits for the lock of one that is stopping"

OLD_PID=$SERVER_PID
rm -f "$STRATUS_HOME/stratus.db" "$STRATUS_HOME/stratus.db-wal" "$STRATUS_HOME/stratus.db-shm"
api unix GET /v1/jobs
# 503 when the request came first; no answer (000) when the server's own
# check did.  Either way a server started at once for the new store must
# wait for the old one's lock, not take it for a running server.
case "$CODE" in 503|000) ;; *) fail "a request to a server whose store is gone: HTTP $CODE $OUT";; esac
start_server
for i in $(seq 1 300); do kill -0 "$OLD_PID" 2>/dev/null || break; nap 0.1; done
kill -0 "$OLD_PID" 2>/dev/null && fail "the server runs on with its store removed"
wait "$OLD_PID"
has "$(cat "$LOG")" "removed or replaced"
api unix GET /v1/jobs
expect 200 "the new store's server"
[ "$(json 'len(j["jobs"])')" = 0 ] || fail "the new store shows jobs of the old one: $OUT"
ok "a server whose stratus.db is removed stops, and one started at once serves the new store"

# `controller stop` (the old name) stops the server by its lock.
run 0 "$STRATUS" controller stop
has "$OUT" "stopped"
for i in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; nap 0.1; done
kill -0 "$SERVER_PID" 2>/dev/null && fail "controller stop left the server running"
wait "$SERVER_PID"; rc=$?
[ "$rc" = 0 ] || fail "the server exited $rc after controller stop"
SERVER_PID=
ok "controller stop stops the server"
