#!/usr/bin/env bash
# Black-box tests of `stratus trace`: the converters on the fixtures (exact
# bytes), a converted SkyPilot 1-node trace read the right way up by
# `stratus simulate`, bad input (file:line, exit 2), and, when the shared
# data is there, the real public traces: all six ITP clusters (37,846 jobs),
# a SkyPilot spot file, the GCP price history.
. "$(dirname "$0")/lib.sh"
TD="$SOURCE_DIR/tests/data/trace"
MINI="$SOURCE_DIR/tests/data/catalog-mini"

# --- fixtures ---
run 0 "$STRATUS" trace convert --from itp "$TD/itp/c1.csv" "$TD/itp/c2.csv" --seed 7
[ "$OUT" = "$(cat "$TD/itp-seed7.csv")" ] || fail "itp output differs: $OUT"
has "$ERR" "itp: 9 rows read, 6 kept, 3 dropped"
has "$ERR" "dropped        1  job id seen before (duplicate)"
ok "convert itp: fixture to the expected bytes, drops reported on stderr"
run 0 "$STRATUS" trace convert --from itp "$TD/itp" --seed 7 --out "$TMP/itp.csv"
cmp -s "$TMP/itp.csv" "$TD/itp-seed7.csv" || fail "--out differs from stdout"
[ ! -e "$TMP/itp.csv.tmp" ] || fail "temporary file left behind"
run 0 "$STRATUS" trace convert --from itp "$TD/itp" --seed 8
[ "$OUT" != "$(cat "$TD/itp-seed7.csv")" ] || fail "another seed gave the same bytes"
ok "convert itp: a folder, --out, and another seed"
run 0 "$STRATUS" trace convert --from alibaba "$TD/alibaba/pods.csv" --seed 7
[ "$OUT" = "$(cat "$TD/alibaba-seed7.csv")" ] || fail "alibaba output differs: $OUT"
has "$ERR" "dropped        1  CPU-only pod (num_gpu 0)"
ok "convert alibaba: fixture to the expected bytes"
run 0 "$STRATUS" trace convert --from skypilot-spot "$TD/spot" --mapping "$TD/spot-mapping.csv" \
  --catalog "$MINI"
[ "$OUT" = "$(cat "$TD/spot-expected.csv")" ] || fail "spot output differs: $OUT"
has "$ERR" "1-node (1 = available), available 50.0%"
ok "convert skypilot-spot: 1 = available in 1-node files (preempted = 1 - value), counts in 16-node ones"
# The simulator reads a converted 1-node trace the right way up: one 30-min
# spot-allowed job at time 0 runs on spot when the first tick is 1 (available)
# and on demand when it is 0.
mkdir -p "$TMP/sky/1-node"
printf 'trace_file,location,instance_type\n1-node/a.json,gcp/us-central1/us-central1-a,a3-highgpu-8g\n' >"$TMP/sky-map.csv"
printf 'location,instance_type,nodes,spot_nodes\ngcp/us-central1/us-central1-a,a3-highgpu-8g,1,1\n' >"$TMP/sky-fleet.csv"
printf 'submit_s,job_id,team,kind,accelerator,gpus,duration_s,spot_ok\n0,j1,lab,batch,H100,8,1800,1\n' >"$TMP/sky-w.csv"
for first in 1 0; do
  printf '{"metadata": {"gap_seconds": 3600}, "data": [%d, %d, %d]}' "$first" $((1 - first)) $((1 - first)) \
    >"$TMP/sky/1-node/a.json"
  run 0 "$STRATUS" trace convert --from skypilot-spot "$TMP/sky" --mapping "$TMP/sky-map.csv" \
    --catalog "$MINI" --out "$TMP/sky-spot.csv"
  run 0 "$STRATUS" simulate --workload "$TMP/sky-w.csv" --fleet "$TMP/sky-fleet.csv" \
    --spot "$TMP/sky-spot.csv" --catalog "$MINI" --policies stratus --json
  [ "$(json 'j[0]["spot_share"]')" = "$first.0" ] ||
    fail "first tick $first: spot share $(json 'j[0]["spot_share"]'), expected $first.0"
  [ "$(json 'j[0]["preemptions"]')" = 0 ] || fail "first tick $first: preempted: $OUT"
done
ok "convert skypilot-spot + simulate: a 1-node tick of 1 gives spot capacity, 0 none"
run 0 "$STRATUS" trace convert --from gcp-prices "$TD/gcp/prices.csv" --catalog "$MINI"
[ "$OUT" = "$(cat "$TD/gcp-expected.csv")" ] || fail "prices output differs: $OUT"
ok "convert gcp-prices: fixture to the expected bytes"
run 0 "$STRATUS" trace check --workload "$TD/workload.csv" "$TD/workload-min.csv"
has "$OUT" "4 jobs"
ok "check: good files load"

# --- bad input: file:line and exit status 2 ---
run 2 "$STRATUS" trace check --workload "$TD/bad/w-time-backwards.csv"
has "$ERR" "w-time-backwards.csv:4: column 'submit_s': 5 is earlier than 10 on line 2"
run 2 "$STRATUS" trace check --spot "$TD/bad/s-both.csv"
has "$ERR" "s-both.csv:2: set available_nodes or preempted, not both"
printf 'job_id,submission_time,duration,num_gpu\nj1,0,60,1\nj2,0,sixty,1\n' >"$TMP/bad-itp.csv"
run 2 "$STRATUS" trace convert --from itp "$TMP/bad-itp.csv" --out "$TMP/never.csv"
has "$ERR" "bad-itp.csv:3:6: column 'duration': 'sixty' is not a number"
[ ! -e "$TMP/never.csv" ] && [ ! -e "$TMP/never.csv.tmp" ] || fail "a failed conversion left a file"
printf 'trace_file,location,instance_type\n*zone-b*,gcp/us-central1,nope-8g\n' >"$TMP/map.csv"
run 2 "$STRATUS" trace convert --from skypilot-spot "$TD/spot" --mapping "$TMP/map.csv" --catalog "$MINI"
has "$ERR" "map.csv:2: the catalog has no offer of nope-8g at gcp/us-central1"
ok "bad input: file:line errors, non-zero exit, no partial output"
run 2 "$STRATUS" trace convert --from itpp x
has "$ERR" "did you mean 'itp'?"
run 2 "$STRATUS" trace convert --from skypilot-spot "$TD/spot"
has "$ERR" "needs --mapping"
run 2 "$STRATUS" trace convert --from itp "$TD/itp" --seed -1
ok "usage errors"

# --- the shared public traces ---
if [ ! -d "${SHARED_DATA:-}/traces" ]; then
  echo "skipped: no shared data"
  exit 0
fi
tr=$SHARED_DATA/traces
run 0 "$STRATUS" trace convert --from itp "$tr/gpu-training-msft-itp-2021" --out "$TMP/itp-all.csv"
has "$ERR" "itp: 37846 rows read, 37846 kept, 0 dropped"
[ "$(($(wc -l <"$TMP/itp-all.csv") - 1))" -eq 37846 ] || fail "ITP rows: $(wc -l <"$TMP/itp-all.csv")"
run 0 "$STRATUS" trace check --workload "$TMP/itp-all.csv"
has "$OUT" "37846 jobs"
ok "ITP: all six clusters, 37,846 jobs, and the output loads"
printf 'trace_file,location,instance_type\npreemption/1-node/aws-04-22-2023/us-east-1c_v100_1.json,gcp/us-central1/us-central1-a,a3-highgpu-8g\n' >"$TMP/one.csv"
run 0 "$STRATUS" trace convert --from skypilot-spot "$tr/spot-availability-skypilot" --mapping "$TMP/one.csv" \
  --out "$TMP/spot.csv"
has "$ERR" "19961 ticks of 32 s (7.4 days), 1-node (1 = available), available 31.4%"
# the source's first 350 ticks are 0, then 1: not held until 350 x 32 s, then held
[ "$(sed -n 2,3p "$TMP/spot.csv" | tr '\n' ' ')" = "0,gcp/us-central1/us-central1-a,a3-highgpu-8g,,1 11200,gcp/us-central1/us-central1-a,a3-highgpu-8g,,0 " ] ||
  fail "first spot rows: $(sed -n 2,3p "$TMP/spot.csv")"
run 0 "$STRATUS" trace check --spot "$TMP/spot.csv"
run 0 "$STRATUS" trace convert --from skypilot-spot "$tr/spot-availability-skypilot" \
  --mapping "$SOURCE_DIR/examples/sim/spot-mapping.csv" --horizon 90d --out "$TMP/spot-all.csv"
cmp -s "$TMP/spot-all.csv" "$SOURCE_DIR/examples/sim/spot-skypilot.csv" ||
  fail "examples/sim/spot-skypilot.csv is not what the converter makes now"
ok "spot: a SkyPilot 1-node file, and the bundled mapping reproduces examples/sim"
run 0 "$STRATUS" trace convert --from gcp-prices \
  "$tr/spot-price-gcp-gpu-vms-2022-2024/gcp_gpu_vm_prices_2022-02_to_2024-12.csv.xz" \
  --since 2023-06-01 --out "$TMP/prices.csv"
has "$ERR" "gcp-prices: 98221 rows read"
run 0 "$STRATUS" trace check --prices "$TMP/prices.csv"
cmp -s "$TMP/prices.csv" "$SOURCE_DIR/examples/sim/prices-gcp.csv" ||
  fail "examples/sim/prices-gcp.csv is not what the converter makes now"
ok "GCP prices: the .xz history converts, loads, and reproduces examples/sim"
