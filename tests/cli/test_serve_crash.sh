#!/usr/bin/env bash
# kill -9 of the server while a service is live: a service of 2 replicas
# READY behind a router that follows the server (API mode), requests sent
# through the router the whole time.  While the server is down the router
# keeps its last replica set and requests keep succeeding; the next CLI
# command starts the server again, and `serve status` shows the same
# replicas (same job ids, one attempt each: none relaunched, none lost,
# none added), READY again; the router follows the restarted server (a new
# version of the set); not one request failed over the whole run.  Real
# server (TCP on a fixed loopback port, so the router finds it again), real
# router, real model server replicas, a Python client counting answers.
# The readiness probe is a completion, as LLM services often have it, and
# takes ~1.5 s: after the restart the server knows no replica is ready until
# its first probes answer, and a router that polled then used to be given
# a set with no replica in it (503s); the poll a router would make is
# checked right after the restart (it must be held until the replicas are
# found ready, not answered empty).
. "$(dirname "$0")/lib.sh"
use_home
SERVER="$SOURCE_DIR/examples/llm-server/server.py"
# a free loopback port for the server's TCP listener, the same after the
# restart (the router's --api URL names it)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
local_server_conf "$PORT"
cat >"$TMP/chat.yaml" <<YAML
name: chat
resources:
  accelerators: H100:8
run: exec python3 -B $SERVER --port \$PORT --decode-tps 20 --prefill-tps 100000
service:
  readiness_probe:
    path: /v1/completions
    post_data: {prompt: ready?, max_tokens: 30}
    initial_delay_seconds: 60
  replicas: 2
YAML
cleanup() {
  touch "$TMP/stop"
  for p in $(jobs -p); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  stop_home
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
READY="[r for r in j['replicas'] if r['state'] == 'READY']"

run 0 "$STRATUS" serve up "$TMP/chat.yaml"
KEY=$(tail -n 1 <<<"$OUT")
until_status "len($READY) == 2 and j['state'] == 'READY'" 120 "2 ready replicas"
IDS=$(status_json "sorted(r['id'] for r in j['replicas'])")
[ "$(status_json "len(j['replicas'])")" = 2 ] || fail "2 replicas expected: $("$STRATUS" serve status chat)"
ok "service chat: 2 replicas READY (jobs $IDS)"

# --- a router following the server ---
TOKEN=$("$STRATUS" token create --name router --role member 2>/dev/null)
[ -n "$TOKEN" ] || fail "token create"
STRATUS_TOKEN=$TOKEN "$STRATUS" router --api "http://127.0.0.1:$PORT" --service chat \
  --listen 127.0.0.1:0 2>"$TMP/router.log" &
wait_for grep -q "listening on" "$TMP/router.log"
R=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$TMP/router.log" | head -n 1)
wait_for sh -c "curl -sf '$R/-/replicas' | grep -o '\"READY\"' | wc -l | grep -qx 2"
V0=$(curl -sf "$R/-/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
ok "a router at $R follows the set (version $V0, 2 ready)"

# --- continuous requests through the router, every answer counted ---
python3 "$(dirname "$0")/load_client.py" "$TMP" "$KEY" "$R" &
LOAD=$!
wait_answered 30
[ "$(count "j['fail']")" = 0 ] || fail "requests failed before the kill: $(cat "$TMP/load.json")"
ok "requests flow through the router ($(answered) answered, 0 failed)"

# --- kill -9 of the server: the router serves from its last set ---
SPID=$(cat "$STRATUS_HOME/controller.pid")
kill -0 "$SPID" 2>/dev/null || fail "no server at pid $SPID"
kill -9 "$SPID"
for _ in $(seq 1 300); do kill -0 "$SPID" 2>/dev/null || break; nap 0.1; done
kill -0 "$SPID" 2>/dev/null && fail "the server (pid $SPID) did not die"
# no CLI command here: it would start the server again
curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT/healthz" && fail "something answers on the server's port"
wait_answered 40
curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT/healthz" && fail "the server came back on its own"
[ "$(count "j['fail']")" = 0 ] || fail "requests failed while the server was down: $(cat "$TMP/load.json")"
ok "server killed: the router keeps serving from its last set (0 failed)"

# --- the next command starts the server; the same replicas, READY ---
run 0 "$STRATUS" serve status chat --json
has "$ERR" "no controller was running; started one"
if [ "$(json "sorted(r['id'] for r in j['replicas'])")" != "$IDS" ]; then
  for r in $(json "' '.join(str(r['id']) for r in j['replicas'])"); do
    echo "--- events of replica job $r:"; "$STRATUS" events "$r" 2>&1 | tail -n 15
  done
  fail "after the restart the replicas must be the same jobs $IDS: $OUT"
fi
# what the router asks the restarted server (its version is the old one's)
curl -s -m 60 --unix-socket "$STRATUS_HOME/stratus.sock" \
  "http://localhost/v1/services/chat/endpoints?after=$V0" >"$TMP/poll.json" ||
  fail "the poll failed: $(cat "$TMP/poll.json")"
python3 - "$TMP/poll.json" "$V0" <<'PY' || fail "a router polling right after the restart: $(cat "$TMP/poll.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["version"] != int(sys.argv[2]), "the same version as the killed server's"
assert [r["state"] for r in j["replicas"]] == ["READY", "READY"], "the set must keep both replicas"
PY
ok "a router's poll right after the restart gets both replicas READY (not an empty set)"
until_status "len($READY) == 2 and j['state'] == 'READY'" 120 "2 ready replicas after the restart"
# on failure, what happened to each replica job: its events and the end
# of its log (one CI run had job 2 FAILED after the restart; the cause
# was lost with the temporary folder)
why_lost() {
  local j
  "$STRATUS" serve status chat
  for j in $(echo "$IDS" | tr -d '[],'); do
    echo "--- job $j events"; "$STRATUS" events "$j" 2>&1 | tail -20
    echo "--- job $j log"; "$STRATUS" serve logs chat --replica "$j" 2>&1 | tail -20
  done
  echo "--- controller log"; tail -40 "$STRATUS_HOME/controller.log" 2>&1
}
[ "$(status_json "sorted(r['id'] for r in j['replicas'])")" = "$IDS" ] ||
  fail "no replica may be added or lost: $(why_lost)"
for id in $(status_json "' '.join(str(r['id']) for r in j['replicas'])"); do
  [ "$(job_field "$id" 'j["attempts"]')" = 1 ] || fail "replica $id was relaunched: $("$STRATUS" events "$id")"
  [ "$(job_field "$id" 'j["state"]')" = RUNNING ] || fail "replica $id: $("$STRATUS" events "$id")"
done
ok "the next command restarted the server: the same 2 replicas ($IDS), one attempt each, READY"

# --- the router follows the restarted server; requests never failed ---
wait_for sh -c "curl -sf '$R/-/healthz' | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(not (j[\"version\"] != $V0 and j[\"ready_replicas\"] == 2))'"
wait_answered 30
touch "$TMP/stop"
wait "$LOAD"
[ "$(count "j['fail']")" = 0 ] || fail "requests failed: $(cat "$TMP/load.json")"
[ "$(status_json "len(j['replicas'])")" = 2 ] || fail "no replica may be added: $("$STRATUS" serve status chat)"
ok "the router follows the restarted server (a new version, 2 ready); 0 failed requests of $(answered)"
