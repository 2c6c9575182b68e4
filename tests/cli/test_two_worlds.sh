#!/usr/bin/env bash
# The two worlds agree: one scenario — two jobs, a stockout of the cheapest
# location, a preemption of the spot job midway — run on the local clouds
# (real processes, wall time) and in the simulator (virtual time) gives the
# same attempts, placements and outcomes, billed at the same prices, with
# run times equal up to the wall-clock jitter of real processes.
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
# b's work is measured in wall-clock seconds, as the simulator measures it
# (a step-counting trainer falls behind the clock on a loaded machine): it
# needs 20 s of work (long enough that a slow machine still preempts it
# midway), saves it every 0.5 s of work, and resumes from that.
cat >"$TMP/work.sh" <<'SH'
#!/usr/bin/env bash
# Whole microseconds from the shell's own clock, and naps on a FIFO nobody
# writes: no process per look (this runs beside seven other tests on two
# cores).  The work is saved, as "S.H" seconds, when a half second is done.
d=$STRATUS_CHECKPOINT_DIR; done_us=0
if [ -f "$d/work" ]; then
  IFS=. read -r s h <"$d/work"; done_us=$(( s * 1000000 + ${h:-0} * 100000 ))
fi
t=${EPOCHREALTIME/./}; start=$((10#$t)); halves=-1
while :; do
  t=${EPOCHREALTIME/./}; w=$(( done_us + 10#$t - start ))
  [ "$w" -ge 20000000 ] && exit 0
  if [ $(( w / 500000 )) != "$halves" ]; then
    halves=$(( w / 500000 ))
    echo "$(( halves / 2 )).$(( halves % 2 * 5 ))" >"$d/work.tmp" && mv "$d/work.tmp" "$d/work"
  fi
  read -r -t 0.02 _ <>TICK
done
SH
sed -i "s|TICK|$TMP/.tick|" "$TMP/work.sh"
chmod +x "$TMP/work.sh"
cat >"$TMP/b.yaml" <<YAML
name: b
resources:
  accelerators: H100:8
run: $TMP/work.sh
stratus:
  duration: 20s
  checkpoint: {interval: 0.5s, restore: 0s}
YAML

# --- the local world ---
run 0 "$STRATUS" local stockout --location oci/us-ashburn-1 --for 10m
a=$(launch_detached "$TMP/a.yaml"); b=$(launch_detached "$TMP/b.yaml")
[ "$a" = 1 ] && [ "$b" = 2 ] || fail "job ids 1 and 2 expected, got $a $b"
wait_state 2 RUNNING
wait_for bash -c "awk '{ exit !(\$1 >= 1.5) }' $(state_dir)/checkpoints/job-2/att-1/work 2>/dev/null"
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
# costs_of DB: per attempt "cost price seconds-run nodes", in attempt order.
costs_of() { python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = 'select a.cost, a.price_hour, max(a.ended_at - a.running_at, 0), a.nodes from attempts a join jobs j on j.id = a.job_id order by j.name, a.n'
print(' '.join('%.9f,%.4f,%.6f,%d' % r for r in db.execute(q)))" "$1"; }
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
0,b,,batch,H100,8,20,,0.5,,,
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

# Costs: each world bills what it ran at the same prices (exactly), and
# what ran agrees up to the jitter of real processes: starting bash, noticing
# an exit and the preemption's real moment each cost a loaded machine up to a
# second or so; a wrong price or a double bill is far outside that.
python3 - "$local_cost" "$sim_cost" <<'PY' || fail "the worlds bill differently: local [$local_cost] sim [$sim_cost]"
import sys
def rows(arg):
    return [tuple(float(v) for v in x.split(",")) for x in arg.split()]
l, s = rows(sys.argv[1]), rows(sys.argv[2])
assert len(l) == len(s)
for (lc, lp, lt, ln), (sc, sp, st, sn) in zip(l, s):
    assert lp == sp and ln == sn, ("prices or nodes differ", lp, sp, ln, sn)
    for cost, price, t, n in ((lc, lp, lt, ln), (sc, sp, st, sn)):
        assert abs(cost - price * n * t / 3600) < 1e-5, ("cost is not run time x price", cost, price, t)
    assert abs(lt - st) <= 3.0, ("run times differ beyond jitter", lt, st)
PY
ok "both worlds bill run time x the same prices; run times agree within 3 s: local [$local_cost] sim [$sim_cost]"
echo "$checks checks passed"
