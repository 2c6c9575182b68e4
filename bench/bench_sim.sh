#!/usr/bin/env bash
# Prints how fast the simulator runs (not a test):
#   1. all six shared Microsoft ITP clusters (37,846 jobs) with the shared spot
#      and GCP price traces, every policy, with per-policy wall time, events
#      per second and cost as a ratio to the offline bound (with the size and
#      solve time of the bound's LP), and the table of the README (CHART=FILE
#      keeps the chart; COMMITMENTS=FILE runs the study with those committed
#      nodes: docs/commitments.md);
#      1b. the same with the commitments `stratus advise commitments` recommends
#      from the stratus run's usage (3-year and, when it recommends any, 1-year);
#      1c. the Alibaba openb trace, which nothing was tuned on;
#      1e. the same on a 14-node fleet (bench/fleet-small.csv), where thousands
#      of jobs wait at once: how long the controller's steps take then;
#   2. a synthetic 1,000,000-job study on a 64k-GPU fleet over 90 days (the
#      stratus policy), with wall time and peak memory.
# usage: bench/bench_sim.sh [BUILD_DIR] [SHARED_DATA]   (Release build advised)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-rel}
D=${2:-../shared/data}
S=$B/stratus
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

POLICIES=stratus,azure-ondemand,cheapest-ondemand,spot-else-ondemand,cbl-greedy,offline-bound

# study NAME WORKLOAD [simulate options...]: every policy on one workload
# with the spot and GCP price traces; timings, then the README's table.
study() {
  local name=$1 work=$2
  shift 2
  /usr/bin/time -f "wall %e s, peak RSS %M KiB" $S simulate --workload "$work" \
    --spot "$W/spot.csv" --prices examples/sim/prices-gcp.csv --fleet examples/sim/fleet.csv \
    --org-policy examples/policy.yaml --json --policies "$POLICIES" "$@" \
    >"$W/$name.json" 2>"$W/$name.err"
  python3 - "$W/$name.json" <<'PY'
import json, sys
rs = json.load(open(sys.argv[1]))
for r in rs:
    if r["lower_bound"]:
        lp = r["lp"]
        print(f'{r["policy"]:18s} ${r["cost"]:>14,.0f}  {r["wall_seconds"]:6.2f} s  (lower bound: an LP of {lp["rows"]:,} rows,'
              f' {lp["columns"]:,} columns, {lp["nonzeros"]:,} nonzeros; schedules done by {lp["horizon_days"]:.1f} days)')
        continue
    ev = r["transitions"] / r["wall_seconds"]
    print(f'{r["policy"]:18s} ${r["cost"]:>14,.0f}  {r["wall_seconds"]:6.2f} s  {r["transitions"]:>8} transitions  {ev:>9,.0f} transitions/s'
          f'  {r.get("ratio_to_bound", 0):.3f} x bound')
by = {r["policy"]: r for r in rs}
if "stratus" in by and "spot-else-ondemand" in by:
    print(f'stratus / spot-else-ondemand: {by["stratus"]["cost"] / by["spot-else-ondemand"]["cost"]:.3f};'
          f' stratus / cbl-greedy: {by["stratus"]["cost"] / by.get("cbl-greedy", by["stratus"])["cost"]:.3f}')
if any("commitment_use" in r for r in rs):
    print("committed node-hours that ran work (of " +
          f'{rs[0]["commitment_use"]["node_hours"]:,.0f}): ' +
          ", ".join(f'{r["policy"]} {100 * r["commitment_use"]["utilisation"]:.1f}%'
                    for r in rs if "commitment_use" in r))
print("\nThe README's table:\n")
print("| policy | cost | / bound | compute | lost work | egress | storage | commitments | Azure | GCP | OCI | AWS | preemptions | mean JCT | deadline misses | spot |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rs:
    c = r["cost_by_cloud"]
    sp = r["cost_split"]
    ratio = "1" if r["lower_bound"] else f'{r.get("ratio_to_bound", 0):.2f}'
    clouds = " | ".join(f'${c[k]:,.0f}' for k in ("azure", "gcp", "oci", "aws"))
    split = f'${sp["compute"]:,.0f} | ${sp["lost_work"]:,.0f} | ${sp["egress"]:,.0f} | ${sp["storage"]:,.0f} | ${sp["commitments"]:,.0f}'
    if r["lower_bound"]:
        print(f'| {r["policy"]} | ${r["cost"]:,.0f} | {ratio} | {split} | {clouds} | (a lower bound) | | | |')
    else:
        print(f'| {r["policy"]} | ${r["cost"]:,.0f} | {ratio} | {split}'
              f' | {clouds} | {r["preemptions"]:,} | {r["mean_jct_hours"]:.1f} h'
              f' | {r["deadline_misses"]} / {r["deadline_jobs"]:,} | {100 * r["spot_share"]:.1f}% |')
PY
  tail -1 "$W/$name.err"
}

echo "== 1. ITP, all six clusters, with the spot and GCP price traces"
$S trace convert --from itp "$D/traces/gpu-training-msft-itp-2021" --out "$W/itp.csv" 2>/dev/null
$S trace convert --from skypilot-spot "$D/traces/spot-availability-skypilot" \
  --mapping examples/sim/spot-mapping.csv --horizon 90d --out "$W/spot.csv" 2>/dev/null
echo "jobs: $(($(wc -l <"$W/itp.csv") - 1)), spot rows: $(($(wc -l <"$W/spot.csv") - 1))"
study itp "$W/itp.csv" --chart "${CHART:-$W/itp.svg}" ${COMMITMENTS:+--commitments "$COMMITMENTS"}

echo
echo "== 1b. ITP with the advisor's commitments (stratus advise commitments on the"
echo "   stratus run's own usage above: in-sample; 3-year term, the published 'up to' level)"
mkdir -p "$W/keep" # the stratus run again, its store kept (SQLite) for the advisor
$S simulate --workload "$W/itp.csv" --spot "$W/spot.csv" --prices examples/sim/prices-gcp.csv \
  --fleet examples/sim/fleet.csv --org-policy examples/policy.yaml --policies stratus \
  --keep-stores "$W/keep" >/dev/null 2>&1
$S advise commitments --store "$W/keep/stratus.db" --org-policy examples/policy.yaml --term 3y \
  --out "$W/commit-3y.csv" | grep -v ' 0 .* $0.00 *$0.00$' || true
cat "$W/commit-3y.csv"
study itp-3y "$W/itp.csv" --commitments "$W/commit-3y.csv"
if $S advise commitments --store "$W/keep/stratus.db" --org-policy examples/policy.yaml --term 1y \
  --out "$W/commit-1y.csv" >/dev/null &&
  [ "$(wc -l <"$W/commit-1y.csv")" -gt 1 ]; then
  echo "   1-year term:"; cat "$W/commit-1y.csv"
  study itp-1y "$W/itp.csv" --commitments "$W/commit-1y.csv"
else
  echo "   1-year term: the advisor recommends no commitment (no offer's usage reaches the break-even)"
fi

echo
echo "== 1d. ITP, stratus with the policy's patience at 0x (none), 1x (examples/policy.yaml), 3x, 5x"
echo "   and 10x (docs/patience.md): cost against the bound of part 1, and time to completion"
for p in 0x 1x 3x 5x 10x; do
  sed "s/patience: 1x/patience: $p/" examples/policy.yaml >"$W/policy-$p.yaml"
  $S simulate --workload "$W/itp.csv" --spot "$W/spot.csv" --prices examples/sim/prices-gcp.csv \
    --fleet examples/sim/fleet.csv --org-policy "$W/policy-$p.yaml" --policies stratus --json \
    >"$W/patience-$p.json" 2>/dev/null
  python3 - "$W/patience-$p.json" "$W/itp.json" "$p" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))[0]
b = [x for x in json.load(open(sys.argv[2])) if x["lower_bound"]][0]
sp = r["cost_split"]
print(f'patience {sys.argv[3]}: ${r["cost"]:,.0f} = {r["cost"] / b["cost"]:.3f} x bound; egress ${sp["egress"]:,.0f},'
      f' lost work ${sp["lost_work"]:,.0f}; mean JCT {r["mean_jct_hours"]:.1f} h, mean queue {r["mean_queue_hours"]:.2f} h;'
      f' deadline misses {r["deadline_misses"]} / {r["deadline_jobs"]:,}')
PY
done

echo "   where stratus (1x) pays more than the bound, from the store of part 1b's stratus run:"
python3 - "$W/keep/stratus.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = lambda sql: db.execute(sql).fetchone()[0]
dear = q("select total(cost) from attempts where mode = 1 and price_hour > 14 and"
         " instance_type in ('p5.48xlarge', 'a3-highgpu-8g')")
od = q("select total(a.cost) from attempts a join jobs j on j.id = a.job_id where a.mode = 0"
       " and j.deadline_at = 0 and a.instance_type like 'Standard_NC%'")
print(f'8 x H100 spot at more than $14/h: ${dear:,.0f};'
      f' batch without a deadline on Azure A100 on demand: ${od:,.0f}')
PY

echo
echo "== 1c. Alibaba openb (a trace the policies were not tuned on), same converter rules and seed"
$S trace convert --from alibaba "$D/traces/gpu-cluster-alibaba-openb-2023/openb_pod_list_default.csv" \
  --out "$W/ali.csv" 2>/dev/null
echo "jobs: $(($(wc -l <"$W/ali.csv") - 1))"
study ali "$W/ali.csv"
echo "   what the 0.95 x spot-else-ondemand target leaves (README, 'Against the targets'):"
awk -F, 'NR == 1 || $4 != "infer"' "$W/ali.csv" >"$W/ali-noinf.csv"
mkdir -p "$W/alikeep"
$S simulate --workload "$W/ali-noinf.csv" --spot "$W/spot.csv" --prices examples/sim/prices-gcp.csv \
  --fleet examples/sim/fleet.csv --org-policy examples/policy.yaml --policies offline-bound --json \
  >"$W/ali-noinf.json" 2>/dev/null
$S simulate --workload "$W/ali.csv" --spot "$W/spot.csv" --prices examples/sim/prices-gcp.csv \
  --fleet examples/sim/fleet.csv --org-policy examples/policy.yaml \
  --policies stratus,spot-else-ondemand --keep-stores "$W/alikeep" >/dev/null 2>&1
python3 - "$W/ali.json" "$W/ali-noinf.json" "$W/alikeep" <<'PY'
import json, sqlite3, sys
rs = {r["policy"]: r for r in json.load(open(sys.argv[1]))}
noinf = json.load(open(sys.argv[2]))[0]["cost"]
target = 0.95 * rs["spot-else-ondemand"]["cost"]
print(f'target ${target:,.0f}; the bound of the work other than inference alone ${noinf:,.0f};'
      f' left for inference ${target - noinf:,.0f}')
for p in ("stratus", "spot-else-ondemand"):  # jobs.kind 2 = inference (enum spec_kind)
    db = sqlite3.connect(f"{sys.argv[3]}/{p}.db")
    inf = db.execute("select total(a.cost) from attempts a join jobs j on j.id = a.job_id"
                     " where j.kind = 2").fetchone()[0]
    print(f'{p}: inference (kept on Azure on demand) ${inf:,.0f}')
PY

echo "== 1e. Alibaba openb on a 14-node fleet (bench/fleet-small.csv): thousands wait at once"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" $S simulate --workload "$W/ali.csv" \
  --fleet bench/fleet-small.csv --org-policy examples/policy.yaml --policies stratus 2>&1 |
  grep -E '^stratus:|^wall'

echo "== 2. synthetic: 1,000,000 jobs, 64k GPUs, 90 days"


awk 'BEGIN {
  srand(11); print "submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s,checkpoint_s,data_location,data_gb"
  n = 1000000; span = 90 * 86400
  for (i = 0; i < n; i++) {
    t = int(i * span / n); r = rand()
    g = r < 0.45 ? 1 : r < 0.65 ? 2 : r < 0.8 ? 4 : r < 0.95 ? 8 : r < 0.99 ? 16 : 64
    d = int(600 + -log(rand()) * 3 * 3600)
    kind = (g >= 2 && d > 4 * 3600) ? "train" : "batch"
    acc = g >= 8 ? "H100" : "A100-80GB"
    dl = (kind == "batch" && rand() < 0.3) ? int(d * (1.5 + 2.5 * rand())) : ""
    ck = d > 3600 ? 1800 : ""
    printf "%d,s%d,lab,%s,%s,%d,%d,%s,%s,azure/eastus,%d\n", t, i, kind, acc, g, d, dl, ck, int(rand() * 200)
  }
}' >"$W/synth.csv"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" $S simulate --workload "$W/synth.csv" \
  --fleet bench/fleet-64k.csv --org-policy examples/policy.yaml --policies stratus \
  --json >"$W/synth.json" 2>"$W/synth.err"
python3 - "$W/synth.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))[0]
print(f'{r["policy"]}: {r["jobs"]} jobs, {r["failed"]} failed, ${r["cost"]:,.0f}, {r["transitions"]} transitions in {r["wall_seconds"]:.1f} s ({r["transitions"]/r["wall_seconds"]:,.0f}/s), mean queue {r["mean_queue_hours"]:.2f} h')
PY
tail -1 "$W/synth.err"
