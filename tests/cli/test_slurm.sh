#!/usr/bin/env bash
# Black-box tests of the slurm driver against two real Slurm 22.05 clusters
# on this machine (scripts/slurm-up.sh: azure-eastus and oci-ashburn, 4
# nodes x 8 fake GPUs each, slurmrestd with JWT), with the real `stratus`
# binary and controller:
#   - a 2-node job goes where price says (oci), a training job where the
#     policy says (azure); both run, log and are billed
#   - a full cluster makes the next job go to the other one; with both
#     full, a job waits in a cluster's own queue (PENDING there) and
#     cancel takes it out
#   - cancel: the Slurm job is cancelled and its processes are gone
#   - a node taken down mid-job (plus its processes killed) makes the job
#     resume on the other cluster from its checkpoint
#   - a job pending too long on a cluster is moved to the other
#   - the controller killed (kill -9) and restarted, again and again, while
#     jobs are submitted and run: it reattaches, nothing is submitted twice
#   - a hostile job name, environment and run text inject nothing
#   - a service replica placed on a Slurm cluster answers its probe on the
#     node's address, takes traffic through a router, and serve down ends
#     its Slurm job
# Needs root (it starts slurmd); skips when not root or when apt cannot
# install Slurm.  The clusters are started here and stopped at exit; a lock
# keeps two runs on one machine from overlapping.
. "$(dirname "$0")/lib.sh"

skip() { echo "skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "the Slurm tests need root (they start slurmd and munged)"

# One run at a time per machine (two builds' ctest may run side by side).
# The lock is held by a watcher that lives as long as this script, not by
# the script's own descriptor: daemons started below would inherit that and
# keep the lock after a run killed with SIGKILL (a ctest timeout).
exec 9>/tmp/stratus-slurm-test.lock
flock -w 240 9 || fail "another Slurm test held the lock for 4 minutes"
(while kill -0 $$ 2>/dev/null; do sleep 0.5; done) >/dev/null 2>&1 &
exec 9>&-
# A run killed before its trap (a ctest timeout sends SIGKILL) left its
# clusters up: holding the lock, every other run's directory is such a one.
for d in /tmp/stratus-slurm-test.[0-9]*; do
  [ -d "$d" ] && SLURM_DIR=$d "$SOURCE_DIR/scripts/slurm-down.sh" --purge >/dev/null 2>&1
done
export SLURM_DIR=/tmp/stratus-slurm-test.$$ SLURM_PORT_BASE=${SLURM_TEST_PORT_BASE:-17800}
export SLURM_PENDING_TIMEOUT=4s SLURM_POLL_INTERVAL=0.3s
slurm_down() { "$SOURCE_DIR/scripts/slurm-down.sh" --purge >/dev/null 2>&1; }
use_home
ROUTER_PID=
trap '[ -n "$ROUTER_PID" ] && kill "$ROUTER_PID" 2>/dev/null; stop_home; slurm_down; rm -rf "$TMP"' EXIT
"$SOURCE_DIR/scripts/slurm-up.sh" >"$TMP/up.log" 2>&1
case $? in
  0) ;;
  3) skip "apt cannot install Slurm: $(tail -1 "$TMP/up.log")" ;;
  *) fail "slurm-up.sh failed: $(cat "$TMP/up.log")" ;;
esac
# azure-eastus keeps a queued job for 2 minutes (the queue test below);
# oci-ashburn gives up after SLURM_PENDING_TIMEOUT (the pending test).
sed '/name: azure-eastus/a\    pending_timeout: 2m' "$SLURM_DIR/clusters.yaml" >"$STRATUS_HOME/clusters.yaml"
export STRATUS_DRIVER=slurm STRATUS_BLOCK_COOLDOWN=60
TRAINER="$SOURCE_DIR/examples/trainer.sh"
ok "two clusters up: $(grep -c 'up:' "$TMP/up.log") of 2"

# rest CLUSTER PATH: GET from the cluster's slurmrestd (JSON on stdout).
rest() {
  local i=0 tok
  [ "$1" = oci-ashburn ] && i=1
  tok=$(cat "$SLURM_DIR/$1/token")
  curl -sf -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $tok" \
    "http://127.0.0.1:$((SLURM_PORT_BASE + i * 20 + 1))/slurm/v0.0.38/$2"
}
# slurm_jobs CLUSTER: "job_id name state nodes" for every job there.
slurm_jobs() {
  rest "$1" jobs | python3 -c '
import json, sys
for j in json.load(sys.stdin)["jobs"]:
    print(j["job_id"], j["name"], j["job_state"], j["nodes"] or "-")'
}
# sctl CLUSTER ARGS...: scontrol on a cluster.
sctl() { local c=$1; shift; SLURM_CONF="$SLURM_DIR/$c/slurm.conf" scontrol "$@"; }
# where JOB [N]: cloud of attempt N (default: the last) of a job.
where() {
  if [ $# -ge 2 ]; then sql "select cloud from attempts where job_id=$1 and n=$2"
  else sql "select cloud from attempts where job_id=$1 order by n desc limit 1"; fi
}
# spec NAME NODES RUN [EXTRA-YAML]: write an H100:8 spec to $TMP/NAME.yaml.
spec() {
  cat >"$TMP/$1.yaml" <<YAML
name: $1
resources:
  accelerators: H100:8
num_nodes: $2
run: |
  $3
${4:-}
YAML
}
cat >"$TMP/policy.yaml" <<'YAML'
version: 1
rules:
  - name: training-on-azure
    description: training only on azure
    match: {kind: train}
    allow: [azure]
  - name: anything-else
    description: everything else anywhere, cheapest first
YAML

# --- price and policy: a batch job to oci (cheaper), training to azure ---
spec hello 2 'echo "hello from $STRATUS_CLOUD/$STRATUS_REGION rank $STRATUS_NODE_RANK of $SKYPILOT_NUM_NODES gpus=$CUDA_VISIBLE_DEVICES"; sleep 1'
run 0 "$STRATUS" launch "$TMP/hello.yaml"
has "$OUT" "on oci/us-ashburn-1/US-ASHBURN-AD-1: 2 x BM.GPU.H100.8"
has "$OUT" "-> RUNNING"; has "$OUT" "-> SUCCEEDED"
id=$(sed -n 's/^job \([0-9]*\) submitted$/\1/p' <<<"$OUT")
run 0 "$STRATUS" logs "$id"
has "$OUT" "hello from oci/us-ashburn-1 rank 0 of 2 gpus=0,1,2,3,4,5,6,7"
run 0 "$STRATUS" logs "$id" --node 1
has "$OUT" "hello from oci/us-ashburn-1 rank 1 of 2"
[ "$(job_field "$id" 'j["cost"] > 0')" = True ] || fail "a job that ran must cost something"
att=$(sql "select id from attempts where job_id=$id")
slurm_jobs oci-ashburn >"$TMP/jobs"
grep -qE "stratus-[0-9a-f]+-$att COMPLETED oc\[" "$TMP/jobs" ||
  fail "oci-ashburn must have run attempt $att as one 2-node job: $(cat "$TMP/jobs")"
spec train 2 'echo "training on $STRATUS_CLOUD"' 'stratus: {kind: train}'
run 0 "$STRATUS" launch "$TMP/train.yaml" --policy "$TMP/policy.yaml"
has "$OUT" "on azure/eastus: 2 x Standard_ND96isr_H100_v5"; has "$OUT" "-> SUCCEEDED"
ok "price sends a 2-node batch job to oci-ashburn, policy sends training to azure-eastus"

# --- a full cluster: the next job goes to the other one ---
# (a duration no other process on the machine sleeps: the cancel check below
# finds the job's processes by it)
spec big 4 "echo big; sleep 300.$$"
big=$(launch_detached "$TMP/big.yaml")
wait_state "$big" RUNNING 30
[ "$(where "$big")" = oci ] || fail "the 4-node job must fill oci: $(where "$big")"
spec next 2 'echo next on $STRATUS_CLOUD; sleep 0.5'
nxt=$(launch_detached "$TMP/next.yaml")
wait_state "$nxt" SUCCEEDED 30
[ "$(where "$nxt" 1)" = azure ] || fail "with oci full the job must go to azure at once: $(sql "select n, cloud from attempts where job_id=$nxt")"
ok "a full cluster (oci, 4 of 4 nodes busy) makes the next job go to azure-eastus"

# --- both full: a job waits in the cluster's own queue; cancel takes it out ---
pinned_az() { # pinned_az NAME NODES RUN: a job that may run on azure only
  printf 'name: %s\nresources:\n  cloud: azure\n  accelerators: H100:8\nnum_nodes: %s\nrun: "%s"\n' \
    "$1" "$2" "$3" >"$TMP/$1.yaml"
}
pinned_az fill 4 "sleep 301.$$"
fill=$(launch_detached "$TMP/fill.yaml")
wait_state "$fill" RUNNING 30
pinned_az queued 1 "echo never"
q=$(launch_detached "$TMP/queued.yaml")
wait_state "$q" PROVISIONING 30
qatt=$(sql "select id from attempts where job_id=$q")
# slurm_state CLUSTER ATTEMPT: the Slurm state of the attempt's job there
# (squeue asks slurmctld itself; -t all: ended jobs too, for MinJobAge).
slurm_state() {
  SLURM_CONF="$SLURM_DIR/$1/slurm.conf" squeue -h -t all -o '%j %T' |
    awk -v a="$2" '$1 ~ "^stratus-[0-9a-f]+-" a "$" {print $2}'
}
# until_slurm_state CLUSTER ATTEMPT STATE: wait (60 s at most) for it.
until_slurm_state() {
  local i
  for i in $(seq 1 600); do [ "$(slurm_state "$1" "$2")" = "$3" ] && return 0; nap 0.1; done
  fail "attempt $2 not $3 on $1 after 60 s: $(SLURM_CONF="$SLURM_DIR/$1/slurm.conf" squeue -h -t all -o '%i %j %T')"
}
until_slurm_state azure-eastus "$qatt" PENDING
[ "$(job_field "$q" 'j["state"]')" = PROVISIONING ] || fail "job $q queued in Slurm must be PROVISIONING"
run 0 "$STRATUS" cancel "$q"
wait_state "$q" CANCELLED
until_slurm_state azure-eastus "$qatt" CANCELLED
run 0 "$STRATUS" cancel "$fill"
wait_state "$fill" CANCELLED
ok "both clusters full: a job waits in azure-eastus's own queue (PENDING there, PROVISIONING here); cancel takes it out"

# --- cancel: the Slurm job ends CANCELLED and its processes are gone ---
batt=$(sql "select id from attempts where job_id=$big")
pids=$(pgrep -f "sleep 300\\.$$" | tr '\n' ' ')
[ -n "$pids" ] || fail "the big job's processes must run"
run 0 "$STRATUS" cancel "$big"
wait_state "$big" CANCELLED
wait_for bash -c "curl -sf -H 'X-SLURM-USER-NAME: root' -H \"X-SLURM-USER-TOKEN: \$(cat $SLURM_DIR/oci-ashburn/token)\" http://127.0.0.1:$((SLURM_PORT_BASE + 21))/slurm/v0.0.38/jobs | grep -q CANCELLED"
slurm_jobs oci-ashburn | grep -qE "stratus-[0-9a-f]+-$batt CANCELLED" || fail "attempt $batt not CANCELLED in Slurm: $(slurm_jobs oci-ashburn)"
for p in $pids; do wait_for bash -c "! kill -0 $p 2>/dev/null"; done
ok "cancel: the Slurm job is CANCELLED and its processes are gone"

# --- a node lost mid-job: resume on the other cluster from the checkpoint ---
spec ckpt 2 "$TRAINER --steps 400 --ckpt-every 10 --step-time 0.04" \
  'stratus: {checkpoint: {interval: 1s, restore: 1s}, recovery: {strategy: eager-next-region, max_restarts: 3}}'
id=$(launch_detached "$TMP/ckpt.yaml")
ckpt="$(state_dir)/checkpoints/job-$id/att-1"
wait_for test -f "$ckpt/step"
wait_for bash -c "[ \$(cat '$ckpt/step') -ge 30 ]"
[ "$(where "$id" 1)" = oci ] || fail "the trainer must start on oci: $(where "$id" 1)"
sjob=$(sql "select id from attempts where job_id=$id and n=1")
node=$(slurm_jobs oci-ashburn | awk -v a="-$sjob" '$2 ~ a"$" {print $4}' | sed 's/oc\[\([0-9]\).*/oc\1/')
[ -n "$node" ] || fail "no Slurm job for attempt $sjob: $(slurm_jobs oci-ashburn)"
sctl oci-ashburn update nodename="$node" state=down reason=stratus-test
# A real loss takes the node's processes with it: the job's, and its step daemons.
for p in $(grep -lsx "SLURMD_NODENAME=$node" --null-data /proc/[0-9]*/environ | cut -d/ -f3); do
  kill -9 "$p" 2>/dev/null
done
wait_state "$id" SUCCEEDED 60
[ "$(where "$id")" = azure ] || fail "the job must resume on azure: $(sql "select n, cloud, end_reason from attempts where job_id=$id")"
final="$(state_dir)/checkpoints/job-$id/att-$(job_field "$id" 'j["attempts"]')"
[ "$(cat "$final/step")" = 400 ] || fail "the trainer must finish at step 400: $(cat "$final/step")"
computed=$(wc -l <"$final/ledger"); redone=$((computed - 400))
[ "$redone" -ge 0 ] && [ "$redone" -le 10 ] || fail "redone $redone steps; at most one checkpoint interval (10) may be lost"
run 0 "$STRATUS" events "$id"
has "$OUT" "RUNNING -> RECOVERING: preempted on oci/us-ashburn-1"; has "$OUT" "lost a node"
has "$OUT" "checkpoint: carried"
run 0 "$STRATUS" logs "$id"
has "$OUT" "resumed from"
sctl oci-ashburn update nodename="$node" state=resume
ok "node $node lost mid-job: resumed on azure-eastus from the checkpoint ($redone steps redone)"

# --- pending too long on a cluster: moved to the other one ---
wait_for bash -c "[ \$(SLURM_CONF=$SLURM_DIR/oci-ashburn/slurm.conf sinfo -h -t idle -o %D) = 4 ]"
sctl oci-ashburn update partitionname=gpu state=down
spec stuck 1 'echo ran on $STRATUS_CLOUD'
id=$(launch_detached "$TMP/stuck.yaml")
wait_state "$id" SUCCEEDED 40
sctl oci-ashburn update partitionname=gpu state=up
[ "$(where "$id" 1)" = oci ] && [ "$(where "$id")" = azure ] ||
  fail "pending on oci, then run on azure: $(sql "select n, cloud, end_reason from attempts where job_id=$id")"
run 0 "$STRATUS" events "$id"
has "$OUT" "no capacity in oci/us-ashburn-1"; has "$OUT" "pending"
ok "a job pending past pending_timeout on oci (partition down) is cancelled there and run on azure"

# --- the controller killed and restarted mid-run: nothing submitted twice ---
"$STRATUS" controller stop >/dev/null
# (Submitting needs the server: the first launch starts one again.)
ids=""
for i in 1 2 3 4 5 6; do
  spec "crash$i" $((i % 2 + 1)) "echo crash $i; sleep $((i % 3 + 1))"
  ids="$ids $(launch_detached "$TMP/crash$i.yaml")"
done
kills=0
for round in 1 2 3 4 5 6 7 8; do
  # Right after a kill the old server may still hold its lock (the kernel
  # has not closed its files yet): start must wait for it, then start one.
  "$STRATUS" controller start >/dev/null 2>"$TMP/start.err" ||
    fail "controller did not start (round $round): $(cat "$TMP/start.err"); log: $(tail -n 5 "$STRATUS_HOME/controller.log")"
  sleep "0.$((RANDOM % 6 + 2))"
  kill -9 "$(cat "$STRATUS_HOME/controller.pid")" 2>/dev/null && kills=$((kills + 1))
  [ "$round" = 4 ] && sleep 3 # jobs end while no controller runs
done
"$STRATUS" controller start >/dev/null || fail "controller did not start after the last kill"
for id in $ids; do wait_state "$id" SUCCEEDED 60; done
{ slurm_jobs azure-eastus; slurm_jobs oci-ashburn; } >"$TMP/jobs"
dups=$(awk '{print $2}' "$TMP/jobs" | sort | uniq -d)
[ -z "$dups" ] || fail "submitted twice: $dups"
for id in $ids; do
  for a in $(sql "select id from attempts where job_id=$id"); do
    [ "$(grep -cE "stratus-[0-9a-f]+-$a " "$TMP/jobs")" = 1 ] ||
      fail "attempt $a of job $id must be exactly one Slurm job: $(cat "$TMP/jobs")"
  done
  [ "$(sql "select count(*) from events where job_id=$id and to_state=4")" = 1 ] ||
    fail "job $id must succeed exactly once"
done
ok "controller killed $kills times mid-run: every job succeeded once, each attempt is one Slurm job"

# --- hostile name, environment and commands inject nothing ---
touch "$TMP/marker"
cat >"$TMP/evil.yaml" <<YAML
name: "x\"; \$(touch $TMP/pwned-name) \`touch $TMP/pwned-tick\` ' \\\\ %n %j {\"a\": 1}"
resources:
  accelerators: H100:8
envs:
  A: "\$(touch $TMP/pwned-env)"
  B: "'; touch $TMP/pwned-quote; echo '"
  C: "line1\nline2 \"}, \"script\": \"#!/bin/sh\\\\ntouch $TMP/pwned-json\""
  D: "%s %n %x \\\\ \` \$HOME"
run: |
  printf '<%s>\n' "\$A" "\$B" "\$C" "\$D"
  cat <<'STRATUS_NODE_PROGRAM'
  quote ' and terminator: still the job's text
  STRATUS_NODE_PROGRAM
  echo "done \$STRATUS_NODE_RANK"
YAML
run 0 "$STRATUS" launch "$TMP/evil.yaml"
has "$OUT" "-> SUCCEEDED"
id=$(sed -n 's/^job \([0-9]*\) submitted$/\1/p' <<<"$OUT")
ls "$TMP"/pwned* 2>/dev/null && fail "a hostile value was executed"
run 0 "$STRATUS" logs "$id"
has "$OUT" "<\$(touch $TMP/pwned-env)>"
has "$OUT" "<'; touch $TMP/pwned-quote; echo '>"
has "$OUT" "<line1"; has "$OUT" "line2 \"}, \"script\": \"#!/bin/sh\\ntouch $TMP/pwned-json\">"
has "$OUT" "<%s %n %x \\ \` \$HOME>"
has "$OUT" "quote ' and terminator: still the job's text"; has "$OUT" "done 0"
grep -rqs "$(cat "$SLURM_DIR/azure-eastus/token")" "$STRATUS_HOME" "$SLURM_DIR"/*/log 2>/dev/null &&
  fail "a token was written to a log"
ok "a hostile name, environment and run text are passed as data, not run; no token in any log"

# --- a run text over the driver's 64 KiB is a bad request: the job fails at
# once with the driver's reason, and no Slurm job is submitted ---
python3 - "$TMP/huge.yaml" <<'PY'
import sys
open(sys.argv[1], "w").write("name: huge\nresources:\n  accelerators: H100:8\nrun: |\n"
                             + "".join(f"  echo line {i} {'x' * 60}\n" for i in range(1200)))
PY
before=$( (slurm_jobs azure-eastus; slurm_jobs oci-ashburn) | wc -l)
id=$(launch_detached "$TMP/huge.yaml")
wait_state "$id" FAILED 20
run 0 "$STRATUS" status "$id"
has "$OUT" "FAILED (launch refused on "
has "$OUT" "setup and run may hold 65536 bytes each on Slurm"
after=$( (slurm_jobs azure-eastus; slurm_jobs oci-ashburn) | wc -l)
[ "$before" = "$after" ] || fail "no Slurm job may be submitted for a refused launch ($before -> $after)"
ok "an oversize run text fails the job with the driver's reason; nothing reaches Slurm"
# --- one server, both kinds of driver (server.yaml): the Slurm clusters
# serve azure/eastus and oci/us-ashburn-1, the local clouds every other
# location. A CLI client over TCP with a member token submits jobs that land
# on both; a viewer token is refused a submit (403), no token is refused
# (401), and a revoked token stops working. ---
"$STRATUS" controller stop >/dev/null
cat >"$STRATUS_HOME/server.yaml" <<'YAML'
listen:
  - unix: stratus.sock
  - tcp: 127.0.0.1:0
drivers:
  - name: lab-slurm
    driver: slurm
    config: clusters.yaml
    locations: [azure/eastus, oci/us-ashburn-1]
  - name: local
    driver: local
    locations: ["*"]
YAML
run 0 "$STRATUS" server --check-config
has "$OUT" "lab-slurm"
run 0 "$STRATUS" token create --name ci --role member   # starts the server with server.yaml
MEMBER=$OUT
run 0 "$STRATUS" token create --name looker --role viewer
VIEWER=$OUT
PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$STRATUS_HOME/controller.log" | tail -n 1)
[ -n "$PORT" ] && [ "$PORT" != 0 ] || fail "no TCP port in the server's log: $(tail -5 "$STRATUS_HOME/controller.log")"
API="http://127.0.0.1:$PORT"
pinned() { # pinned NAME CLOUD: a 1-node job that must run in CLOUD
  printf 'name: %s\nresources:\n  cloud: %s\n  accelerators: H100:8\n  use_spot: false\nrun: echo "%s ran on $STRATUS_CLOUD"\n' \
    "$1" "$2" "$1" >"$TMP/$1.yaml"
}
pinned on-azure azure; pinned on-gcp gcp
ids=()
for n in on-azure on-gcp; do
  run 0 env STRATUS_API="$API" STRATUS_TOKEN="$MEMBER" "$STRATUS" launch "$TMP/$n.yaml" --detach
  ids+=("$(sed -n 's/^job \([0-9]*\) submitted$/\1/p' <<<"$OUT")")
done
export STRATUS_API="$API" STRATUS_TOKEN="$MEMBER"
wait_state "${ids[0]}" SUCCEEDED 60; wait_state "${ids[1]}" SUCCEEDED 60
unset STRATUS_API STRATUS_TOKEN
[ "$(where "${ids[0]}")" = azure ] && [ "$(where "${ids[1]}")" = gcp ] ||
  fail "jobs pinned to azure and gcp must run there: $(where "${ids[0]}") $(where "${ids[1]}")"
att=$(sql "select id from attempts where job_id=${ids[0]}")
slurm_jobs azure-eastus | grep -qE "stratus-[0-9a-f]+-$att COMPLETED" ||
  fail "azure-eastus (Slurm) must have run attempt $att: $(slurm_jobs azure-eastus)"
att=$(sql "select id from attempts where job_id=${ids[1]}")
( slurm_jobs azure-eastus; slurm_jobs oci-ashburn ) | grep -qE "stratus-[0-9a-f]+-$att " &&
  fail "the gcp job must not reach Slurm"
ls -d "$STRATUS_HOME"/state/*/local/att-"$att" >/dev/null 2>&1 ||
  fail "the gcp job must run on the local clouds (no att-$att directory)"
run 0 env STRATUS_API="$API" STRATUS_TOKEN="$VIEWER" "$STRATUS" logs "${ids[0]}"
has "$OUT" "on-azure ran on azure"
run 0 env STRATUS_API="$API" STRATUS_TOKEN="$VIEWER" "$STRATUS" logs "${ids[1]}"
has "$OUT" "on-gcp ran on gcp"
ok "one server, two drivers: a client with a member token places jobs on Slurm (azure) and on the local clouds (gcp)"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
body=$(python3 -c 'import json,sys; print(json.dumps({"spec": open(sys.argv[1]).read(), "file": sys.argv[1]}))' "$TMP/on-gcp.yaml")
[ "$(code -H "Authorization: Bearer $VIEWER" -H 'Content-Type: application/json' --data-binary "$body" "$API/v1/jobs")" = 403 ] ||
  fail "a viewer's submit must be refused with 403"
[ "$(code -H 'Content-Type: application/json' --data-binary "$body" "$API/v1/jobs")" = 401 ] ||
  fail "a submit without a token must be refused with 401"
run 2 env STRATUS_API="$API" STRATUS_TOKEN="$VIEWER" "$STRATUS" launch "$TMP/on-gcp.yaml" --detach
run 0 "$STRATUS" token revoke ci
[ "$(code -H "Authorization: Bearer $MEMBER" "$API/v1/jobs")" = 401 ] || fail "a revoked token must be refused with 401"
run 2 env STRATUS_API="$API" STRATUS_TOKEN="$MEMBER" "$STRATUS" queue
ok "viewer submit 403, no token 401, a revoked token stops working"

# --- a service replica on a Slurm cluster: the server probes it at its
# node's address (NodeAddr, here 127.0.0.1) and a router sends it traffic;
# serve down ends its Slurm job ---
cat >"$TMP/svc.yaml" <<YAML
name: slurmsvc
resources:
  cloud: azure
  region: eastus
  accelerators: H100:8
  use_spot: false
run: exec python3 -B $SOURCE_DIR/examples/llm-server/server.py --port \$PORT --model toy-slurm --decode-tps 500
service:
  readiness_probe:
    path: /health
    initial_delay_seconds: 60
  replicas: 1
YAML
svc_json() { # svc_json EXPR: a Python expression over `serve status slurmsvc --json` (j)
  "$STRATUS" serve status slurmsvc --json | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}
run 0 "$STRATUS" serve up "$TMP/svc.yaml"
SKEY=$(tail -n 1 <<<"$OUT")
end=$((SECONDS + 90)) # (each look runs the CLI and python: bound by time, not by looks)
while [ "$SECONDS" -lt "$end" ]; do
  [ "$(svc_json "[r['state'] for r in j['replicas']] == ['READY']" 2>/dev/null)" = True ] && break
  nap 0.2
done
[ "$(svc_json "[r['state'] for r in j['replicas']] == ['READY']")" = True ] ||
  fail "the Slurm replica must be READY within 90 s: $("$STRATUS" serve status slurmsvc)"
rep=$(svc_json "j['replicas'][0]['id']")
ratt=$(sql "select id from attempts where job_id=$rep order by n desc limit 1")
[ "$(where "$rep")" = azure ] && [ "$(slurm_state azure-eastus "$ratt")" = RUNNING ] ||
  fail "the replica must be a Slurm job on azure-eastus: $(where "$rep") $(slurm_state azure-eastus "$ratt")"
run 0 "$STRATUS" serve endpoints slurmsvc
[ "$(json '[(r["url"].rsplit(":", 1)[0], r["emulated"]) for r in j["replicas"]]')" = "[('http://127.0.0.1', False)]" ] ||
  fail "the replica's URL must be its node's address, not emulated: $OUT"
RTOKEN=$("$STRATUS" token create --name svc-router --role member 2>/dev/null)
STRATUS_TOKEN=$RTOKEN "$STRATUS" router --api "$API" --service slurmsvc \
  --listen 127.0.0.1:0 2>"$TMP/router.log" &
ROUTER_PID=$!
wait_for grep -q "listening on" "$TMP/router.log"
R=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$TMP/router.log" | head -n 1)
wait_for sh -c "curl -sf '$R/-/healthz' | grep -q '\"ready_replicas\":1'"
rcode=$(curl -s -o "$TMP/answer" -w '%{http_code}' -m 30 -H "Authorization: Bearer $SKEY" \
  -H 'Content-Type: application/json' -d '{"model": "toy-slurm", "prompt": "hi", "max_tokens": 4}' \
  "$R/v1/completions")
[ "$rcode" = 200 ] && grep -q '"choices"' "$TMP/answer" ||
  fail "a request through the router must reach the Slurm replica: $rcode $(cat "$TMP/answer")"
kill "$ROUTER_PID"; wait "$ROUTER_PID" 2>/dev/null; ROUTER_PID=
run 0 "$STRATUS" serve down slurmsvc
end=$((SECONDS + 60))
while [ "$SECONDS" -lt "$end" ]; do
  [ "$(svc_json "j['state']" 2>/dev/null)" = DOWN ] &&
    case $(slurm_state azure-eastus "$ratt") in RUNNING|PENDING|COMPLETING|"") false ;; esac && break
  nap 0.2
done
[ "$(svc_json "j['state']")" = DOWN ] || fail "serve down: $("$STRATUS" serve status slurmsvc)"
case $(slurm_state azure-eastus "$ratt") in
  RUNNING|PENDING|COMPLETING|"") fail "the replica's Slurm job must end: $(slurm_state azure-eastus "$ratt")" ;;
esac
ok "a replica on Slurm (azure-eastus) is probed READY at its node's address, serves through a router, and serve down ends its Slurm job"
echo "$checks checks passed"
