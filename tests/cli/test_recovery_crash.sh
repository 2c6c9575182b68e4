#!/usr/bin/env bash
# Black-box tests of the controller dying at awkward moments, with real node
# processes: killed while a preempted job waits to recover (the recovery must
# come from the store: checkpoint carried, preempted region avoided), two
# cancels of one job filed while no controller runs (consumed, no crash
# loop), and a job whose stored spec no longer parses (failed, its nodes
# stopped, never left PENDING or RUNNING).  The same defects are covered in
# virtual time by tests/unit/test_sched.c and test_crashpoints.c; this is
# what only real processes show.
. "$(dirname "$0")/lib.sh"
use_home
TRAINER="$SOURCE_DIR/examples/trainer.sh"

ctl_pid() { cat "$STRATUS_HOME/controller.pid" 2>/dev/null; }
# sql_exec STATEMENT: change the store behind the controller's back (committed).
sql_exec() {
  python3 - "$STRATUS_HOME/stratus.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute(sys.argv[2])
db.commit()
PY
}
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# --- a controller killed while a preempted job waits to recover ---
# The first restart waits STRATUS_BACKOFF seconds: the window in which the
# job is RECOVERING with nothing in memory but what the store holds.
export STRATUS_BACKOFF=8
cat >"$TMP/spot.yaml" <<YAML
name: spot-train
resources:
  accelerators: H100:8
  use_spot: true
run: |
  $TRAINER --steps 600 --ckpt-every 10 --step-time 0.03
stratus:
  checkpoint: {interval: 1s, restore: 1s}
  recovery: {strategy: eager-next-region, max_restarts: 3}
YAML
id=$(launch_detached "$TMP/spot.yaml")
wait_state "$id" RUNNING
wait_for bash -c "'$STRATUS' logs $id | grep -q 'step [3-9]0/600 (checkpoint)'"
run 0 "$STRATUS" local preempt --job "$id"
wait_state "$id" RECOVERING 60
pid=$(ctl_pid)
alive "$pid" || fail "no controller while job $id recovers"
kill -9 "$pid"
run 0 "$STRATUS" controller start
wait_state "$id" SUCCEEDED 120
where=$(sql "select n || ' ' || cloud || '/' || region from attempts where job_id=$id order by n")
first=$(sed -n 's/^1 //p' <<<"$where"); second=$(sed -n 's/^2 //p' <<<"$where")
[ "$first" = gcp/us-central1 ] || fail "attempt 1 expected on the cheapest spot region: $where"
[ -n "$second" ] && [ "$second" != "$first" ] ||
  fail "eager-next-region after a controller crash: attempt 2 must avoid $first: $where"
run 0 "$STRATUS" events "$id"
has "$OUT" "carried"
run 0 "$STRATUS" logs "$id"
resumed=$(grep -o 'attempt 2): steps [0-9]*' <<<"$OUT" | grep -o '[0-9]*$')
[ -n "$resumed" ] && [ "$resumed" -ge 30 ] ||
  fail "attempt 2 must resume from the checkpoint (>= step 30), started at '${resumed}': $OUT"
ok "controller killed during recovery: resumed from step $resumed on $second, not $first"
export STRATUS_BACKOFF=0.2

# --- two cancels of one job, filed while no controller runs ---
cat >"$TMP/long.yaml" <<YAML
name: long
resources:
  accelerators: H100:8
  use_spot: false
run: sleep 300.$$
YAML
id=$(launch_detached "$TMP/long.yaml")
wait_state "$id" RUNNING
run 0 "$STRATUS" controller stop
sql_exec "insert into requests(at, kind, arg) values (0, 'cancel', '$id')"
sql_exec "insert into requests(at, kind, arg) values (0, 'cancel', '$id')"
run 0 "$STRATUS" controller start
wait_state "$id" CANCELLED 60
# ten more at once, of the ended job: each answered, none crashes anything
for i in $(seq 1 10); do "$STRATUS" cancel "$id" >/dev/null 2>&1 & done
wait
no_pending() { [ "$(sql "select count(*) from requests where done=0")" = 0 ]; }
wait_for no_pending
pid=$(ctl_pid)
alive "$pid" || fail "the controller died on repeated cancels"
cat >"$TMP/after.yaml" <<'YAML'
name: after
resources:
  accelerators: H100:8
  use_spot: false
run: echo after
YAML
id2=$(launch_detached "$TMP/after.yaml")
wait_state "$id2" SUCCEEDED 60
[ "$(ctl_pid)" = "$pid" ] || fail "the controller restarted ($pid -> $(ctl_pid)): it crashed"
pgrep -f "sleep 300.$$" >/dev/null && fail "the cancelled job's process still runs"
ok "two cancels of one job (and ten more of the ended job) are consumed; the controller lives on"

# --- a running job whose stored spec no longer parses ---
cat >"$TMP/victim.yaml" <<YAML
name: victim
resources:
  accelerators: H100:8
  use_spot: false
run: sleep 301.$$
YAML
id=$(launch_detached "$TMP/victim.yaml")
wait_state "$id" RUNNING
run 0 "$STRATUS" controller stop
sql_exec "update job_texts set spec_text='resources: [unclosed' where job_id=$id"
run 0 "$STRATUS" controller start
wait_state "$id" FAILED 60
run 0 "$STRATUS" events "$id"
has "$OUT" "cannot load the job"
wait_for bash -c "! pgrep -f '[s]leep 301.$$' >/dev/null"
[ "$(job_field "$id" 'j["cost"] > 0')" = True ] || fail "the attempt that ran must be billed"
ok "a job whose stored spec no longer parses fails with the reason; its nodes are stopped and billed"

# --- the disk under $STRATUS_HOME fills up while a job ends, then frees ---
# (root only: a small tmpfs; tests/unit/test_diskfull.c covers the same in
# virtual time, step by step.)
if [ "$(id -u)" = 0 ] && mkdir -p "$TMP/small" &&
   mount -t tmpfs -o size=8m,mode=0700 tmpfs "$TMP/small" 2>/dev/null; then
  trap 'stop_home; umount -l "$TMP/small" 2>/dev/null; rm -rf "$TMP"' EXIT
  "$STRATUS" controller stop >/dev/null
  export STRATUS_HOME="$TMP/small/home"
  mkdir -m 0700 "$STRATUS_HOME"
  cat >"$TMP/gated.yaml" <<YAML
name: gated
resources:
  accelerators: H100:8
  use_spot: false
run: while [ ! -f $TMP/gate ]; do read -t 0.1 _ <>$TMP/.tick || :; done
YAML
  id=$(launch_detached "$TMP/gated.yaml")
  wait_state "$id" RUNNING
  pid=$(ctl_pid)
  dd if=/dev/zero of="$TMP/small/filler" bs=64k 2>/dev/null
  touch "$TMP/gate"
  wait_for test -s "$(state_dir)/local/att-1/node-0/exit"
  [ "$(job_field "$id" 'j["state"]')" = RUNNING ] || true # what the full store still says
  rm -f "$TMP/small/filler"
  wait_state "$id" SUCCEEDED 60
  [ "$(sql "select count(*) from attempts where job_id=$id")" = 1 ] || fail "the finished job ran again"
  [ "$(sql "select count(*) from events where job_id=$id and to_state in (4,5,6)")" = 1 ] ||
    fail "the job must end exactly once"
  alive "$pid" || fail "the controller died of the full disk"
  ok "a full disk while a job ends: recorded once there is room, never re-run, controller alive"
else
  echo "# skipped the full-disk case (needs root to mount a tmpfs)"
fi
