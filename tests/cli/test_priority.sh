#!/usr/bin/env bash
# Priorities on the local clouds, with room for one node only: when capacity
# frees, the higher-priority waiting job starts first; and a higher-priority
# job displaces a lower-priority spot job, which recovers afterwards.
. "$(dirname "$0")/lib.sh"
use_home
printf 'capacity:\n  default: 0\n  "gcp/us-central1/us-central1-a/a3-highgpu-8g": 1\n' >"$STRATUS_HOME/local.yaml"

spec() { # spec NAME PRIORITY USE_SPOT RUN
  cat >"$TMP/$1.yaml" <<YAML
name: $1
resources:
  accelerators: H100:8
$( [ "$3" = any ] || echo "  use_spot: $3" )
run: $4
stratus:
  priority: $2
YAML
}
started() { sql "select started_at from jobs where name = '$1'"; }

# --- order: the blocker holds the node; low and high wait; high goes first ---
# The blocker holds the node until both are waiting, however slow the machine.
spec blocker 0 false "while [ ! -f $TMP/gate ]; do read -t 0.1 _ <>$TMP/.tick || :; done"
spec low 1 false "sleep 0.5"
spec high 5 false "sleep 0.5"
b=$(launch_detached "$TMP/blocker.yaml"); wait_state "$b" RUNNING
l=$(launch_detached "$TMP/low.yaml"); h=$(launch_detached "$TMP/high.yaml")
waiting() { "$STRATUS" events "$1" | grep -q "waiting for capacity"; }
wait_for waiting "$l"; wait_for waiting "$h"
touch "$TMP/gate"
wait_state "$l" SUCCEEDED 60; wait_state "$h" SUCCEEDED 60
python3 -c "import sys; sys.exit(not float('$(started high)') < float('$(started low)'))" ||
  fail "high priority must start before low: high $(started high), low $(started low)"
run 0 "$STRATUS" events "$l"
has "$OUT" "waiting for capacity"
ok "priority: when room frees, the higher-priority job is placed first"

# --- displacement: a priority-9 job stops a priority-0 spot job ---
spec lowspot 0 any "while [ ! -f $TMP/gate2 ]; do read -t 0.1 _ <>$TMP/.tick || :; done"
spec urgent 9 false "sleep 0.5"
s=$(launch_detached "$TMP/lowspot.yaml"); wait_state "$s" RUNNING
[ "$(sql "select mode from attempts where job_id = $s and n = 1")" = 1 ] || fail "lowspot must run on spot"
u=$(launch_detached "$TMP/urgent.yaml")
wait_state "$u" SUCCEEDED 60
touch "$TMP/gate2"
wait_state "$s" SUCCEEDED 60
run 0 "$STRATUS" events "$s"
has "$OUT" "displaced by higher-priority job $u (urgent, priority 9)"
[ "$(job_field "$s" 'j["attempts"]')" = 2 ] || fail "the displaced job resumes on a second attempt; $("$STRATUS" events "$s"); urgent: $("$STRATUS" events "$u")"
[ "$(sql "select end_reason from attempts where job_id = $s and n = 1")" = 5 ] || fail "attempt 1 ended DISPLACED"
ok "priority: a higher-priority job displaces a lower-priority spot job, which recovers"
echo "$checks checks passed"
