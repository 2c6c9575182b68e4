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
# only Azure, nothing may be spent elsewhere (before, cheapest-ondemand went to
# the cheapest cloud and the bound ignored the policy).
printf 'rules:\n  - name: only-azure\n    allow: [azure]\n' >"$TMP/azure.yaml"
run 0 "$STRATUS" simulate --workload "$TMP/w.csv" --fleet "$EX/sim/fleet.csv" --org-policy "$TMP/azure.yaml" --json
for i in 0 1 2 3 4; do
  [ "$(json "abs(j[$i]['cost_by_cloud']['azure'] - j[$i]['cost']) < 1e-6 * j[$i]['cost'] and j[$i]['cost'] > 0")" = True ] ||
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
has "$ERR" "1 job can never run: nothing changed for 30 days with nothing running; job w1: waiting for capacity"
ok "simulate: a job the fleet never has room for is an error, not a hang"

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
ok "simulate: a price change mid-run bills each stretch at the price then in force"

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
