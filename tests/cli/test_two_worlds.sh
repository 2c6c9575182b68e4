#!/usr/bin/env bash
# The two worlds agree: one scenario — two jobs, a stockout of the cheapest
# location, a preemption of the spot job midway — run on the local clouds
# (real processes, wall time) and in the simulator (virtual time) gives the
# same attempts, placements and outcomes, and the same costs up to the
# wall-clock jitter of real processes.
. "$(dirname "$0")/lib.sh"
use_home
TRAINER="$SOURCE_DIR/examples/trainer.sh"
printf 'preemption:\n  notice: 0s\n' >"$STRATUS_HOME/local.yaml"  # the sim preempts at once

cat >"$TMP/a.yaml" <<'YAML'
name: a
resources:
  accelerators: H100:8
  use_spot: false
run: sleep 3
stratus:
  duration: 3s
YAML
cat >"$TMP/b.yaml" <<YAML
name: b
resources:
  accelerators: H100:8
run: $TRAINER --steps 40 --ckpt-every 5 --step-time 0.1
stratus:
  duration: 4s
  checkpoint: {interval: 0.5s, restore: 0s}
YAML

# --- the local world ---
run 0 "$STRATUS" local stockout --location oci/us-ashburn-1 --for 10m
a=$(launch_detached "$TMP/a.yaml"); b=$(launch_detached "$TMP/b.yaml")
[ "$a" = 1 ] && [ "$b" = 2 ] || fail "job ids 1 and 2 expected, got $a $b"
wait_state 2 RUNNING
sleep 1.5
run 0 "$STRATUS" local preempt --job 2
wait_state 1 SUCCEEDED 60; wait_state 2 SUCCEEDED 60
attempts_of() { # DB: one line per attempt: job n cloud region zone type mode end
  python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = """select j.name, a.n, a.cloud, a.region, a.zone, a.instance_type, a.mode, a.end_reason
       from attempts a join jobs j on j.id = a.job_id order by j.name, a.n"""
for r in db.execute(q):
    print(" ".join(str(v) for v in r))
PY
}
costs_of() { python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(' '.join('%.6f' % r[0] for r in db.execute('select a.cost from attempts a join jobs j on j.id = a.job_id order by j.name, a.n')))" "$1"; }
# When the preemption really struck, and how long a launch took, measured
# from the local run: the simulator replays exactly that.
read -r t_pre delay < <(python3 - "$STRATUS_HOME/stratus.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
t0 = db.execute("select min(submitted_at) from jobs").fetchone()[0]
end, run, launch = db.execute("select a.ended_at, a.running_at, a.launched_at from attempts a "
                              "join jobs j on j.id = a.job_id where j.name = 'b' and a.n = 1").fetchone()
print("%.3f %.3f" % (end - t0, run - launch))
PY
)
local_att=$(attempts_of "$STRATUS_HOME/stratus.db")
local_cost=$(costs_of "$STRATUS_HOME/stratus.db")
stop_home

# --- the simulated world: the same jobs, faults at the same times ---
cat >"$TMP/w.csv" <<'CSV'
submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s,checkpoint_s,data_location,data_gb,spot_ok
0,a,,batch,H100,8,3,,,,,0
0,b,,batch,H100,8,4,,0.5,,,
CSV
printf 'location,instance_type,nodes,spot_nodes\n*,*,4,4\n' >"$TMP/fleet.csv"
printf 'time_s,kind,arg\n0,stockout,oci/us-ashburn-1 600\n%s,preempt-job,2\n' "$t_pre" >"$TMP/events.csv"
mkdir -p "$TMP/sim"
run 0 "$STRATUS" simulate --workload "$TMP/w.csv" --fleet "$TMP/fleet.csv" --events "$TMP/events.csv" \
  --policies stratus --launch-delay "$delay" --restore 0s --keep-stores "$TMP/sim" --catalog "$STRATUS_CATALOG"
sim_att=$(attempts_of "$TMP/sim/stratus.db")
sim_cost=$(costs_of "$TMP/sim/stratus.db")

echo "# local: $(tr '\n' ';' <<<"$local_att")"
echo "# sim:   $(tr '\n' ';' <<<"$sim_att")"
[ "$(wc -l <<<"$local_att")" = 3 ] || fail "expected 3 attempts (a once, b twice): $local_att"
grep -q "^b 1 gcp us-central1 us-central1-a a3-highgpu-8g 1 2$" <<<"$local_att" ||
  fail "b must run first on gcp spot and be preempted: $local_att"
grep -q "^a 1 gcp us-central1 us-central1-a a3-highgpu-8g 0 1$" <<<"$local_att" ||
  fail "a must fail over from the stocked-out oci to gcp on demand: $local_att"
[ "$local_att" = "$sim_att" ] || fail "the worlds disagree: local [$local_att] sim [$sim_att]"
ok "same attempts, placements, modes and outcomes in both worlds"

python3 - "$local_cost" "$sim_cost" <<'PY' || fail "costs differ beyond jitter: local $local_cost, sim $sim_cost"
import sys
l = [float(x) for x in sys.argv[1].split()]; s = [float(x) for x in sys.argv[2].split()]
assert len(l) == len(s)
for a, b in zip(l, s):
    # a real process runs a little longer than its modelled duration
    assert abs(a - b) <= 0.35 * max(a, b) + 0.002, (a, b)
PY
ok "costs agree within the jitter of real processes: local [$local_cost] sim [$sim_cost]"
echo "$checks checks passed"
