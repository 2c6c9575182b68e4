#!/usr/bin/env bash
# Teams' secrets end to end (docs/secrets.md), on a real server and the
# local clouds: `secret set` from stdin, `ls` (names only), a job that
# refers to a secret by envs: {K: {secret: NAME}} and by SkyPilot's
# secrets: {K: null} gets the value in its environment (it compares hashes
# and prints ok), and the value is nowhere else: not in the store's files
# (the .db, its -wal), the server's log and its /proc environ and cmdline,
# `ps` of anything, the job's events, its log, any file of the home, any API
# reply.  A spec naming a secret its team lacks, or writing a value, is
# refused with file:line:col; a viewer cannot set or delete; rm.  Across
# teams (once `stratus team` exists): another team's member gets 404.
. "$(dirname "$0")/lib.sh"
use_home
SERVER_PID=
trap '[ -z "$SERVER_PID" ] || kill -9 "$SERVER_PID" 2>/dev/null; stop_home; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
SOCK="$STRATUS_HOME/stratus.sock"
LOG="$TMP/server.log"
: >"$LOG"
local_server_conf


# api TOKEN METHOD PATH [BODY]: over TCP ("unix": the socket, as its owner).
# Sets CODE and OUT; every reply is kept in $TMP/replies to search later.
api() {
  local via=$1 m=$2 p=$3 body=${4-}
  local args=(-s -o "$TMP/body" -w '%{http_code}' -X "$m" --max-time 60)
  [ -z "$body" ] || args+=(--data-binary "$body" -H 'Content-Type: application/json')
  if [ "$via" = unix ]; then
    args+=(--unix-socket "$SOCK" "http://localhost$p")
  else
    args+=(-H "Authorization: Bearer $via" "http://127.0.0.1:$PORT$p")
  fi
  CODE=$(curl "${args[@]}")
  OUT=$(cat "$TMP/body")
  cat "$TMP/body" >>"$TMP/replies"
}
expect() { [ "$CODE" = "$1" ] || fail "$2: HTTP $CODE, expected $1: $OUT"; }

start_server

# Values made for this run, so that finding one anywhere is a leak, never a
# coincidence.  WANT_* are their hashes, which the job compares.
VALUE="hf_$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
VALUE2="wb_$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
WANT=$(printf %s "$VALUE" | sha256sum | cut -d' ' -f1)
WANT2=$(printf %s "$VALUE2" | sha256sum | cut -d' ' -f1)

# --- set (value on stdin, one trailing newline dropped), ls ---
run 0 "$STRATUS" secret set hf --team research <<<"$VALUE" # with a newline
has "$ERR" "secret hf set for team research"
run 0 "$STRATUS" secret set WANDB_API_KEY --team research < <(printf %s "$VALUE2")
run 0 "$STRATUS" secret ls --team research
has "$OUT" "hf"; has "$OUT" "WANDB_API_KEY"; hasnt "$OUT" "$VALUE"
run 0 "$STRATUS" secret ls --team research --json
[ "$(json '[s["name"] for s in j]')" = "['WANDB_API_KEY', 'hf']" ] || fail "ls --json: $OUT"
[ "$(json 'sorted(j[0].keys())')" = "['created_at', 'name', 'team', 'updated_at']" ] ||
  fail "ls --json shows more than names and times: $OUT"
run 0 "$STRATUS" secret ls
has "$OUT" "NAME"; hasnt "$OUT" "hf"
ok "secret set reads stdin; ls lists names and times, by team"

run 2 "$STRATUS" secret set 'bad/name' --team research <<<"x"
has "$ERR" "not a secret name"
run 2 "$STRATUS" secret set hf extra <<<"x"
has "$ERR" "needs one NAME"
ok "secret set: a bad name and extra arguments are refused"

# --- a job gets both in its environment, and nothing else has them ---
cat >"$TMP/sec.yaml" <<YAML
name: sec
resources:
  accelerators: H100:8
envs:
  HF_TOKEN: {secret: hf}
  WANT: $WANT
  WANT2: $WANT2
  GO: $TMP/go
secrets:
  WANDB_API_KEY: null
stratus: {team: research}
run: |
  h=\$(printf %s "\$HF_TOKEN" | sha256sum | cut -d' ' -f1)
  w=\$(printf %s "\$WANDB_API_KEY" | sha256sum | cut -d' ' -f1)
  [ "\$h" = "\$WANT" ] && echo "hf token ok" || echo "hf token WRONG"
  [ "\$w" = "\$WANT2" ] && echo "wandb key ok" || echo "wandb key WRONG"
  echo running >"\$GO.started"
  while [ ! -e "\$GO" ]; do read -t 0.1 _ <>$TMP/.tick || :; done
YAML
id=$(launch_detached "$TMP/sec.yaml")
[ -n "$id" ] || fail "no job id"
wait_for test -e "$TMP/go.started"
# while it runs: the server's process and every command line
[ -n "$(pgrep -f "__node" | head -n 1)" ] || fail "no node supervisor running"
procs=$(ps -eo args) # matched in bash: a grep would show the value in its own args
[[ $procs != *"$VALUE"* ]] || fail "a command line holds the value: $procs"
for f in environ cmdline; do
  grep -aqF -- "$VALUE" "/proc/$SERVER_PID/$f" && fail "the server's /proc $f holds the value"
done
# the node's secrets file is gone once the supervisor read it
left=$(find "$STRATUS_HOME" -name secrets -path '*node-*' 2>/dev/null)
[ -z "$left" ] || fail "a node's secrets file is still there: $left"
grep -raqF -- "$VALUE" "$STRATUS_HOME" && fail "a file of the home holds the value: $(grep -ralF -- "$VALUE" "$STRATUS_HOME")"
grep -raqF -- "$VALUE2" "$STRATUS_HOME" && fail "a file of the home holds the second value"
ok "while the job runs: no command line, no /proc of the server, no file of the home holds a value"
touch "$TMP/go"
wait_state "$id" SUCCEEDED
run 0 "$STRATUS" logs "$id"
has "$OUT" "hf token ok"; has "$OUT" "wandb key ok"; hasnt "$OUT" "$VALUE"
ok "the job got both secrets in its environment (envs: {secret:} and SkyPilot secrets: null)"

for f in "$STRATUS_HOME"/stratus.db*; do
  grep -aqF -- "$VALUE" "$f" && fail "$f holds the value"
done
[ -n "$(sql "select hex(ciphertext) from secrets where team = 'research' and name = 'hf'")" ] ||
  fail "no ciphertext in the store"
texts=$(sql "select spec_text from job_texts")
[[ $texts == *"{secret: hf}"* ]] || fail "the stored spec lost its reference: $texts"
grep -aqF -- "$VALUE" "$LOG" && fail "the server's log holds the value"
run 0 "$STRATUS" events "$id"
hasnt "$OUT" "$VALUE"; hasnt "$OUT" "$VALUE2"
api unix GET "/v1/jobs/$id"; expect 200 "job"
api unix GET "/v1/jobs/$id/events"; expect 200 "events"
api unix GET "/v1/secrets?team=research"; expect 200 "list"
api unix GET "/v1/jobs"; expect 200 "jobs"
grep -aqF -- "$VALUE" "$TMP/replies" && fail "an API reply holds the value"
grep -raqF -- "$VALUE" "$STRATUS_HOME" && fail "a file of the home holds the value after the job"
ok "after the job: not in the .db or -wal, the server's log, the events, any API reply or file"

# --- refused at submit: a secret the team lacks, a value written in the spec ---
cat >"$TMP/missing.yaml" <<'YAML'
name: missing
resources:
  accelerators: H100:8
run: echo x
envs:
  HF_TOKEN: {secret: nope}
stratus: {team: research}
YAML
run 2 "$STRATUS" launch "$TMP/missing.yaml" --detach
has "$ERR" "missing.yaml:6:3: HF_TOKEN refers to the secret 'nope', which team 'research' does not have"
has "$ERR" "stratus secret set nope --team research"
cat >"$TMP/other.yaml" <<'YAML'
name: other
resources:
  accelerators: H100:8
run: echo x
envs:
  HF_TOKEN: {secret: hf}
YAML
run 2 "$STRATUS" launch "$TMP/other.yaml" --detach
has "$ERR" "which the lab's shared space does not have"
printf 'name: lit\nresources: {accelerators: H100:8}\nrun: x\nsecrets:\n  HF_TOKEN: hf_literal\n' >"$TMP/lit.yaml"
run 2 "$STRATUS" launch "$TMP/lit.yaml" --detach
has "$ERR" "lit.yaml:5:13: secrets.HF_TOKEN: a value written in the spec would be stored"
ok "a spec naming a secret its team lacks, or writing a value, is refused with file:line:col"

# --- over TCP: a viewer may list, not set or delete ---
run 0 "$STRATUS" token create --name viewer --role viewer
VIEWER=$OUT
api "$VIEWER" GET "/v1/secrets?team=research"; expect 200 "viewer lists"
api "$VIEWER" PUT "/v1/secrets/hf?team=research" '{"value": "x"}'; expect 403 "viewer sets"
api "$VIEWER" DELETE "/v1/secrets/hf?team=research"; expect 403 "viewer deletes"
api - GET "/v1/secrets?team=research"; expect 401 "no token"
ok "a viewer lists but cannot set or delete; no token is 401"

# --- across teams, once teams exist (stratus team) ---
"$STRATUS" team --help >/dev/null 2>&1 || fail "stratus team --help failed"
{
  run 0 "$STRATUS" team create research
  run 0 "$STRATUS" team create infer
  run 0 "$STRATUS" team add research alice --role member
  run 0 "$STRATUS" team add infer bob --role member
  run 0 "$STRATUS" token create bob-tok --user bob --role member
  BOB=$OUT
  api "$BOB" GET "/v1/secrets?team=research"; expect 404 "another team lists"
  api "$BOB" PUT "/v1/secrets/hf?team=research" '{"value": "x"}'; expect 404 "another team sets"
  api "$BOB" DELETE "/v1/secrets/hf?team=research"; expect 404 "another team deletes"
  api "$BOB" POST /v1/jobs "$(python3 -c 'import json,sys; print(json.dumps({"spec": open(sys.argv[1]).read(), "file": sys.argv[1]}))' "$TMP/sec.yaml")"
  [ "$CODE" = 403 ] || fail "another team submits for research: HTTP $CODE: $OUT"
  sed 's/team: research/team: infer/' "$TMP/sec.yaml" >"$TMP/sec-infer.yaml"
  grep -q 'team: infer' "$TMP/sec-infer.yaml" || fail "the spec names no team to change"
  api "$BOB" POST /v1/jobs "$(python3 -c 'import json,sys; print(json.dumps({"spec": open(sys.argv[1]).read(), "file": sys.argv[1]}))' "$TMP/sec-infer.yaml")"
  [ "$CODE" = 400 ] || fail "another team's job names research's secret: HTTP $CODE: $OUT"
  has "$OUT" "refers to the secret 'hf'"
  ok "another team's member can neither list, set, delete nor use research's secrets (404; its own jobs cannot name them)"
  run 1 "$STRATUS" secret set hf --team reserch <<<"x"
  has "$ERR" "no team is called 'reserch'"
  run 1 "$STRATUS" secret ls --team reserch
  has "$ERR" "no team is called 'reserch'"
  ok "once teams exist, a secret of a team that is none of them is refused, also for the admin"
}

# --- rm ---
run 0 "$STRATUS" secret rm hf --team research
has "$OUT" "secret hf removed from team research"
run 1 "$STRATUS" secret rm hf --team research
has "$ERR" "no secret 'hf'"
run 0 "$STRATUS" secret ls --team research
hasnt "$OUT" " hf "
run 2 "$STRATUS" launch "$TMP/sec.yaml" --detach
has "$ERR" "refers to the secret 'hf'"
ok "secret rm: gone from ls, a second rm is not found, a spec naming it is refused"
echo "# $checks checks"
