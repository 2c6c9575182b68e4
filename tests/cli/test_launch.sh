#!/usr/bin/env bash
# Black-box tests of `stratus launch` and the controller on the local clouds:
# success, stockout failover, a cloud API error, preemption recovery from a
# checkpoint, cancel, bad input, a refused launch, cost.  Real controller,
# real node processes, an isolated $STRATUS_HOME.
. "$(dirname "$0")/lib.sh"
use_home
TRAINER="$SOURCE_DIR/examples/trainer.sh"

job() { # job NAME RUN [EXTRA-YAML]: write a 1-node H100:8 spec to $TMP/NAME.yaml
  cat >"$TMP/$1.yaml" <<YAML
name: $1
resources:
  accelerators: H100:8
run: |
  $2
${3:-}
YAML
}

# --- success: placed on the cheapest on-demand offer, runs, is billed ---
cat >"$TMP/hello.yaml" <<'YAML'
name: hello
resources:
  accelerators: H100:8
  use_spot: false
run: echo "hello from $STRATUS_CLOUD/$STRATUS_REGION rank $STRATUS_NODE_RANK of $SKYPILOT_NUM_NODES"; sleep 0.3
YAML
run 0 "$STRATUS" launch "$TMP/hello.yaml"
has "$OUT" "best oci/us-ashburn-1"; has "$OUT" "-> RUNNING"; has "$OUT" "-> SUCCEEDED"
has "$OUT" "total \$"
id=$(sed -n 's/^job \([0-9]*\) submitted$/\1/p' <<<"$OUT")
[ "$(job_field "$id" 'j["state"]')" = SUCCEEDED ] || fail "hello not SUCCEEDED"
run 0 "$STRATUS" logs "$id"
has "$OUT" "hello from oci/us-ashburn-1 rank 0 of 1"
run 1 "$STRATUS" logs "$id" --node 5
has "$ERR" "job $id runs on 1 node: no node 5 (--node 0)"
[ "$(job_field "$id" 'j["cost"] > 0')" = True ] || fail "a job that ran must cost something"
ok "launch: a job is placed on the cheapest offer, runs, logs and is billed"

# --- stockout: the cheapest location refuses; the job fails over ---
run 0 "$STRATUS" local stockout --location oci/us-ashburn-1 --for 10m
id=$(launch_detached "$TMP/hello.yaml")
wait_state "$id" SUCCEEDED
ran=$(sql "select cloud || '/' || region from attempts where job_id=$id and end_reason=1")
[ "$ran" = gcp/us-central1 ] || fail "expected to run on gcp/us-central1 after the stockout: $ran; $(sql "select * from attempts where job_id=$id")"
ok "stockout: the job fails over to the next location in the plan"

# --- a cloud API error: the region is blocked, the job moves on, a restart counted ---
run 0 "$STRATUS" local api-error --location gcp/us-central1 --for 10m
id=$(launch_detached "$TMP/hello.yaml")
wait_state "$id" SUCCEEDED
first=$(sql "select cloud || '/' || region || ' ' || end_reason from attempts where job_id=$id and n=1")
[ "$first" = "gcp/us-central1 7" ] || fail "attempt 1 must fail on gcp/us-central1: $first"
ran=$(sql "select cloud || '/' || region from attempts where job_id=$id and end_reason=1")
case "$ran" in oci/us-ashburn-1|gcp/us-central1|"") fail "ran at $ran, inside a stockout or the failed region";; esac
[ "$(job_field "$id" 'j["restarts"]')" = 1 ] || fail "a failed launch counts as a restart"
run 0 "$STRATUS" events "$id"
has "$OUT" "launch failed on gcp/us-central1/us-central1-"
has "$OUT" ": cloud API error at gcp/us-central1 (injected, "
run 0 "$STRATUS" local api-error --location gcp/us-central1 --for 0
ok "api error: the region is blocked and the job runs elsewhere ($ran), one restart"

# --- preemption: recovery from the checkpoint, no work redone beyond it ---
cat >"$TMP/train.yaml" <<YAML
name: train
resources:
  accelerators: H100:8
num_nodes: 2
run: |
  $TRAINER --steps 150 --ckpt-every 10 --step-time 0.04
stratus:
  checkpoint: {interval: 1s, restore: 1s}
  recovery: {max_restarts: 3}
YAML
id=$(launch_detached "$TMP/train.yaml")
ckpt="$(state_dir)/checkpoints/job-$id/att-1"
wait_for test -f "$ckpt/step"
wait_for bash -c "[ \$(cat '$ckpt/step') -ge 30 ]"
run 0 "$STRATUS" local preempt --job "$id"
wait_state "$id" SUCCEEDED 60
final="$(state_dir)/checkpoints/job-$id/att-2"
[ "$(cat "$final/step")" = 150 ] || fail "the trainer must finish at step 150: $(cat "$final/step")"
computed=$(wc -l <"$final/ledger"); redone=$((computed - 150))
[ "$redone" -ge 0 ] && [ "$redone" -le 10 ] || fail "redone $redone steps; at most one checkpoint interval (10) may be lost"
run 0 "$STRATUS" events "$id"
has "$OUT" "RUNNING -> RECOVERING: preempted on"; has "$OUT" "checkpoint: carried"
[ "$(job_field "$id" 'j["attempts"]')" = 2 ] || fail "two attempts expected"
[ "$(job_field "$id" 'j["restarts"]')" = 1 ] || fail "one restart expected"
run 0 "$STRATUS" logs "$id"
has "$OUT" "resumed from"
ok "preemption: recovered on a new attempt from the checkpoint ($redone steps redone)"

# --- cancel: the job stops and its processes are gone ---
job sleeper "echo started; sleep 300"
id=$(launch_detached "$TMP/sleeper.yaml")
wait_state "$id" RUNNING
pidfile=$(find "$(state_dir)/local" -path "*node-0/pid" -newer "$TMP/sleeper.yaml" | head -1)
pid=$(cat "$pidfile")
kill -0 "$pid" || fail "the node process must run"
run 0 "$STRATUS" cancel "$id"
wait_state "$id" CANCELLED
wait_for bash -c "! kill -0 $pid 2>/dev/null"
run 0 "$STRATUS" cancel "$id"
has "$OUT" "already ended: CANCELLED"
ok "cancel: the job is CANCELLED and its node processes are gone"

# (The deadline rule's timing - spot while the slack allows, on demand once a
# preemption would eat it, back to spot ahead of the line - is tested in
# virtual time, to the second, by tests/unit/test_deadline.c.)

# --- bad input ---
run 2 "$STRATUS" launch "$TMP/missing.yaml" "$TMP/other.yaml"
has "$ERR" "stratus launch: one workload file at a time, not 2"
run 2 "$STRATUS" launch
has "$ERR" "stratus launch: which workload? give its YAML file"
run 2 "$STRATUS" launch "$TMP/missing.yaml"
has "$ERR" "missing.yaml: cannot open"
printf 'resources:\n  accelerators: H100:8\nnum_nodes: two\n' >"$TMP/bad.yaml"
run 2 "$STRATUS" launch "$TMP/bad.yaml"
has "$ERR" "bad.yaml:3:12:"
# a deadline given as a date that has passed, or leaves less than the run time
n=$(sql "select count(*) from jobs")
printf 'name: late\nresources:\n  accelerators: H100:8\nrun: "true"\nstratus:\n  duration: 10h\n  deadline: 2020-01-01T00:00:00Z\n' >"$TMP/late.yaml"
run 2 "$STRATUS" launch "$TMP/late.yaml" --detach
has "$ERR" "late.yaml:7:13: stratus.deadline (2020-01-01T00:00:00Z) has passed ("
soon=$(date -u -d '+5 hours' +%Y-%m-%dT%H:%M:%SZ)
sed -i "s/2020-01-01T00:00:00Z/$soon/" "$TMP/late.yaml"
run 2 "$STRATUS" launch "$TMP/late.yaml" --detach
has "$ERR" "late.yaml:7:13: stratus.deadline ($soon) is "
has "$ERR" "shorter than stratus.duration (10h00m): the job cannot finish in time"
[ "$(sql "select count(*) from jobs")" = "$n" ] || fail "a job that cannot meet its deadline date must not be submitted"
# with alternatives, the fastest one's run counts: A100-80GB:8 first for 10 h,
# H100:8 does it in 5 h; a deadline of 4h is refused, naming it (the
# server's catalog given a throughput table, read when it starts again)
printf 'accelerator,train,infer,cores_per_chip,source,note\nH100,2,2,,test,\nA100-80GB,1,1,,test,\n' >"$STRATUS_CATALOG/throughput.csv"
"$STRATUS" controller stop >/dev/null 2>&1 || true
printf 'name: alts\nresources:\n  accelerators: {A100-80GB: 8, H100: 8}\nrun: "true"\nstratus:\n  duration: 10h\n  deadline: 4h\n' >"$TMP/alts-dl.yaml"
run 2 "$STRATUS" launch "$TMP/alts-dl.yaml" --detach
has "$ERR" "alts-dl.yaml:7:13: stratus.deadline (4h00m) is shorter than the run on its fastest alternative, H100:8 (5h00m"
[ "$(sql "select count(*) from jobs")" = "$n" ] || fail "a job no alternative can finish in time must not be submitted"
sed -i 's/deadline: 4h/deadline: 8h/' "$TMP/alts-dl.yaml"
run 0 "$STRATUS" launch "$TMP/alts-dl.yaml" --detach
aid=$(sed -n 's/^job \([0-9]*\) submitted.*/\1/p' <<<"$OUT" | head -n 1)
[ -n "$aid" ] || fail "a deadline the H100s can meet is accepted: $OUT $ERR"
# its preview passes over the A100s (cheaper, late), as the controller does
hasnt "$OUT" "a2-ultragpu-8g"
has "$OUT" "would finish past the deadline: not taken"
run 0 "$STRATUS" cancel "$aid"
n=$(sql "select count(*) from jobs")
# ... where the server's policy lets it run: a rule whose price cap keeps it
# off every H100 node leaves only the A100s' 10 h, and names itself
printf 'version: 1\nrules:\n  - name: cheap-nodes\n    match: {}\n    spot: forbid\n    max_hourly_cost: 60\n' >"$TMP/cap-policy.yaml"
run 0 "$STRATUS" policy set "$TMP/cap-policy.yaml"
run 2 "$STRATUS" launch "$TMP/alts-dl.yaml" --detach
has "$ERR" "alts-dl.yaml:7:13: stratus.deadline (8h00m) is shorter than the run on its fastest alternative the policy allows, A100-80GB:8 (10h00m); policy rule 'cheap-nodes' keeps it off H100:8 (5h00m)"
[ "$(sql "select count(*) from jobs")" = "$n" ] || fail "a job the policy keeps off its only fast alternative must not be submitted"
run 0 "$STRATUS" policy clear
run 1 "$STRATUS" status 999
has "$ERR" "no job 999"
run 2 "$STRATUS" status abc
has "$ERR" "'abc' is not a job id"
run 1 "$STRATUS" logs 999
run 1 "$STRATUS" events 999
run 1 "$STRATUS" cancel 999
run 2 "$STRATUS" local preempt
run 2 "$STRATUS" cost --by planet
ok "bad input: missing file, invalid spec, unknown job: clear errors and exit codes"

# --- a launch the driver refuses as a bad request fails the job (not stuck
# PROVISIONING, not a node that cannot exec): a variable over the 128 KiB a
# process may get ---
python3 - "$TMP/bigenv.yaml" <<'PY'
import sys
open(sys.argv[1], "w").write("name: bigenv\nresources:\n  accelerators: H100:8\n  use_spot: false\n"
                             "envs:\n  BIG: " + "x" * 200000 + "\nrun: echo never\n")
PY
id=$(launch_detached "$TMP/bigenv.yaml")
wait_state "$id" FAILED 30
run 0 "$STRATUS" status "$id"
has "$OUT" "FAILED (launch refused on "
has "$OUT" "envs.BIG is 200005 bytes; a process gets at most 131072 per variable"
[ "$(sql "select end_reason || ' ' || state from attempts where job_id = $id")" = "7 2" ] ||
  fail "the attempt must end FAILED: $(sql "select * from attempts where job_id = $id")"
ok "launch refused: a bad request fails the job with the driver's reason"

# --- cost: every attempt is in the ledger ---
run 0 "$STRATUS" cost --by job
has "$OUT" "train"; has "$OUT" "hello"; has "$OUT" "total"
total=$(sql "select round(sum(cost), 6) from attempts")
jobs=$(sql "select round(sum(cost), 6) from jobs")
[ "$total" = "$jobs" ] || fail "attempt costs ($total) must add up to job costs ($jobs)"
ok "cost: attempts add up to jobs; report by job"
echo "$checks checks passed"
