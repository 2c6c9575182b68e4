#!/usr/bin/env bash
# Two servers on one PostgreSQL (docs/ha.md): one leader, one follower.
# 200 jobs and a service of 2 replicas behind a router that follows both
# servers, requests sent through the router the whole time.  The leader is
# killed with SIGKILL again and again (and started again, as a follower);
# once it is paused with SIGSTOP past its lease and resumed, and must step
# down without committing; once PostgreSQL itself is restarted under load.
# Afterwards: every job ended exactly once (one SUCCEEDED event each), no
# (attempt, node) was started twice (a ledger every node start appends
# to), the router answered every request, every takeover happened within
# the bound (generous: the bench measures it, this checks it is bounded).
# Real PostgreSQL (postgres-local.sh), real servers, real node processes,
# real router and model servers.
. "$(dirname "$0")/lib.sh"
[ -x "$PGBIN/postgres" ] || { echo "# PostgreSQL is not installed: skipped (apt-get install postgresql)"; exit 0; }
use_home
cleanup() {
  touch "$TMP/stop"
  for p in $(jobs -p); do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for h in A B; do
    [ -f "$TMP/$h/controller.pid" ] && kill -CONT "$(cat "$TMP/$h/controller.pid")" 2>/dev/null
    STRATUS_HOME="$TMP/$h" stop_home
  done
  # node processes live in the shared state directory
  STRATUS_HOME="$TMP/state" stop_home
  "$PGLOCAL" stop "$PGDIR" >/dev/null 2>&1
  rm -rf "$PGDIR"
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
use_postgres
trap cleanup EXIT

# The lease (2 s); the ASan build asks for a longer one (HA_LEASE), as its
# steps under ctest -j8 on two cores can outlast 2 s and let the lease lapse.
LEASE=${HA_LEASE:-2}
JOBS=${HA_JOBS:-200}
KILLS_WANTED=4
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
declare -A PORTS PIDS
mkdir -p -m 0700 "$TMP/A" "$TMP/B" "$TMP/state"
for h in A B; do
  PORTS[$h]=$(free_port)
  STRATUS_HOME="$TMP/$h" local_server_conf "${PORTS[$h]}"
  printf 'store: %s\nstate_dir: %s\nlease: %ss\n' "$URL" "$TMP/state" "$LEASE" >>"$TMP/$h/server.yaml"
done

# start H: its server in the background (log $TMP/H.log), until it answers.
start() {
  local h=$1 i
  STRATUS_HOME="$TMP/$h" "$STRATUS" server --config "$TMP/$h/server.yaml" >>"$TMP/$h.log" 2>&1 &
  PIDS[$h]=$!
  for i in $(seq 1 600); do
    curl -s -m 2 -o /dev/null "http://127.0.0.1:${PORTS[$h]}/healthz" && return 0
    kill -0 "${PIDS[$h]}" 2>/dev/null || fail "server $h exited: $(tail -n 20 "$TMP/$h.log")"
    nap 0.1
  done
  fail "server $h does not answer: $(tail -n 20 "$TMP/$h.log")"
}
# health H EXPR: a Python expression over server H's /healthz (j); "" when it does not answer.
health() {
  curl -s -m 5 "http://127.0.0.1:${PORTS[$1]}/healthz" 2>/dev/null |
    python3 -c "import json,sys; j=json.load(sys.stdin); print($2)" 2>/dev/null
}
# role H: leader or follower ("" when it does not answer), read from the
# compact JSON without a python start: the loops below ask it hundreds of times
role() {
  local j
  j=$(curl -s -m 5 "http://127.0.0.1:${PORTS[$1]}/healthz" 2>/dev/null)
  [[ $j =~ \"role\":\"([a-z]+)\" ]] && echo "${BASH_REMATCH[1]}"
}
other() { [ "$1" = A ] && echo B || echo A; }
# leader_now: the server that says it leads (exactly one), waiting for one.
# The two are asked one after the other, so both may answer "leader" when
# the lease moved between the two questions (a loaded machine renews late):
# that is two leaders at once only if they lead at the same epoch.
leader_now() {
  local i h found ea eb
  for i in $(seq 1 1200); do
    found=""
    for h in A B; do [ "$(role $h)" = leader ] && found="$found$h"; done
    if [ ${#found} = 2 ]; then
      ea=$(health A "j['leadership']['epoch']"); eb=$(health B "j['leadership']['epoch']")
      [ -n "$ea" ] && [ "$ea" != 0 ] && [ "$ea" = "$eb" ] &&
        fail "both servers lead at epoch $ea: A $(health A j) B $(health B j)"
      found=""
    fi
    [ ${#found} = 1 ] && { echo "$found"; return 0; }
    nap 0.1
  done
  fail "no leader within 120 s: A $(health A j) B $(health B j)"
}

start A
[ "$(leader_now)" = A ] || fail "the first server did not take the lease"
cp "$TMP/A/server.secret" "$TMP/B/server.secret" # the servers of a store share it
start B
[ "$(role B)" = follower ] || fail "the second server is not a follower: $(health B j)"
[ "$(health B "j['leadership']['lease']['url']")" = "http://127.0.0.1:${PORTS[A]}" ] ||
  fail "the follower does not know the leader's URL: $(health B j)"
ok "two servers on one PostgreSQL: A leads, B follows (lease ${LEASE}s)"

# --- a server whose server.secret is not the others' refuses to start ---
mkdir -p -m 0700 "$TMP/C"
sed "s|tcp: 127.0.0.1:[0-9]*|tcp: 127.0.0.1:0|" "$TMP/A/server.yaml" >"$TMP/C/server.yaml"
STRATUS_HOME="$TMP/C" "$STRATUS" server --config "$TMP/C/server.yaml" >"$TMP/C.log" 2>&1 &&
  fail "a server with another secret started"
has "$(cat "$TMP/C.log")" "is not the secret of the other servers of this store"
ok "a server with another server.secret refuses to start, and says what to copy"

# --- a write through the follower is forwarded to the leader ---
export STRATUS_HOME="$TMP/B"
TOKEN=$("$STRATUS" token create --name router --role member 2>"$TMP/err") || fail "token create via the follower: $(cat "$TMP/err")"
[ -n "$TOKEN" ] || fail "no token"
run 0 "$STRATUS" token list
has "$OUT" router
ok "a write through the follower's socket is forwarded to the leader"

# --- the org policy set through the follower: the leader stores it, and the
# follower, which keeps its own copy, has the new one at once (NOTIFY) ---
cat >"$TMP/policy.yaml" <<'YAML'
version: 1
rules:
  - name: anything-anywhere
    description: a rule only this test sets
    match: {}
    allow: ["*"]
YAML
run 0 "$STRATUS" policy show
hasnt "$OUT" "a rule only this test sets"
run 0 "$STRATUS" policy set "$TMP/policy.yaml"
wait_for sh -c '"$STRATUS" policy show | grep -q "a rule only this test sets"'
wait_for env STRATUS_HOME="$TMP/A" sh -c '"$STRATUS" policy show | grep -q "a rule only this test sets"'
ok "the policy set through the follower is the leader's, and the follower's own copy follows (LISTEN/NOTIFY)"

# --- new prices: `catalog reload` through the follower reads the leader's
# catalog again, and the follower reads its own when told ---
a10() { STRATUS_HOME="$TMP/$1" "$STRATUS" offers --accelerator A10 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["price_hour"])'; }
[ "$(a10 A)" = 8.0 ] && [ "$(a10 B)" = 8.0 ] || fail "the A10 should cost 8.0 before: $(a10 A) $(a10 B)"
cp "$STRATUS_CATALOG/offers.csv" "$TMP/offers.saved"
sed -i 's/,BM.GPU.A10.4,A10,4,24,64,1024,none,2,8.00,4.00/,BM.GPU.A10.4,A10,4,24,64,1024,none,2,7.25,4.00/' "$STRATUS_CATALOG/offers.csv"
run 0 "$STRATUS" catalog reload
has "$OUT" "1 offer repriced"
[ "$(a10 A)" = 7.25 ] || fail "the leader's A10 after the reload: $(a10 A)"
b_new() { [ "$(a10 B)" = 7.25 ]; }
wait_for b_new
cp "$TMP/offers.saved" "$STRATUS_CATALOG/offers.csv"
run 0 "$STRATUS" catalog reload
has "$OUT" "1 offer repriced"
b_old() { [ "$(a10 B)" = 8.0 ]; }
wait_for b_old
ok "catalog reload through the follower: the leader takes the new price, and the follower's catalog follows"

# --- a service of 2 replicas, a router following both servers, load ---
SERVER="$SOURCE_DIR/examples/llm-server/server.py"
cat >"$TMP/chat.yaml" <<YAML
name: chat
resources:
  accelerators: H100:8
run: exec python3 -B $SERVER --port \$PORT --decode-tps 200 --prefill-tps 100000
service:
  readiness_probe: {path: /v1/completions, post_data: {prompt: ready?, max_tokens: 2}}
  replicas: 2
YAML
run 0 "$STRATUS" serve up "$TMP/chat.yaml"
KEY=$(tail -n 1 <<<"$OUT")
two_ready() {
  n=$("$STRATUS" serve status chat --json 2>/dev/null | python3 -c "import json,sys; j=json.load(sys.stdin); print(len([r for r in j['replicas'] if r['state'] == 'READY']))" 2>/dev/null)
  [ "$n" = 2 ]
}
poll 300 two_ready
[ "$n" = 2 ] || fail "2 ready replicas: $("$STRATUS" serve status chat)"
STRATUS_TOKEN=$TOKEN "$STRATUS" router --api "http://127.0.0.1:${PORTS[A]},http://127.0.0.1:${PORTS[B]}" \
  --service chat --listen 127.0.0.1:0 2>"$TMP/router.log" &
wait_for grep -q "listening on" "$TMP/router.log"
R=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$TMP/router.log" | head -n 1)
wait_for sh -c "curl -sf '$R/-/replicas' | grep -o '\"READY\"' | wc -l | grep -qx 2"
python3 "$(dirname "$0")/load_client.py" "$TMP" "$KEY" "$R" 0.05 &
LOAD=$!
wait_for sh -c "[ \"\$(python3 -c \"import json; print(json.load(open('$TMP/load.json'))['ok'])\" 2>/dev/null || echo 0)\" -ge 20 ]"
ok "service chat: 2 replicas READY; a router at $R follows both servers; requests flow"

# --- 200 jobs, each ending only after its share of the kills ---
LEDGER="$TMP/launches"; : >"$LEDGER"
KILLS="$TMP/kills"; echo 0 >"$KILLS"
mkdir -p "$TMP/specs"
for i in $(seq 1 "$JOBS"); do
  need=$(( (i * KILLS_WANTED + JOBS - 1) / JOBS ))
  cat >"$TMP/specs/j$i.yaml" <<YAML
name: j$i
resources:
  accelerators: {H100: 8, A100-80GB: 8, A10: 4}
num_nodes: $(( (i % 3 == 0) ? 2 : 1 ))
run: |
  echo "\$STRATUS_ATTEMPT_ID \$STRATUS_NODE_RANK" | tee -a $LEDGER
  while read -r k <$KILLS; [ "\$k" -lt $need ]; do read -t 0.5 _ <>$TMP/.tick || :; done
stratus:
  recovery: {max_restarts: 50}
YAML
done
# submitted four at a time (each a CLI start and a forwarded write: on two
# loaded cores one at a time took over a minute)
submitters=()
for lane in 1 2 3 4; do
  (
    for i in $(seq "$lane" 4 "$JOBS"); do
      "$STRATUS" launch "$TMP/specs/j$i.yaml" --detach >/dev/null 2>"$TMP/err.$lane" ||
        { echo "submit j$i: $(cat "$TMP/err.$lane")" >>"$TMP/submit.err"; exit 1; }
    done
  ) &
  submitters+=($!)
done
wait "${submitters[@]}"
[ ! -s "$TMP/submit.err" ] || fail "$(cat "$TMP/submit.err")"
[ "$(pgsql "SELECT count(*) FROM jobs WHERE service_id = 0")" = "$JOBS" ] || fail "not all jobs submitted"
ok "$JOBS jobs submitted through the follower"
wait_for sh -c "[ -s '$LEDGER' ]"
first_job=$(pgsql "SELECT min(id) FROM jobs WHERE service_id = 0")
wait_for sh -c '"$STRATUS" logs '"$first_job"' | grep -q "^[0-9]* 0$"'
ok "a running job's log read through the follower (forwarded to the leader's drivers)"

# --- SIGKILL the leader again and again; it comes back as a follower ---
BOUND=$((LEASE * 5 / 4 + 30)) # lease + lease/4, and a loaded machine's slack
takeovers=""
for k in $(seq 1 "$KILLS_WANTED"); do
  L=$(leader_now); F=$(other "$L")
  wait_for sh -c "[ -s '$LEDGER' ]"
  t0=$(date +%s.%N)
  kill -9 "${PIDS[$L]}"
  wait "${PIDS[$L]}" 2>/dev/null
  for i in $(seq 1 $((BOUND * 10))); do [ "$(role "$F")" = leader ] && break; nap 0.1; done
  [ "$(role "$F")" = leader ] || fail "kill $k: $F did not take over within $BOUND s: $(health "$F" j)"
  first=""
  for i in $(seq 1 300); do
    first=$(health "$F" "j['leadership']['first_step_at'] or ''"); [ -n "$first" ] && break; nap 0.1
  done
  [ -n "$first" ] || fail "kill $k: the new leader $F has not stepped: $(health "$F" j)"
  takeovers="$takeovers $(python3 -c "print(round($first - $t0, 2))")"
  fepoch=$(health "$F" "j['leadership']['epoch']")
  echo "$k" >"$KILLS.tmp" && mv "$KILLS.tmp" "$KILLS"
  start "$L"
  # The restarted server follows; it may lead only by taking the lease anew,
  # past the epoch F took over with (F renewed too late on a loaded machine),
  # never by resuming what it held before it was killed.
  read -r lrole lepoch <<<"$(health "$L" "'%s %s' % (j['role'], j['leadership']['epoch'])")"
  [ "$lrole" = follower ] || { [ "$lrole" = leader ] && [ "$lepoch" -gt "$fepoch" ]; } ||
    fail "the restarted $L is not a follower (F took over at epoch $fepoch): $(health "$L" j)"
done
for t in $takeovers; do
  python3 -c "import sys; sys.exit(0 if $t <= $BOUND else 1)" || fail "a takeover took $t s (bound $BOUND s)"
done
ok "$KILLS_WANTED leaders killed with SIGKILL; takeover to first step (s):$takeovers"

# --- SIGSTOP the leader past its lease, then SIGCONT: it steps down, commits nothing ---
# Paused while it holds the lease (the lease's row says so once it is
# paused; on a loaded machine it may have just lost it: then again).
for try in 1 2 3 4 5; do
  L=$(leader_now); F=$(other "$L")
  me=$(health "$L" "j['leadership']['holder']")
  logged=$(stat -c %s "$TMP/$L.log")
  kill -STOP "${PIDS[$L]}"
  read -r holder epoch <<<"$(pgsql "SELECT holder || ' ' || epoch FROM leader_lease")"
  [ "$holder" = "$me" ] && break
  kill -CONT "${PIDS[$L]}"
done
[ "$holder" = "$me" ] || fail "5 times the leader had lost the lease before it was paused"
for i in $(seq 1 $((BOUND * 10))); do [ "$(role "$F")" = leader ] && break; nap 0.1; done
[ "$(role "$F")" = leader ] || fail "$F did not take over from the paused $L: $(health "$F" j)"
new_epoch=$(health "$F" "j['leadership']['epoch']")
[ "$new_epoch" -gt "$epoch" ] || fail "the new leader's epoch $new_epoch is not past $epoch"
kill -CONT "${PIDS[$L]}"
for i in $(seq 1 600); do [ "$(role "$L")" = follower ] && break; nap 0.1; done
[ "$(role "$L")" = follower ] || fail "the resumed $L is not a follower: $(health "$L" j)"
# what it logged since the pause: it stepped down from the epoch it held
tail -c +$((logged + 1)) "$TMP/$L.log" | grep -q "no longer the leader (epoch $epoch)" ||
  fail "the resumed $L did not say it stepped down from epoch $epoch: $(tail -c +$((logged + 1)) "$TMP/$L.log" | tail -n 20)"
[ "$(leader_now)" = "$F" ] || fail "the leader changed after the resume"
ok "a leader paused past its lease (epoch $epoch) stepped down on resuming; $F leads at epoch $new_epoch"
echo $((KILLS_WANTED + 1)) >"$KILLS.tmp" && mv "$KILLS.tmp" "$KILLS"

# --- PostgreSQL restarted under load: both say so; then one leads again ---
"$PGLOCAL" stop "$PGDIR" >/dev/null || fail "stopping PostgreSQL"
for h in A B; do
  for i in $(seq 1 600); do [ "$(health $h "j['ok']")" = False ] && break; nap 0.1; done
  [ "$(health $h "j['ok']")" = False ] || fail "server $h does not say the store is gone: $(health $h j)"
done
err=$(health B "j['leadership']['store_error']")
has "$err" "PostgreSQL"
"$PGLOCAL" start "$PGDIR" --no-fsync >/dev/null 2>"$TMP/pg.err" || fail "restarting PostgreSQL: $(cat "$TMP/pg.err")"
leader_now >/dev/null
ok "PostgreSQL stopped under load: both servers said so (\"${err:0:80}...\"); restarted, one leads again"
echo $((KILLS_WANTED + 2)) >"$KILLS.tmp" && mv "$KILLS.tmp" "$KILLS"

# --- every job ends, exactly once; no node started twice; no request lost ---
deadline=$((SECONDS + 400))
while [ "$(pgsql "SELECT count(*) FROM jobs WHERE service_id = 0 AND state NOT IN (4,5,6)")" != 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "jobs still active: $(pgsql "SELECT id, state, reason FROM jobs WHERE service_id = 0 AND state NOT IN (4,5,6) LIMIT 5")"
  nap 0.5
done
[ "$(pgsql "SELECT count(*) FROM jobs WHERE service_id = 0 AND state = 4")" = "$JOBS" ] ||
  fail "not every job SUCCEEDED: $(pgsql "SELECT state, count(*) FROM jobs WHERE service_id = 0 GROUP BY state")"
dup=$(pgsql "SELECT job_id, count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.service_id = 0 AND e.to_state = 4 GROUP BY job_id HAVING count(*) <> 1")
[ -z "$dup" ] || fail "jobs that ended more than once: $dup"
twice=$(sort "$LEDGER" | uniq -d | head -n 5)
[ -z "$twice" ] || fail "(attempt, node) started twice: $twice"
touch "$TMP/stop"; wait "$LOAD" # its last count is written as it ends
[ "$(count "j['fail']")" = 0 ] || fail "requests failed through the router: $(cat "$TMP/load.json")"
ok "all $JOBS jobs SUCCEEDED exactly once; $(wc -l <"$LEDGER") node starts, none twice; router: $(count "j['ok']") answered, 0 failed"
echo "$checks passed, 0 failed"
