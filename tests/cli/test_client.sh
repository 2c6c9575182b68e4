#!/usr/bin/env bash
# Black-box tests of the CLI as a client of `stratus server`: the server a
# first command starts for the home (with the home's server.yaml), the CLI
# over TCP with a token (STRATUS_API, STRATUS_TOKEN, STRATUS_TOKEN_FILE and
# the global --api / --token-file), `token create|list|revoke`, `policy
# show|set|clear` (launch plans under the server's policy), `cancel` of
# several jobs, `cost` with egress as its own column, and --json on the
# readers.  Real binary, real server, an isolated $STRATUS_HOME.
. "$(dirname "$0")/lib.sh"
use_home
SOCK="$STRATUS_HOME/stratus.sock"
local_server_conf

sleeper() { # sleeper NAME: a 1-node on-demand job that runs until cancelled
  printf 'name: %s\nresources:\n  accelerators: H100:8\n  use_spot: false\nrun: sleep 300\n' \
    "$1" >"$TMP/$1.yaml"
}

# --- autostart: the first command starts the home's server, with its config ---
[ ! -e "$SOCK" ] || fail "no server may run yet"
run 0 "$STRATUS" queue
has "$OUT" "ID  NAME"
[ -S "$SOCK" ] || fail "the first command must leave a server listening on $SOCK"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "the socket must be owner-only: $(stat -c %a "$SOCK")"
pid=$(cat "$STRATUS_HOME/controller.pid")
kill -0 "$pid" || fail "the server (pid $pid) must run"
PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$STRATUS_HOME/controller.log" | tail -n 1)
[ -n "$PORT" ] && [ "$PORT" != 0 ] || fail "no TCP port in the log: $(cat "$STRATUS_HOME/controller.log")"
run 0 "$STRATUS" status
[ "$(cat "$STRATUS_HOME/controller.pid")" = "$pid" ] || fail "a second command must use the running server"
ok "the first command starts the home's server (its server.yaml: TCP port $PORT); the next uses it"

# --- tokens, over the socket (its owner is admin) ---
run 0 "$STRATUS" token create --name ci --role member
MEMBER=$OUT
[[ "$MEMBER" =~ ^st_[A-Za-z0-9_-]+$ ]] || fail "token create must print the token alone: '$MEMBER'"
has "$ERR" "shown only this once"
run 0 "$STRATUS" token create --name looker --role viewer
VIEWER=$OUT
run 0 "$STRATUS" token create --name boss
has "$ERR" "(member)"
run 2 "$STRATUS" token create --name x --role boss
has "$ERR" "--role takes admin, member or viewer"
run 2 "$STRATUS" token create --role viewer
has "$ERR" "needs --name"
run 0 "$STRATUS" token list
has "$OUT" "ci"; has "$OUT" "looker"; has "$OUT" "viewer"
hasnt "$OUT" "$MEMBER"; hasnt "$OUT" "$VIEWER"
run 0 "$STRATUS" token list --json
[ "$(json 'sorted(t["name"] for t in j)')" = "['boss', 'ci', 'looker']" ] || fail "token list --json: $OUT"
ok "token create prints a token once (member by default); list shows names and roles, never tokens"

# --- the CLI over TCP with a token ---
API="http://127.0.0.1:$PORT"
hello="$TMP/hello.yaml"
printf 'name: hello\nresources:\n  accelerators: H100:8\n  use_spot: false\nrun: echo hello over tcp\n' >"$hello"
run 0 env STRATUS_API="$API" STRATUS_TOKEN="$MEMBER" "$STRATUS" launch "$hello"
has "$OUT" "job 1 submitted"; has "$OUT" "-> SUCCEEDED"; has "$OUT" "total \$"
run 0 env STRATUS_API="$API" STRATUS_TOKEN="$MEMBER" "$STRATUS" logs 1
has "$OUT" "hello over tcp"
echo "$VIEWER" >"$TMP/viewer.token"
run 0 env STRATUS_API="$API" STRATUS_TOKEN_FILE="$TMP/viewer.token" "$STRATUS" status 1
has "$OUT" "job 1 hello: SUCCEEDED"
run 0 "$STRATUS" --api "$API" --token-file "$TMP/viewer.token" queue
has "$OUT" "ID  NAME"
run 2 env STRATUS_API="$API" STRATUS_TOKEN="$VIEWER" "$STRATUS" launch "$hello" --detach
hasnt "$OUT" "submitted"
run 2 env STRATUS_API="$API" STRATUS_TOKEN="$VIEWER" "$STRATUS" cancel 1
run 2 env STRATUS_API="$API" STRATUS_TOKEN="$MEMBER" "$STRATUS" token list
run 2 env STRATUS_API="$API" "$STRATUS" queue
[ -n "$ERR" ] || fail "a refused request must say why"
run 2 env STRATUS_API="$API" STRATUS_TOKEN=st_nosuchtoken "$STRATUS" queue
run 2 env STRATUS_API="$API" STRATUS_TOKEN_FILE="$TMP/missing.token" "$STRATUS" queue
has "$ERR" "missing.token"; has "$ERR" "STRATUS_TOKEN_FILE"
[ "$(sql "select count(*) from jobs")" = 1 ] || fail "only the member's job may have been submitted"
ok "over TCP: a member launches and reads; a viewer reads but cannot submit or cancel; no token or a bad one is refused (exit 2)"

run 0 "$STRATUS" token revoke looker
has "$OUT" "revoked"
run 2 env STRATUS_API="$API" STRATUS_TOKEN="$VIEWER" "$STRATUS" queue
run 1 "$STRATUS" token revoke nosuch
ok "a revoked token stops working"

run 2 env STRATUS_API="http://127.0.0.1:1" "$STRATUS" queue
has "$ERR" "cannot reach the stratus server at http://127.0.0.1:1"
ok "an API address where nothing listens: a clear error"

# --- the org policy lives in the server ---
run 0 "$STRATUS" policy show
[ -z "$OUT" ] || fail "no policy is set yet: $OUT"
has "$ERR" "no policy is set"
printf 'version: 1\nrules:\n  - name: gcp-only\n    description: gcp only\n    match: {}\n    allow: [gcp]\n    bogus: 1\n' >"$TMP/bad-policy.yaml"
run 2 "$STRATUS" policy set "$TMP/bad-policy.yaml"
has "$ERR" "bad-policy.yaml:7:"
printf 'version: 1\nrules:\n  - name: gcp-only\n    description: gcp only\n    match: {}\n    allow: [gcp]\n' >"$TMP/policy.yaml"
run 2 env STRATUS_API="$API" STRATUS_TOKEN="$MEMBER" "$STRATUS" policy set "$TMP/policy.yaml"
run 0 "$STRATUS" policy set "$TMP/policy.yaml"
has "$OUT" "policy set from"
run 0 env STRATUS_API="$API" STRATUS_TOKEN="$MEMBER" "$STRATUS" policy show
has "$OUT" "name: gcp-only"
run 0 "$STRATUS" launch "$hello"
has "$OUT" "plan: hello under gcp-only"; has "$OUT" "best gcp/"; hasnt "$OUT" "best oci/"
[ "$(sql "select cloud from attempts where job_id = 2")" = gcp ] || fail "job 2 must run on gcp under the policy"
run 0 "$STRATUS" policy clear
run 0 "$STRATUS" policy show
[ -z "$OUT" ] || fail "the policy must be cleared: $OUT"
ok "policy set (admin only; file:line errors), show, clear; launch plans under the server's policy"

# a home that is a file: said, with what to do (helper-103)
: >"$TMP/a-file"
run 2 env STRATUS_HOME="$TMP/a-file" "$STRATUS" status
has "$ERR" "\$STRATUS_HOME $TMP/a-file is not a directory: set STRATUS_HOME to a directory (it is made if missing)"

# --- cancel takes several jobs ---
sleeper s1; sleeper s2
a=$(launch_detached "$TMP/s1.yaml"); b=$(launch_detached "$TMP/s2.yaml")
wait_state "$a" RUNNING; wait_state "$b" RUNNING
run 0 "$STRATUS" cancel "$a" "$b"
has "$OUT" "job $a: cancel requested"; has "$OUT" "job $b: cancel requested"
wait_state "$a" CANCELLED; wait_state "$b" CANCELLED
run 1 "$STRATUS" cancel "$a" 999
has "$OUT" "job $a already ended: CANCELLED"; has "$ERR" "no job 999"
run 2 "$STRATUS" cancel "$a" x1
has "$ERR" "'x1' is not a job id"; hasnt "$OUT" "job $a"
ok "cancel takes several ids; one unknown id fails the command (exit 1), the others are still done"

# --- stratus catalog reload: a running job pays the new price from then on ---
sleeper priced
pj=$(launch_detached "$TMP/priced.yaml")
wait_state "$pj" RUNNING
run 0 "$STRATUS" status "$pj" --json
read -r pcloud pregion ptype pold <<<"$(json '" ".join(str(x) for x in (j["placement"]["cloud"], j["placement"]["region"], j["placement"]["instance_type"], j["placement"]["price_hour"]))')"
cp "$STRATUS_CATALOG/offers.csv" "$TMP/offers.saved"
python3 - "$STRATUS_CATALOG/offers.csv" "$pcloud" "$pregion" "$ptype" <<'PY'
import csv, sys
path, cloud, region, itype = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
hit = [r for r in rows if (r["cloud"], r["region"], r["instance_type"]) == (cloud, region, itype)]
assert len(hit) == 1, hit
hit[0]["price_hour"] = "%.2f" % (float(hit[0]["price_hour"]) + 1.5)
with open(path, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
    w.writeheader(); w.writerows(rows)
PY
pnew=$(python3 -c "print('%.2f' % ($pold + 1.5))")
run 0 "$STRATUS" catalog reload
has "$OUT" "read $STRATUS_CATALOG again: 1 offer repriced, 0 sold no more"
repriced() { "$STRATUS" events "$pj" | grep -q "price of $pcloud/$pregion $ptype: \$$(printf '%.2f' "$pold") -> \$$pnew/node-h"; }
wait_for repriced
run 0 "$STRATUS" status "$pj" --json
[ "$(json 'j["placement"]["price_hour"]')" = "$(python3 -c "print(float('$pnew'))")" ] ||
  fail "the running attempt must pay \$$pnew now: ${OUT:0:600}"
# a catalog in error is refused with its file:line; the prices stay
printf 'gcp,us-central1\n' >>"$STRATUS_CATALOG/offers.csv"
run 2 "$STRATUS" catalog reload
has "$ERR" "offers.csv:10: instance_type must not be empty"; has "$ERR" "(the server keeps the prices it had)"
cp "$TMP/offers.saved" "$STRATUS_CATALOG/offers.csv"
run 0 "$STRATUS" catalog reload --json
[ "$(json 'j["repriced"], j["added"], j["not_taken"]')" = "(1, 0, None)" ] ||
  fail "putting the old price back is one offer repriced: $OUT"
run 0 "$STRATUS" cancel "$pj"
wait_state "$pj" CANCELLED
run 2 "$STRATUS" catalog reload --now
has "$ERR" "unexpected '--now'"
ok "stratus catalog reload: a new price is taken by the running job (its event, its price), a catalog in error refused with its file:line"

# --- the readers' --json; cost with egress as its own column ---
run 0 "$STRATUS" status 1 --json
[ "$(json 'j["state"], j["attempts_detail"][0]["cloud"], j["placement"], j["last_placement"]["cloud"]')" = "('SUCCEEDED', 'oci', None, 'oci')" ] ||
  fail "status N --json must carry the attempts, and where the ended job ran: ${OUT:0:400}"
# the list says where an ended job ran (it said '-')
run 0 "$STRATUS" status
echo "$OUT" | grep -Eq "^ +1 .* SUCCEEDED +oci/[a-z0-9-]+ " || fail "status: job 1's placement: $OUT"
# read a page at a time: pages of one or two give the same list as one page
run 0 "$STRATUS" status; whole=$OUT
run 0 "$STRATUS" status --json; whole_json=$OUT
[ "$(json 'len(j)')" -ge 3 ] || fail "status --json: fewer jobs than submitted: ${OUT:0:400}"
for p in 1 2; do
  run 0 env STRATUS_LIST_PAGE=$p "$STRATUS" status
  [ "$OUT" = "$whole" ] || fail "status read in pages of $p differs: $OUT"
  run 0 env STRATUS_LIST_PAGE=$p "$STRATUS" status --json
  [ "$(json '[x["id"] for x in j]')" = "$(OUT=$whole_json json '[x["id"] for x in j]')" ] ||
    fail "status --json read in pages of $p lists other jobs: ${OUT:0:400}"
done
# --last N: the newest N only, oldest of them first, and a line when there are more
ids=$(OUT=$whole_json json '" ".join(str(x["id"]) for x in j)')
newest2=$(tr ' ' '\n' <<<"$ids" | tail -n 2 | tr '\n' ' ' | sed 's/ $//')
run 0 "$STRATUS" status --last 2 --json
[ "$(json '" ".join(str(x["id"]) for x in j)')" = "$newest2" ] || fail "status --last 2: not jobs $newest2: ${OUT:0:400}"
run 0 "$STRATUS" status --last 2
has "$OUT" "(the newest 2 jobs; older ones: stratus status, or --last with more)"
[ "$(grep -cE '^ +[0-9]+ ' <<<"$OUT")" = 2 ] || fail "status --last 2 shows other than 2 jobs: $OUT"
run 0 "$STRATUS" status --last 1000
[ "$OUT" = "$whole" ] || fail "status --last 1000 (more than there are) must be the whole list: $OUT"
run 2 "$STRATUS" status --last 0
has "$ERR" "--last takes a number of jobs from 1 to 10000, not '0'"
run 2 "$STRATUS" status 1 --last 3
has "$ERR" "JOB or --last, not both"
# one whose launches all failed never ran anywhere: no place (helper-102)
run 0 "$STRATUS" local api-error --location oci/us-ashburn-1 --for 1h
printf 'name: never\nresources:\n  accelerators: H100:8\n  infra: oci/us-ashburn-1\n  use_spot: false\nrun: echo never\n' >"$TMP/never.yaml"
nv=$(launch_detached "$TMP/never.yaml")
tried() { [ "$("$STRATUS" status "$nv" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["attempts"] >= 1)')" = True ]; }
wait_for tried
run 0 "$STRATUS" cancel "$nv"
wait_state "$nv" CANCELLED
run 0 "$STRATUS" status "$nv" --json
[ "$(json '"last_placement" in j, j["attempts"] >= 1')" = "(False, True)" ] || fail "a job that never ran has no last placement: ${OUT:0:600}"
run 0 "$STRATUS" status
echo "$OUT" | grep -Eq "^ +$nv +never .* CANCELLED +- " || fail "status: the job that never ran: $OUT"
run 0 "$STRATUS" local api-error --location oci/us-ashburn-1 --for 0s
run 0 "$STRATUS" status "$a" --json
[ "$(json 'j["attempts_detail"][0]["end_reason"]')" = cancelled ] || fail "the cancelled attempt: ${OUT:0:600}"
run 0 "$STRATUS" events 1 --json
[ "$(json 'j[0]["type"], j[-1]["to_state"]')" = "('submitted', 'SUCCEEDED')" ] || fail "events --json: ${OUT:0:400}"
run 0 "$STRATUS" cost
has "$OUT" "EGRESS"; has "$OUT" "oci"; has "$OUT" "gcp"
run 0 "$STRATUS" cost --by job
has "$OUT" "1 hello"; has "$OUT" "$a s1"
run 0 "$STRATUS" cost --by team --json
[ "$(json 'j["by"], sorted(set(j["rows"][0].keys()) & {"attempts", "compute_usd", "egress_usd"})')" = "('team', ['attempts', 'compute_usd', 'egress_usd'])" ] ||
  fail "cost --json: $OUT"
ok "status N, events and cost as JSON; cost has an egress column and names the jobs by job"

# --- tables stay aligned for long names: the columns widen, nothing is cut ---
long=a-workload-whose-name-is-longer-than-the-column
printf 'name: %s\nresources:\n  accelerators: H100:8\n  use_spot: false\nrun: "true"\n' "$long" >"$TMP/long.yaml"
lid=$(launch_detached "$TMP/long.yaml")
wait_state "$lid" SUCCEEDED
run 0 "$STRATUS" status
has "$OUT" "$long"
python3 - "$OUT" <<'PY' || fail "status columns are not aligned: $OUT"
import sys
lines = sys.argv[1].splitlines()
col = lines[0].index("KIND")
assert all(l[col:col + 5] == "batch" for l in lines[1:]), lines
col = lines[0].index("STATE")
assert all(l[col:].split()[0] in ("SUCCEEDED", "CANCELLED") for l in lines[1:]), lines
PY
run 0 "$STRATUS" cost --by job
has "$OUT" "$lid $long"
python3 - "$OUT" <<'PY' || fail "cost columns are not aligned: $OUT"
import sys
lines = sys.argv[1].splitlines()
end = lines[0].index("COST") + len("COST")
assert all(l[end - 1] != " " and l[end] == " " for l in lines[1:]), lines
PY
ok "status and cost widen their first columns for a long job name and stay aligned"

# --- logs --follow through a recovery: the new attempt's log follows ---
cat >"$TMP/mover.yaml" <<YAML
name: mover
resources:
  accelerators: H100:8
  use_spot: false
run: |
  echo "start of attempt \$STRATUS_ATTEMPT_ID"
  while [ ! -f "$TMP/mover.go" ]; do read -t 0.1 _ <>$TMP/.tick || :; done
  echo "end of attempt \$STRATUS_ATTEMPT_ID"
stratus:
  recovery: {max_restarts: 2}
YAML
mid=$(launch_detached "$TMP/mover.yaml")
wait_state "$mid" RUNNING
"$STRATUS" logs "$mid" --follow >"$TMP/follow.out" 2>"$TMP/follow.err" &
follower=$!
wait_for grep -q "start of attempt" "$TMP/follow.out"
run 0 "$STRATUS" local preempt --job "$mid"
recovered() { [ "$(sql "select count(*) from attempts where job_id=$mid and n=2 and state=1")" = 1 ]; }
wait_for recovered # attempt 2 runs (ATT_RUNNING)
touch "$TMP/mover.go"
wait_state "$mid" SUCCEEDED
for _ in $(seq 1 300); do kill -0 "$follower" 2>/dev/null || break; nap 0.1; done
kill -0 "$follower" 2>/dev/null && { kill "$follower"; fail "logs --follow did not end with its job: $(cat "$TMP/follow.out")"; }
wait "$follower" || fail "logs --follow failed: $(cat "$TMP/follow.err")"
att2=$(sql "select id from attempts where job_id=$mid and n=2")
python3 - "$TMP/follow.out" "$att2" <<'PY' || fail "logs --follow must go on with attempt 2: $(cat "$TMP/follow.out")"
import sys
text = open(sys.argv[1]).read()
moved = text.index("--- the job moved: attempt 2 on ")
assert text.index("end of attempt " + sys.argv[2]) > moved, text
PY
ok "logs --follow goes on with the new attempt's log after a recovery, and ends with the job"

# --- the server stops: the next command starts it again, and says so ---
run 0 "$STRATUS" controller stop
run 0 "$STRATUS" status 1
has "$OUT" "SUCCEEDED"; has "$ERR" "no controller was running; started one"
ok "a stopped server is started again by the next command, which says so"
echo "$checks checks passed"
