#!/usr/bin/env bash
# Black-box tests of `stratus simulate --service`: one service on a request
# trace in virtual time.  Every request accounted for, the JSON and the
# table agree, the same seed gives the same numbers, and bad input is a
# clear error.  With the shared Mooncake trace present, also its hour.
. "$(dirname "$0")/lib.sh"
EX="$SOURCE_DIR/examples"

# 3,000 requests over 25 minutes: 1/s, then 3/s from 600 s, from three regions.
awk 'BEGIN {
  print "arrival_s,input_tokens,output_tokens,region"
  split("azure/eastus gcp/europe-west4 gcp/asia-northeast1", reg, " ")
  n = 0
  for (t = 0; t < 600; t += 1) printf "%.3f,%d,%d,%s\n", t, 800 + (n * 37) % 2000, 50 + (n++ * 13) % 300, reg[n % 3 + 1]
  for (t = 600; t < 1500; t += 1 / 3) printf "%.3f,%d,%d,%s\n", t, 800 + (n * 37) % 2000, 50 + (n++ * 13) % 300, reg[n % 3 + 1]
}' >"$TMP/r.csv"
N=$(($(wc -l <"$TMP/r.csv") - 1))
SIM=("$STRATUS" simulate --service "$EX/sim/serve-llm-h100.yaml" --requests "$TMP/r.csv")

run 0 "${SIM[@]}" --json --seed 3
echo "$OUT" >"$TMP/a.json"
[ "$(json 'j[0]["requests"]')" = "$N" ] || fail "requests: $N expected: $OUT"
[ "$(json 'j[0]["served"] + j[0]["failed"] == j[0]["requests"]')" = True ] || fail "served + failed != requests: $OUT"
[ "$(json 'j[0]["served"] > 0.99 * j[0]["requests"]')" = True ] || fail "at least 99% served: $OUT"
[ "$(json 'j[0]["ttft_s"]["p50"] <= j[0]["ttft_s"]["p90"] <= j[0]["ttft_s"]["p99"] and j[0]["e2e_s"]["p50"] >= j[0]["ttft_s"]["p50"]')" = True ] ||
  fail "percentiles out of order: $OUT"
[ "$(json 'abs(j[0]["cost"] - sum(j[0]["cost_by_cloud"].values())) < 1e-6 and abs(j[0]["cost"] - j[0]["cost_spot"] - j[0]["cost_ondemand"]) < 1e-6')" = True ] ||
  fail "cost by cloud and by mode must add up: $OUT"
[ "$(json 'j[0]["replica_hours"] > 0 and j[0]["cost"] > 0')" = True ] || fail "replicas must have run: $OUT"
ok "simulate --service: every request accounted for, costs add up"

run 0 "${SIM[@]}" --json --seed 3
[ "$(python3 -c 'import json,sys
a = json.load(open(sys.argv[1]))[0]; b = json.loads(sys.argv[2])[0]
for x in (a, b): x.pop("wall_seconds")
print(a == b)' "$TMP/a.json" "$OUT")" = True ] || fail "the same seed must give the same numbers"
ok "simulate --service: deterministic"

run 0 "${SIM[@]}" --seed 3
has "$OUT" "POLICY"
has "$OUT" "TTFT P50/P90/P99"
has "$OUT" "stratus"
ok "simulate --service: the table"

printf 'name: job\nresources:\n  accelerators: H100:1\nrun: x\n' >"$TMP/job.yaml"
run 2 "$STRATUS" simulate --service "$TMP/job.yaml" --requests "$TMP/r.csv"
has "$ERR" "job.yaml"
has "$ERR" "service:"
printf 'arrival_s,input_tokens,output_tokens\n5,10,10\n1,10,10\n' >"$TMP/bad.csv"
run 2 "${SIM[@]/$TMP\/r.csv/$TMP/bad.csv}"
has "$ERR" "bad.csv:3"
run 2 "$STRATUS" simulate --service "$EX/sim/serve-llm-h100.yaml"
has "$ERR" "--requests"
run 2 "${SIM[@]}" --policies spot-only
has "$ERR" "stratus"
run 2 "${SIM[@]}" --seed -4
has "$ERR" "--seed"
ok "simulate --service: bad input is a clear error"

MC="$SOURCE_DIR/../shared/data/traces/llm-inference-mooncake-fast25/conversation_trace.jsonl"
if [ -f "$MC" ]; then
  run 0 "$STRATUS" trace convert --from mooncake "$MC"
  echo "$OUT" >"$TMP/mc.csv"
  run 0 "$STRATUS" simulate --service "$EX/sim/serve-llm-h100.yaml" --requests "$TMP/mc.csv" --json
  [ "$(json 'j[0]["served"] + j[0]["failed"] == j[0]["requests"] and j[0]["served"] > 0.99 * j[0]["requests"]')" = True ] ||
    fail "the Mooncake hour: $OUT"
  ok "simulate --service: the Mooncake hour"
fi
