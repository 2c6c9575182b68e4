#!/usr/bin/env bash
# Black-box tests of `stratus simulate --service`: one service on a request
# trace in virtual time under each policy.  Every request accounted for,
# the JSON and the table agree, the same seed gives the same numbers, the
# policies keep the invariants issue 13 asks for (stratus at least 40%
# cheaper than ondemand, >= 99.9% served, P99 TTFT within the objective,
# better P99 than skyserve-like at no more cost, no policy below the bound),
# the chart, and bad input is a clear error.  With the shared Mooncake trace
# present, also its hour.
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
SIM=("$STRATUS" simulate --service "$EX/sim/serve-llm-h100.yaml" --requests "$TMP/r.csv" --policies stratus)

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

# The invariants, on an hour of short requests (0.8-2.8k prompt tokens) at
# 4/s then 7/s from three regions, the example service with a 2 s objective.
awk 'BEGIN {
  print "arrival_s,input_tokens,output_tokens,region"
  split("azure/eastus gcp/europe-west4 gcp/asia-northeast1", reg, " ")
  n = 0
  for (t = 0; t < 1200; t += 1 / 4) printf "%.3f,%d,%d,%s\n", t, 800 + (n * 37) % 2000, 50 + (n++ * 13) % 300, reg[n % 3 + 1]
  for (t = 1200; t < 3600; t += 1 / 7) printf "%.3f,%d,%d,%s\n", t, 800 + (n * 37) % 2000, 50 + (n++ * 13) % 300, reg[n % 3 + 1]
}' >"$TMP/r2.csv"
sed 's/latency_slo_ms: [0-9]*/latency_slo_ms: 2000/' "$EX/sim/serve-llm-h100.yaml" >"$TMP/svc2.yaml"
run 0 "$STRATUS" simulate --service "$TMP/svc2.yaml" --requests "$TMP/r2.csv" --json --chart "$TMP/c.svg"
echo "$OUT" >"$TMP/all.json"
[ "$(json '[p["policy"] for p in j] == ["stratus", "ondemand", "spot-only", "skyserve-like", "bound"]')" = True ] ||
  fail "the default policies, in order: $OUT"
[ "$(python3 -c 'import json,sys
j = {p["policy"]: p for p in json.load(open(sys.argv[1]))}
s, o, so, k, b = j["stratus"], j["ondemand"], j["spot-only"], j["skyserve-like"], j["bound"]
ok = [
  ("stratus >= 40% cheaper than ondemand", s["cost"] <= 0.6 * o["cost"]),
  ("stratus serves >= 99.9%", s["served"] >= 0.999 * s["requests"]),
  ("stratus P99 TTFT within the objective", s["ttft_s"]["p99"] * 1000 <= s["latency_slo_ms"]),
  ("stratus P99 below skyserve-like", s["ttft_s"]["p99"] < k["ttft_s"]["p99"]),
  ("stratus costs no more than skyserve-like", s["cost"] <= k["cost"] + 1e-9),
  ("ondemand buys no spot, in one cloud", o["cost_spot"] == 0 and sum(v > 0 for v in o["cost_by_cloud"].values()) == 1),
  ("spot-only buys no on-demand", so["cost_ondemand"] == 0 and so["cost_spot"] > 0),
  ("the bound is below every policy", b.get("lower_bound") and all(b["cost"] <= j[p]["cost"] for p in j if p != "bound")),
  ("every request accounted for", all(j[p]["served"] + j[p]["failed"] == j[p]["requests"] for p in j if p != "bound")),
]
bad = [n for n, v in ok if not v]
print("ok" if not bad else "; ".join(bad))' "$TMP/all.json")" = ok ] || fail "invariants: $(python3 -c 'import json,sys
for p in json.load(open(sys.argv[1])): print(p["policy"], round(p["cost"], 2), p["served"], p["requests"], p["ttft_s"]["p99"])' "$TMP/all.json")"
ok "simulate --service: the policies keep the issue's invariants"

head -c 5 "$TMP/c.svg" | grep -q "<svg" || fail "the chart must be SVG"
for p in stratus ondemand spot-only skyserve-like; do
  grep -q ">$p<" "$TMP/c.svg" || fail "the chart lacks a row for $p"
done
grep -q "SLO 2.0 s" "$TMP/c.svg" || fail "the chart lacks the objective"
if command -v xmllint >/dev/null; then xmllint --noout "$TMP/c.svg" || fail "the chart is not well-formed XML"; fi
ok "simulate --service --chart: an SVG with a row per policy"

# An objective no offer meets for some users (users in Sao Paulo, where no
# cloud sells an H100:1, and 5 ms): no bound, a clear line, the policies
# still compare.
sed 's/latency_slo_ms: [0-9]*/latency_slo_ms: 5/; s|users: {.*}|users: {gcp/southamerica-east1: 1}|' "$EX/sim/serve-llm-h100.yaml" >"$TMP/far.yaml"
run 0 "$STRATUS" simulate --service "$TMP/far.yaml" --requests "$TMP/r.csv" --policies stratus,bound --json
has "$ERR" "no lower bound"
[ "$(json 'len(j) == 1 and j[0]["policy"] == "stratus"')" = True ] || fail "only the stratus row: $OUT"
ok "simulate --service: an objective nothing meets gives no bound, and says so"

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
run 2 "${SIM[@]}" --policies stratus,nope
has "$ERR" "nope"
has "$ERR" "skyserve-like"
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
