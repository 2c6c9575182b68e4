#!/usr/bin/env bash
# Black-box test of services on the local clouds: `stratus serve up` of a
# spec running the example model server (examples/llm-server) as spot
# replicas spread over two locations, their readiness probes, the replica
# set routers follow (a long poll that answers when the set changes), a
# preempted replica drained and replaced, a rolling update to a new spec,
# `serve down`, and the errors a user can make.  Real binary, real server,
# real replica processes, an isolated $STRATUS_HOME.
. "$(dirname "$0")/lib.sh"
use_home
SERVER="$SOURCE_DIR/examples/llm-server/server.py"

svc() { # svc FILE VERSION_TAG: a 2-replica spot service of the model server
  cat >"$1" <<YAML
name: chat
resources:
  accelerators: H100:8
  use_spot: true
envs:
  TAG: $2
run: exec python3 -B $SERVER --port \$PORT --model "toy-\$TAG" --decode-tps 200
service:
  readiness_probe:
    path: /health
    initial_delay_seconds: 60
  replicas: 2
YAML
}
# status_json EXPR: a Python expression over `serve status chat --json` (j).
ready_count() { # live replicas READY at version $1
  status_json "sum(1 for r in j['replicas'] if r['state'] == 'READY' and r['version'] == $1)"
}
ready() { # ready VERSION N: N replicas of VERSION ready, the service READY
  local s
  s=$(status_json "j['state']" 2>/dev/null)
  [ "$s" = FAILED ] && fail "the service FAILED: $("$STRATUS" serve status chat)"
  [ "$s" = READY ] && [ "$(ready_count "$1" 2>/dev/null)" = "$2" ]
}
wait_ready() { # wait_ready VERSION N
  poll 60 ready "$1" "$2" || fail "not $2 ready replicas of version $1: $("$STRATUS" serve status chat)"
}

# --- errors first ---
printf 'name: plain\nrun: echo hi\n' >"$TMP/plain.yaml"
run 2 "$STRATUS" serve up "$TMP/plain.yaml"
has "$ERR" "no 'service:' section"
run 1 "$STRATUS" serve status nosuch
has "$ERR" "no service 'nosuch'"
run 2 "$STRATUS" serve
has "$ERR" "usage: stratus serve up FILE"
ok "serve up of a spec without a service, an unknown service, no subcommand: clear errors"

# --- up: two spot replicas, spread, probed ready ---
svc "$TMP/chat.yaml" one
run 0 "$STRATUS" serve up "$TMP/chat.yaml"
has "$OUT" "service chat is starting"
KEY=$(tail -n 1 <<<"$OUT")
[[ "$KEY" =~ ^sk_[A-Za-z0-9_-]{43}$ ]] || fail "serve up must print the API key once: $OUT"
wait_ready 1 2
[ "$(status_json "len(set((r['cloud'], r['region'], r['zone']) for r in j['replicas'] if r['job_state'] == 'RUNNING'))")" = 2 ] ||
  fail "two spot replicas must be in two locations: $("$STRATUS" serve status chat)"
[ "$(status_json "sorted(set(r.get('mode') for r in j['replicas'] if r['job_state'] == 'RUNNING'))")" = "['spot']" ] ||
  fail "the replicas must be spot: $("$STRATUS" serve status chat)"
run 2 "$STRATUS" serve up "$TMP/chat.yaml"
has "$ERR" "a service called 'chat' is up already"
ok "serve up: 2 spot replicas in 2 locations answer their probe; the service is READY; a second up is refused"

# --- the replica set: what a router gets; a replica answers ---
run 0 "$STRATUS" serve endpoints chat
VERSION=$(json 'j["version"]')
[ "$(json 'len([r for r in j["replicas"] if r["state"] == "READY"])')" = 2 ] || fail "endpoints: $OUT"
digest=$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)
[ "$(json 'j["keys"]')" = "['$digest']" ] || fail "the set must carry the key's SHA-256: $OUT"
URL=$(json 'j["replicas"][0]["url"]')
curl -sf "$URL/v1/models" | grep -q "toy-one" || fail "replica $URL does not serve the model"
ok "endpoints: both replicas READY with their URLs and the key's digest; a replica serves toy-one"

# --- a long poll: held while nothing changes, answered when the set does ---
REP=$(status_json "[r['id'] for r in j['replicas'] if r['state'] == 'READY'][0]")
curl -s --unix-socket "$STRATUS_HOME/stratus.sock" -m 60 \
  "http://localhost/v1/services/chat/endpoints?after=$VERSION" >"$TMP/poll.json" &
POLL=$!
sleep 1
kill -0 "$POLL" 2>/dev/null || fail "a poll at the current version must be held: $(cat "$TMP/poll.json")"
run 0 "$STRATUS" local preempt --service chat --replica "$REP"
wait "$POLL" || fail "the held poll failed"
python3 - "$TMP/poll.json" "$VERSION" "$REP" <<'PY' || fail "the poll's answer: $(cat "$TMP/poll.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["version"] != int(sys.argv[2]), "same version"
states = {r["id"]: r["state"] for r in j["replicas"]}
assert states.get(int(sys.argv[3]), "gone") != "READY", states
PY
ok "a poll at the current version is held, and answered when a preempted replica leaves the set"

# --- the preempted replica is replaced: two ready again ---
wait_ready 1 2
ok "after the preemption two replicas are ready again"

# --- a rolling update ---
svc "$TMP/chat2.yaml" two
run 0 "$STRATUS" serve update chat "$TMP/chat2.yaml"
has "$OUT" "rolling out version 2"
wait_ready 2 2
v1_gone() { [ "$(status_json "sum(1 for r in j['replicas'] if r['version'] == 1 and r['job_state'] not in ('CANCELLED', 'SUCCEEDED', 'FAILED'))")" = 0 ]; }
poll 30 v1_gone
[ "$(status_json "sum(1 for r in j['replicas'] if r['version'] == 1 and r['job_state'] not in ('CANCELLED', 'SUCCEEDED', 'FAILED'))")" = 0 ] ||
  fail "version 1 replicas must stop once version 2 is ready: $("$STRATUS" serve status chat)"
run 0 "$STRATUS" serve endpoints chat
URL=$(json 'j["replicas"][0]["url"]')
curl -sf "$URL/v1/models" | grep -q "toy-two" || fail "after the update the replicas serve toy-two"
ok "serve update: version 2 comes up, then version 1 stops; the set serves the new model"

# --- down ---
run 0 "$STRATUS" serve down chat
has "$OUT" "SHUTTING_DOWN"
is_down() { [ "$(status_json "j['state']")" = DOWN ]; }
poll 60 is_down
[ "$(status_json "j['state']")" = DOWN ] || fail "serve down: $("$STRATUS" serve status chat)"
# a replica's job says who stopped it (not "the user")
RJ=$(status_json "j['replicas'][-1]['id']")
[ "$(job_field "$RJ" 'j["reason"]')" = "stopped by service chat: the service is going down" ] ||
  fail "replica $RJ's reason: $(job_field "$RJ" 'j["reason"]')"
run 0 "$STRATUS" serve status
has "$OUT" "no services that are not DOWN"
has "$OUT" "(1 DOWN: \`stratus serve status --all\` lists them too)"
run 0 "$STRATUS" serve status --all
has "$OUT" "chat"
has "$OUT" "DOWN"
run 0 "$STRATUS" serve status --json
[ "$OUT" = "[]" ] || fail "serve status --json lists a DOWN service: $OUT"
run 0 "$STRATUS" serve status --all --json
[ "$(json "[s['name'] + ' ' + s['state'] for s in j]")" = "['chat DOWN']" ] || fail "serve status --all --json: $OUT"
run 2 "$STRATUS" serve status chat other
ok "serve down: every replica stops, the service is DOWN; the list says so and --all shows it"
