#!/usr/bin/env bash
# Black-box tests of `stratus simulate`: the five policies on a workload, the
# invariants a correct comparison must satisfy, determinism, the chart, and
# bad input.  With the shared data present, also the first ITP cluster with
# the SkyPilot spot traces, where Stratus must beat spot-else-ondemand.
. "$(dirname "$0")/lib.sh"
EX="$SOURCE_DIR/examples"

small_workload "$TMP/w.csv" # 300 jobs over two days (lib.sh)
SIM=("$STRATUS" simulate --workload "$TMP/w.csv" --fleet "$EX/sim/fleet.csv" --org-policy "$EX/policy.yaml")

run 0 "${SIM[@]}" --json --chart "$TMP/chart.svg"
echo "$OUT" >"$TMP/a.json"
[ "$(json '[r["policy"] for r in j]')" = "['stratus', 'azure-ondemand', 'cheapest-ondemand', 'spot-else-ondemand', 'offline-bound']" ] ||
  fail "five policies expected: $OUT"
[ "$(json 'all(r["jobs"] == 300 for r in j)')" = True ] || fail "every policy sees 300 jobs"
[ "$(json 'all(r["failed"] == 0 for r in j if not r["lower_bound"])')" = True ] || fail "no job may fail"
ok "simulate: five policies over the same 300 jobs"

[ "$(json 'all(r["cost"] >= j[4]["cost"] - 1e-6 for r in j)')" = True ] || fail "offline-bound must be below every policy"
[ "$(json 'j[1]["cost_by_cloud"]["azure"] == j[1]["cost"] and j[1]["spot_share"] == 0')" = True ] ||
  fail "azure-ondemand must spend only on azure, on demand"
[ "$(json 'j[2]["spot_share"] == 0 and j[2]["preemptions"] == 0')" = True ] || fail "cheapest-ondemand must use no spot"
[ "$(json 'j[2]["cost"] <= j[1]["cost"]')" = True ] || fail "the cheapest on-demand location cannot cost more than azure on demand"
[ "$(json 'j[0]["spot_share"] > 0 and j[3]["spot_share"] > 0')" = True ] || fail "stratus and spot-else-ondemand use spot"
[ "$(json 'j[0]["cost"] < j[1]["cost"]')" = True ] || fail "stratus must cost less than everything on azure on demand"
[ "$(json 'j[0]["deadline_misses"] <= j[3]["deadline_misses"]')" = True ] || fail "stratus misses no more deadlines than spot-else-ondemand"
ok "simulate: the bound is below all, the baselines behave as defined, stratus beats azure-ondemand"

[ "$(json 'all(r["ratio_to_bound"] >= 1 for r in j if not r["lower_bound"])')" = True ] ||
  fail "every policy's ratio to the bound is at least 1: $OUT"
[ "$(json 'abs(j[0]["ratio_to_bound"] * j[4]["cost"] - j[0]["cost"]) < 1e-6 * j[0]["cost"]')" = True ] ||
  fail "the ratio is stratus's cost over the bound's"
[ "$(json 'j[4]["lp"]["rows"] > 0 and j[4]["lp"]["columns"] > 0 and j[4]["lp"]["horizon_days"] > 0')" = True ] ||
  fail "the bound reports its LP: $OUT"
ok "simulate: each policy as a ratio to the bound, and the bound's LP"

# Every baseline and the bound obey the org policy: under a rule that allows
# only Azure, nothing may run elsewhere (before, cheapest-ondemand went to
# the cheapest cloud and the bound ignored the policy).  What other clouds
# bill is data leaving them for Azure: egress, counted where the data left.
printf 'rules:\n  - name: only-azure\n    allow: [azure]\n' >"$TMP/azure.yaml"
run 0 "$STRATUS" simulate --workload "$TMP/w.csv" --fleet "$EX/sim/fleet.csv" --org-policy "$TMP/azure.yaml" --json
for i in 0 1 2 3 4; do
  [ "$(json "j[$i]['cost'] > 0 and abs(sum(j[$i]['cost_by_cloud'].values()) - j[$i]['cost']) < 1e-6 * j[$i]['cost'] and sum(v for k, v in j[$i]['cost_by_cloud'].items() if k != 'azure') <= j[$i]['cost_split']['egress'] + 1e-6 * j[$i]['cost']")" = True ] ||
    fail "policy $i spent off Azure under an Azure-only policy: $OUT"
done
[ "$(json 'all(r["cost"] >= j[4]["cost"] - 1e-6 for r in j)')" = True ] || fail "the bound stays below all under the policy"
ok "simulate: every baseline and the bound follow the org policy"

# A workload whose rows list accelerator alternatives ("H100|A100-80GB"; the
# duration is on the first): every policy runs every job, the bound (work
# counted at each candidate's speed) stays below all of them.
run 0 "$STRATUS" simulate --workload "$SOURCE_DIR/tests/data/trace/workload-alternatives.csv" \
  --fleet "$EX/sim/fleet.csv" --org-policy "$EX/policy.yaml" --json
[ "$(json 'all(r["jobs"] == 40 for r in j) and all(r["failed"] == 0 for r in j if not r["lower_bound"])')" = True ] ||
  fail "every job of the alternatives workload runs: $OUT"
[ "$(json 'all(r["cost"] >= j[-1]["cost"] - 1e-6 and j[-1]["cost"] > 0 for r in j)')" = True ] ||
  fail "the bound stays below every policy with alternatives: $OUT"
ok "simulate: a workload with accelerator alternatives"

# The paper's Greedy deadline rule, on request: spot first, the deadlines kept
# as well as stratus keeps them, and its own line in the output.
run 0 "${SIM[@]}" --json --policies stratus,cbl-greedy
[ "$(json '[r["policy"] for r in j]')" = "['stratus', 'cbl-greedy']" ] || fail "cbl-greedy on request: $OUT"
[ "$(json 'j[1]["spot_share"] > 0 and j[1]["failed"] == 0')" = True ] || fail "cbl-greedy uses spot, fails nothing"
[ "$(json 'all("cost_split" in r and abs(sum(r["cost_split"].values()) - r["cost"]) < 1e-6 * r["cost"] for r in j)')" = True ] ||
  fail "the cost split adds up to the cost: $OUT"
ok "simulate: cbl-greedy on request; compute + lost work + egress = cost"

# a job whose patience has less left than a Unix time can add (1e-7 s at
# 1.7e9) does not park and wake in one instant for ever (a fuzzed study,
# shrunk to 10 jobs, that stood still)
D="$SOURCE_DIR/tests/data/sim-patience-float"
run 0 timeout 60 "$STRATUS" simulate --workload "$D/workload.csv" --fleet "$D/fleet.csv" \
  --org-policy "$D/policy.yaml" --policies stratus --json
[ "$(json 'j[0]["jobs"] == 10 and j[0]["failed"] == 0')" = True ] || fail "the 10 jobs ran: $OUT"
ok "simulate: a patience left below a Unix time's precision is none (the study does not stand still)"

# the table's cost split, as the README's study tables give it
run 0 "${SIM[@]}" --policies stratus,offline-bound
has "$OUT" "COST SPLIT"
for c in COMPUTE LOST-WORK EGRESS STORAGE COMMITMENTS; do has "$OUT" "$c"; done
hasnt "$OUT" "COMMIT-USE" # no commitments here
python3 - "$OUT" <<'PY' || fail "the split's columns add up to each policy's cost: $OUT"
import re, sys
lines = sys.argv[1].splitlines()
money = lambda s: float(s.replace("$", "").replace(",", ""))
at = [i for i, l in enumerate(lines) if l.startswith("COST SPLIT")][0]
cost = {l.split()[0]: money(l.split()[1]) for l in lines[:at] if l.startswith(("stratus ", "offline-bound "))}
for l in lines[at + 1:at + 3]:
    f = l.split()
    parts = [money(x) for x in f[1:6] if x != "-"]
    assert abs(sum(parts) - cost[f[0]]) < 0.02 * len(parts), (f, cost)
PY
ok "simulate: the table's cost split (compute, lost work, egress, storage, commitments) adds up"

# A job the fleet never has room for (A10:2; the fleet has no A10 nodes) ends
# the study with a clear error instead of spinning in virtual time.
run 1 "$STRATUS" simulate --workload "$SOURCE_DIR/tests/data/trace/workload-min.csv" --fleet "$EX/sim/fleet.csv"
has "$ERR" "1 job can never run: no place it may take ever has the nodes it needs, in the fleet or the spot trace; job w1: waiting for capacity"
ok "simulate: a job the fleet never has room for is an error, not a hang"

# ... also while another job runs for longer than the 30 days the stall
# check waits (the 40-day job a: before, the error came 30 days after a
# ended); but a job that waits 40 days for a's node (c), or for the spot
# node a trace brings at 40 days (s), runs.
printf 'version: 1\nrules:\n  - name: az\n    allow: [azure]\n' >"$TMP/dd.yaml"
printf 'version: 1\nrules:\n  - name: az\n    allow: [azure]\n    spot: require\n' >"$TMP/dd-spot.yaml"
printf 'location,instance_type,nodes,spot_nodes\nazure/eastus,Standard_NC24ads_A100_v4,1,0\n' >"$TMP/dd-f.csv"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s,spot_ok\n0,a,t,batch,A100-80GB,1,3456000,0\n60,c,t,batch,A100-80GB,1,3600,0\n' >"$TMP/dd-ok.csv"
{ cat "$TMP/dd-ok.csv"; printf '120,b,t,batch,H100,8,3600,0\n'; } >"$TMP/dd-dead.csv"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s\n0,s,t,batch,A100-80GB,1,3600\n' >"$TMP/dd-s.csv"
printf 'time_s,location,instance_type,available_nodes\n0,azure/eastus,Standard_NC24ads_A100_v4,0\n3456000,azure/eastus,Standard_NC24ads_A100_v4,1\n3463200,azure/eastus,Standard_NC24ads_A100_v4,0\n' >"$TMP/dd-sp.csv"
run 1 "$STRATUS" simulate --workload "$TMP/dd-dead.csv" --fleet "$TMP/dd-f.csv" --org-policy "$TMP/dd.yaml" --policies stratus --json
has "$ERR" "1 job can never run: no place it may take ever has the nodes it needs, in the fleet or the spot trace; job b: waiting for capacity"
run 0 "$STRATUS" simulate --workload "$TMP/dd-ok.csv" --fleet "$TMP/dd-f.csv" --org-policy "$TMP/dd.yaml" --policies stratus --json
[ "$(json 'j[0]["failed"] == 0 and j[0]["jobs"] == 2 and j[0]["mean_queue_hours"] > 24 * 19')" = True ] ||
  fail "c waits 40 days for a's node and runs: $OUT"
run 0 "$STRATUS" simulate --workload "$TMP/dd-s.csv" --fleet "$TMP/dd-f.csv" --org-policy "$TMP/dd-spot.yaml" \
  --spot "$TMP/dd-sp.csv" --policies stratus --json
[ "$(json 'j[0]["failed"] == 0 and j[0]["spot_share"] == 1 and j[0]["mean_queue_hours"] > 24 * 39')" = True ] ||
  fail "s waits 40 days for the spot node the trace brings and runs: $OUT"
head -2 "$TMP/dd-sp.csv" >"$TMP/dd-sp0.csv"
run 1 "$STRATUS" simulate --workload "$TMP/dd-s.csv" --fleet "$TMP/dd-f.csv" --org-policy "$TMP/dd-spot.yaml" \
  --spot "$TMP/dd-sp0.csv" --policies stratus --json
has "$ERR" "1 job can never run: no place it may take ever has the nodes it needs, in the fleet or the spot trace; job s: waiting for capacity"
# (an attack found these three:) the spot trace is replayed, so a job that
# comes after its only row that brings a node runs in the next pass; one
# that only a commitment starting at day 45 can hold (its on-demand nodes
# are over the rule's cost cap) runs then; and every job that can never run
# is counted, not only those that have waited 30 days.
printf '8640000,azure/eastus,Standard_NC24ads_A100_v4,0\n' >>"$TMP/dd-sp.csv"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s\n3888000,s,t,batch,A100-80GB,1,3600\n' >"$TMP/dd-s45.csv"
run 0 "$STRATUS" simulate --workload "$TMP/dd-s45.csv" --fleet "$TMP/dd-f.csv" --org-policy "$TMP/dd-spot.yaml" \
  --spot "$TMP/dd-sp.csv" --policies stratus --json
[ "$(json 'j[0]["failed"] == 0 and j[0]["spot_share"] == 1')" = True ] ||
  fail "a job after the trace's only node runs in the next pass: $OUT"
printf 'version: 1\nrules:\n  - name: east\n    allow: [azure/eastus]\n    spot: forbid\n    max_hourly_cost: 100\n' >"$TMP/dd-cap.yaml"
printf 'location,instance_type,nodes,spot_nodes\nazure/eastus,Standard_ND96isr_H100_v5,2,0\nazure/eastus,Standard_NC24ads_A100_v4,1,0\n' >"$TMP/dd-f2.csv"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s\n0,g,t,batch,H100|A100-80GB,16,3600\n2678400,c,t,batch,A100-80GB,1,3600\n' >"$TMP/dd-w2.csv"
printf 'cloud,region,zone,instance_type,nodes,start,term,price_hour\nazure,eastus,,Standard_ND96isr_H100_v5,2,2024-02-15,1y,50\n' >"$TMP/dd-c.csv"
run 0 "$STRATUS" simulate --workload "$TMP/dd-w2.csv" --fleet "$TMP/dd-f2.csv" --org-policy "$TMP/dd-cap.yaml" \
  --commitments "$TMP/dd-c.csv" --policies stratus --json
[ "$(json 'j[0]["failed"] == 0 and j[0]["jobs"] == 2')" = True ] ||
  fail "a job only a commitment starting at day 45 can hold runs then: $OUT"
{ cat "$TMP/dd-dead.csv"; printf '1728000,d,t,batch,H100,8,3600,0\n'; } >"$TMP/dd-dead2.csv"
run 1 "$STRATUS" simulate --workload "$TMP/dd-dead2.csv" --fleet "$TMP/dd-f.csv" --org-policy "$TMP/dd.yaml" --policies stratus
has "$ERR" "2 jobs can never run: no place they may take ever has the nodes each needs"
ok "simulate: a job no place ever holds is an error once it has waited 30 days, even beside a 40-day job; a job that waits 40 days for a node, a replayed trace's next pass or a commitment to come runs"

head -c 5 "$TMP/chart.svg" | grep -q "<svg" || fail "the chart must be SVG"
for p in stratus azure-ondemand cheapest-ondemand spot-else-ondemand offline-bound azure gcp; do
  grep -q ">$p<\|>$p \|$p<" "$TMP/chart.svg" || fail "the chart lacks '$p'"
done
ok "simulate --chart: an SVG with a panel per policy and a legend"

run 0 "${SIM[@]}" --json
python3 - "$TMP/a.json" <<PY || fail "two runs of the same study must agree"
import json, sys
a = json.load(open(sys.argv[1])); b = json.loads('''$OUT''')
strip = lambda rs: [{k: v for k, v in r.items() if k != "wall_seconds"} for r in rs]
assert strip(a) == strip(b)
PY
ok "simulate: deterministic (same inputs, same numbers)"

printf 'location,instance_type,nodes\nazure/nowhere,Standard_ND96isr_H100_v5,4\n' >"$TMP/badfleet.csv"
run 2 "$STRATUS" simulate --workload "$TMP/w.csv" --fleet "$TMP/badfleet.csv"
has "$ERR" "badfleet.csv:2: no catalog offer matches location 'azure/nowhere'"
run 2 "${SIM[@]}" --policies stratus,fastest
has "$ERR" "unknown policy 'fastest'"
printf 'time_s,kind,arg\n5,meteor,azure/eastus\n' >"$TMP/ev.csv"
run 2 "${SIM[@]}" --events "$TMP/ev.csv"
has "$ERR" "ev.csv:2: kind must be stockout, preempt-job or preempt-location, not 'meteor'"
run 2 "$STRATUS" simulate --fleet "$EX/sim/fleet.csv"
has "$ERR" "simulate needs --workload W.csv"
run 2 "$STRATUS" simulate --workload "$TMP/w.csv"
has "$ERR" "simulate needs --fleet F.csv"
run 2 "${SIM[@]}" --seed 3
has "$ERR" "--seed is for --service studies"
run 2 "$STRATUS" simulate --service "$EX/sim/serve-llm-h100.yaml" --requests "$TMP/none.csv" --events "$TMP/ev.csv"
has "$ERR" "simulate --service takes no --events, --keep-stores or --teams"
ok "simulate: bad fleet, policy, events and usage are clear errors"

# The price in force: the on-demand price of the only location rises from $40
# to $100/node-h an hour into a two-hour run, which then costs $40 + $100 (not
# two hours at the launch price, $80), under every policy that runs it.
printf 'location,instance_type,nodes,spot_nodes\ngcp/us-central1/us-central1-a,a3-highgpu-8g,1,0\n' >"$TMP/f1.csv"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s,spot_ok\n0,p1,lab,batch,H100,8,7200,0\n' >"$TMP/w1.csv"
printf 'time_s,location,instance_type,price_hour,spot_price_hour\n0,gcp/us-central1,a3-highgpu-8g,40,\n3600,gcp/us-central1,a3-highgpu-8g,100,\n' >"$TMP/p1.csv"
mkdir -p "$TMP/ks"
run 0 "$STRATUS" simulate --workload "$TMP/w1.csv" --fleet "$TMP/f1.csv" --prices "$TMP/p1.csv" \
  --policies stratus,cheapest-ondemand --launch-delay 0s --keep-stores "$TMP/ks" --json
[ "$(json '[round(r["cost"], 6) for r in j]')" = "[140.0, 140.0]" ] || fail "a price change mid-run: $OUT"
STRATUS_HOME=$TMP/ks run 0 "$STRATUS" events 1
has "$OUT" '01:00:00  job 1  price: on-demand price of gcp/us-central1 a3-highgpu-8g: $40.00 -> $100.00/node-h'
STRATUS_HOME=$TMP/ks "$STRATUS" controller stop >/dev/null 2>&1
ok "simulate: a price change mid-run bills each stretch at the price then in force"

# A long job without checkpoints on spot: at the catalog's 0.49 preemptions an
# hour, 13.4 h of work that restarts from nothing is expected to take some
# 1,450 h, not 13.4 + 44 (the first-order estimate that kept it on spot for
# 200 preemptions, $1,402 against $438 on demand).  stratus runs it on demand.
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s\n0,long,r,infer,A100-80GB,8,48144\n' >"$TMP/wl.csv"
printf 'location,instance_type,nodes,spot_nodes\nazure/*,Standard_ND96amsr_A100_v4,24,8\n' >"$TMP/fl.csv"
printf 'version: 1\nrules:\n  - name: east\n    allow: [azure/eastus*]\n    spot: allow\n' >"$TMP/pl.yaml"
run 0 "$STRATUS" simulate --workload "$TMP/wl.csv" --fleet "$TMP/fl.csv" --org-policy "$TMP/pl.yaml" \
  --policies stratus,cheapest-ondemand --json
[ "$(json 'j[0]["preemptions"] == 0 and j[0]["spot_share"] == 0 and abs(j[0]["cost"] - j[1]["cost"]) < 1e-6')" = True ] ||
  fail "a 13 h job without checkpoints is not worth spot at 0.49 preemptions an hour: $OUT"
ok "simulate: the expected loss of a spot run grows exponentially with its run between checkpoints"

# Committed nodes past their commitment's end, when the offer is no longer
# sold (a price trace's none), are billed the price last in force, as running
# machines are and as the bound bills them; at $0 every run cost less than
# the bound ($12.00 against $41.38).
printf 'cloud,region,zone,instance_type,nodes,term,start,end,price_hour,discount\nazure,eastus,,Standard_NC24ads_A100_v4,2,,,2024-01-01T06:00:00Z,1.00,\n' >"$TMP/cu-c.csv"
printf 'location,instance_type,nodes,spot_nodes\nazure/eastus,Standard_NC24ads_A100_v4,4,0\n' >"$TMP/cu-f.csv"
printf 'time_s,location,instance_type,price_hour,spot_price_hour\n3600,azure/eastus,Standard_NC24ads_A100_v4,none,\n' >"$TMP/cu-p.csv"
printf 'version: 1\nrules:\n  - name: east\n    allow: [azure/eastus]\n    spot: forbid\n' >"$TMP/cu.yaml"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s\n0,a,t,batch,A100-80GB,1,36000\n0,b,t,batch,A100-80GB,1,36000\n' >"$TMP/cu-w.csv"
run 0 "$STRATUS" simulate --workload "$TMP/cu-w.csv" --fleet "$TMP/cu-f.csv" --org-policy "$TMP/cu.yaml" \
  --commitments "$TMP/cu-c.csv" --prices "$TMP/cu-p.csv" --policies stratus,cheapest-ondemand,offline-bound --json
[ "$(json 'all(r["ratio_to_bound"] >= 1 for r in j if not r["lower_bound"])')" = True ] ||
  fail "the bound stays below every run when a commitment ends and its offer is not sold: $OUT"
[ "$(json 'all(r["cost_split"]["compute"] > 29 for r in j if not r["lower_bound"])')" = True ] ||
  fail "the 4 h past the commitment's end are billed at the last price ($3.67/node-h): $OUT"
# the same with the jobs submitted after the offer stopped being sold: the
# price last in force is the offer's, whoever launched when
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s\n7200,a,t,batch,A100-80GB,1,36000\n7200,b,t,batch,A100-80GB,1,36000\n' >"$TMP/cu-w2.csv"
run 0 "$STRATUS" simulate --workload "$TMP/cu-w2.csv" --fleet "$TMP/cu-f.csv" --org-policy "$TMP/cu.yaml" \
  --commitments "$TMP/cu-c.csv" --prices "$TMP/cu-p.csv" --policies stratus,cheapest-ondemand,offline-bound --json
[ "$(json 'all(r["ratio_to_bound"] >= 1 and r["cost_split"]["compute"] > 44 for r in j if not r["lower_bound"])')" = True ] ||
  fail "jobs launched after the offer stopped being sold pay its last price past the commitment: $OUT"
ok "simulate: committed nodes past their end keep the last price when the offer is no longer sold"

# A run that failed jobs did less work than the bound counts: its ratio is
# marked, and --json says it is not a comparison of the same work.
printf 'location,instance_type,nodes,spot_nodes\nazure/eastus,Standard_NC24ads_A100_v4,4,4\n' >"$TMP/rf-f.csv"
printf 'time_s,location,instance_type,price_hour,spot_price_hour\n3600,azure/eastus,Standard_NC24ads_A100_v4,none,none\n' >"$TMP/rf-p.csv"
printf 'version: 1\nrules:\n  - name: east\n    allow: [azure/eastus]\n    spot: allow\n' >"$TMP/rf.yaml"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s,checkpoint_s\n0,a,t,batch,A100-80GB,1,36000,,3600\n0,b,t,batch,A100-80GB,1,36000,,3600\n' >"$TMP/rf-w.csv"
RF=("$STRATUS" simulate --workload "$TMP/rf-w.csv" --fleet "$TMP/rf-f.csv" --org-policy "$TMP/rf.yaml"
  --prices "$TMP/rf-p.csv" --policies stratus,cheapest-ondemand,offline-bound)
run 0 "${RF[@]}" --json
[ "$(json 'j[0]["failed"] > 0 and j[0]["ratio_comparable"] is False and j[1]["ratio_comparable"] is True')" = True ] ||
  fail "a run that failed jobs has ratio_comparable false: $OUT"
run 0 "${RF[@]}"
has "$OUT" "failed 2 jobs the bound runs, so its ratio is not a comparison of the same work"
grep -q "^Cost / offline bound:  stratus [0-9.]*\* " <<<"$OUT" || fail "the ratio of a run that failed jobs is marked: $OUT"
# a job no schedule can run (spot_ok 0 under `spot: require`) fails in the
# bound too: a run that fails only it did the bound's work
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s,checkpoint_s,spot_ok\n0,never,t,batch,A100-80GB,1,3600,,0\n0,ok,t,batch,A100-80GB,1,3600,600,\n' >"$TMP/rb-w.csv"
printf 'version: 1\nrules:\n  - name: spot-only\n    allow: [azure/eastus]\n    spot: require\n' >"$TMP/rb.yaml"
run 0 "$STRATUS" simulate --workload "$TMP/rb-w.csv" --fleet "$TMP/rf-f.csv" --org-policy "$TMP/rb.yaml" \
  --policies stratus,offline-bound --json
[ "$(json 'j[0]["failed"] == 1 and j[1]["failed"] == 1 and j[0]["ratio_comparable"] is True')" = True ] ||
  fail "failing only the job the bound cannot run either is the same work: $OUT"
ok "simulate: a ratio of a run that failed jobs is marked as not the same work"

# The commitments' fixed cost is charged over one window for every run, which
# ends with the last job any run finished without failing: spot-else-ondemand
# restarting a 17 h job without checkpoints for 89 days and then failing it
# used to charge every row, and the bound, 89 days of commitments.
printf 'cloud,region,zone,instance_type,nodes,term,start,discount\nazure,eastus,,Standard_ND96isr_H100_v5,2,3y,2024-01-01,0.72\n' >"$TMP/ws-c.csv"
printf 'version: 1\nrules:\n  - name: any\n    continents: [north-america]\n    spot: allow\n' >"$TMP/ws.yaml"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s\n0,short,t,batch,H100,8,3600\n0,long,t,infer,H100,8,62433\n' >"$TMP/ws-w.csv"
WS=("$STRATUS" simulate --workload "$TMP/ws-w.csv" --fleet "$EX/sim/fleet.csv" --org-policy "$TMP/ws.yaml"
  --commitments "$TMP/ws-c.csv" --json)
run 0 "${WS[@]}" --policies stratus,offline-bound
ALONE=$(json 'j[0]["cost"]')
run 0 "${WS[@]}" --policies stratus,spot-else-ondemand,offline-bound
[ "$(json "j[1]['failed'] == 1 and abs(j[0]['cost'] - $ALONE) < 1e-6 and j[2]['lp']['horizon_days'] < 2")" = True ] ||
  fail "a baseline's failed job does not stretch the window (stratus alone \$$ALONE): $OUT"
ok "simulate: a job one run failed does not stretch the window every run's commitments are charged over"

# Faults: a location no offer is at is refused at load with file:line; a
# preempt-job row names the workload's job_id; a job not running then under
# a policy is a warning naming the row and the policy, and the study goes on.
printf 'time_s,kind,arg\n50,stockout,mars/x 100\n' >"$TMP/ev-loc.csv"
run 2 "${SIM[@]}" --events "$TMP/ev-loc.csv"
has "$ERR" "ev-loc.csv:2: stockout: no offer of the catalog is at 'mars/x'"
printf 'time_s,kind,arg\n50,stockout,azure/eastus 1h\n' >"$TMP/ev-unit.csv"
run 2 "${SIM[@]}" --events "$TMP/ev-unit.csv"
has "$ERR" "ev-unit.csv:2: stockout: expected 'CLOUD/REGION[/ZONE] [SECONDS]', not 'azure/eastus 1h'"
printf 'time_s,kind,arg\n100,stockout,azure/eastus 5\n50,stockout,azure/eastus 5\n' >"$TMP/ev-back.csv"
run 2 "${SIM[@]}" --events "$TMP/ev-back.csv"
has "$ERR" "ev-back.csv:3: time_s goes backwards: 50 after 100 at line 2"
printf 'time_s,kind,arg\n1e11,stockout,azure/eastus 5\n' >"$TMP/ev-far.csv"
run 2 "${SIM[@]}" --events "$TMP/ev-far.csv"
has "$ERR" "ev-far.csv:2: time_s 1e+11 is more than ten years after the start"
printf 'time_s,kind,arg\n50,preempt-job,nosuchjob\n' >"$TMP/ev-job.csv"
run 2 "${SIM[@]}" --events "$TMP/ev-job.csv"
has "$ERR" "ev-job.csv:2: preempt-job: 'nosuchjob' is not a job_id of the workload"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s,spot_ok\n0,a,t,batch,H100,8,3600,0\n100,b,t,batch,H100,8,3600,0\n' >"$TMP/ev-w.csv"
printf 'time_s,kind,arg\n50,preempt-job,b\n600,preempt-job,a\n' >"$TMP/ev-ab.csv"
run 0 "$STRATUS" simulate --workload "$TMP/ev-w.csv" --fleet "$EX/sim/fleet.csv" --org-policy "$EX/policy.yaml" \
  --events "$TMP/ev-ab.csv" --policies stratus,cheapest-ondemand --json
has "$ERR" "ev-ab.csv:2: under stratus, job 2 (b) is not submitted yet at 50 s: nothing preempted"
has "$ERR" "ev-ab.csv:2: under cheapest-ondemand, job 2 (b) is not submitted yet at 50 s"
[ "$(json 'all(r["preemptions"] == 1 and r["failed"] == 0 for r in j)')" = True ] ||
  fail "the row naming job a preempts it once under each policy: $OUT"
ok "simulate: --events rows are checked at load, name jobs by job_id, and say where they do nothing"

# The Safety Net holds a 2-node gang with 400 s of slack to on-demand, but no
# zone has 2 on-demand nodes: once even on-demand cannot meet the deadline,
# the job takes spot (and misses it) instead of waiting for ever.
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s\n0,a,t,batch,H100,16,3600,4000\n' >"$TMP/ln-w.csv"
printf 'location,instance_type,nodes,spot_nodes\naws/us-east-1,p5.48xlarge,1,2\n' >"$TMP/ln-f.csv"
printf 'version: 1\nrules:\n  - name: aws\n    allow: [aws/us-east-1]\n    spot: allow\n' >"$TMP/ln.yaml"
run 0 timeout 120 "$STRATUS" simulate --workload "$TMP/ln-w.csv" --fleet "$TMP/ln-f.csv" --org-policy "$TMP/ln.yaml" \
  --policies stratus,cbl-greedy --json
[ "$(json 'all(r["failed"] == 0 and r["spot_share"] == 1 and r["deadline_misses"] == 1 for r in j)')" = True ] ||
  fail "a lost deadline with no on-demand place for the gang runs on spot: $OUT"
ok "simulate: a deadline lost even on demand, with no on-demand place, takes spot"

# A stockout longer than the 30 days the stall check waits is a change to
# come, not a job that can never run: the large run waits 40 days for its
# regions and then runs; without an end, the error says which row has none.
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s,checkpoint_s\n100,big,research,train,H100,16,36000,1800\n' >"$TMP/so-w.csv"
printf 'time_s,kind,arg\n0,stockout,azure/eastus 3456000\n0,stockout,azure/eastus2 3456000\n0,stockout,azure/westus 3456000\n' >"$TMP/so-40d.csv"
run 0 timeout 120 "$STRATUS" simulate --workload "$TMP/so-w.csv" --fleet "$EX/sim/fleet.csv" --org-policy "$EX/policy.yaml" \
  --policies stratus --events "$TMP/so-40d.csv" --json
[ "$(json 'j[0]["failed"] == 0 and j[0]["mean_queue_hours"] > 24 * 39')" = True ] ||
  fail "the job runs once the 40-day stockout lifts: $OUT"
sed 's/ 3456000$//' "$TMP/so-40d.csv" >"$TMP/so-forever.csv"
run 1 timeout 120 "$STRATUS" simulate --workload "$TMP/so-w.csv" --fleet "$EX/sim/fleet.csv" --org-policy "$EX/policy.yaml" \
  --policies stratus --events "$TMP/so-forever.csv"
has "$ERR" "so-forever.csv:4 has no end: give it SECONDS, or add a row that clears it"
ok "simulate: a stockout past 30 days lifts and the job runs; one without an end is named in the error"

# A policy that requires spot, and a job whose deadline the Safety Net would
# move to on-demand: the policy wins, the job runs on spot (and may miss its
# deadline), instead of waiting for on-demand it may never use.
printf 'version: 1\nrules:\n  - name: spot-only\n    allow: [azure/eastus]\n    spot: require\n' >"$TMP/sr.yaml"
printf 'location,instance_type,nodes,spot_nodes\nazure/eastus,Standard_NC24ads_A100_v4,4,4\n' >"$TMP/sr-f.csv"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s,checkpoint_s\n0,d,t,batch,A100-80GB,1,36000,36500,\n' >"$TMP/sr-w.csv"
mkdir -p "$TMP/sr-ks"
run 0 timeout 120 "$STRATUS" simulate --workload "$TMP/sr-w.csv" --fleet "$TMP/sr-f.csv" --org-policy "$TMP/sr.yaml" \
  --policies stratus --json --keep-stores "$TMP/sr-ks"
[ "$(json 'j[0]["failed"] == 0 and j[0]["spot_share"] == 1')" = True ] ||
  fail "a spot-only job with a deadline runs on spot: $OUT"
# and its log says so, not that it moves to on-demand
STRATUS_HOME=$TMP/sr-ks run 0 "$STRATUS" events 1
has "$OUT" "its spec or policy keeps it on spot: stays on spot, and may miss its deadline"
case $OUT in *"on-demand from now on"*) fail "a spot-only job's log says it moves to on-demand: $OUT" ;; esac
STRATUS_HOME=$TMP/sr-ks "$STRATUS" controller stop >/dev/null 2>&1
ok "simulate: the deadline rule does not hold back a job its policy keeps on spot"

if [ -d "${SHARED_DATA:-}/traces/gpu-training-msft-itp-2021" ]; then
  D=$SHARED_DATA/traces
  "$STRATUS" trace convert --from itp "$D/gpu-training-msft-itp-2021/cluster01.csv" --out "$TMP/itp.csv" 2>/dev/null
  "$STRATUS" trace convert --from skypilot-spot "$D/spot-availability-skypilot" \
    --mapping "$EX/sim/spot-mapping.csv" --horizon 40d --out "$TMP/spot.csv" 2>/dev/null
  run 0 "$STRATUS" simulate --workload "$TMP/itp.csv" --spot "$TMP/spot.csv" --fleet "$EX/sim/fleet.csv" \
    --org-policy "$EX/policy.yaml" --json
  [ "$(json 'j[0]["cost"] < j[3]["cost"]')" = True ] || fail "on ITP cluster01 stratus must cost less than spot-else-ondemand: $OUT"
  [ "$(json 'j[0]["deadline_misses"] <= j[3]["deadline_misses"]')" = True ] || fail "and miss no more deadlines"
  [ "$(json 'j[0]["cost"] > j[4]["cost"]')" = True ] || fail "and stay above the bound"
  ok "simulate: on real ITP and spot traces stratus beats spot-else-ondemand and azure-ondemand, above the bound"
else
  echo "# skipped the ITP study: no shared data at ${SHARED_DATA:-(unset)}"
fi
echo "$checks checks passed"
