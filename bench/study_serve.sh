#!/usr/bin/env bash
# Prints the README's serving study (not a test): the shared Mooncake
# conversation trace as it is (12,031 requests, one hour) and a day of
# traffic of its shape (`--repeat-to 1d`: 294,098 requests, users' regions
# following the day), each with examples/sim/serve-llm-h100.yaml under every
# policy, the SkyPilot spot traces mapped onto the H100 offers
# (examples/sim/spot-serve.csv) and the GCP price history
# (examples/sim/prices-gcp.csv), on the lab's four clouds
# (examples/sim/lab-clouds.yaml: not Lambda or Nebius).  One markdown table per trace, then the
# issue's invariants checked on each.  CHART=DIR keeps each trace's chart.
# usage: bench/study_serve.sh [BUILD_DIR] [SHARED_DATA]   (defaults build-rel ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-rel}
D=${2:-../shared/data}
S=$B/stratus
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
MC=$D/traces/llm-inference-mooncake-fast25/conversation_trace.jsonl
[ -f "$MC" ] || { echo "no shared Mooncake trace at $MC" >&2; exit 2; }

$S trace convert --from mooncake "$MC" --out "$W/hour.csv" 2>/dev/null
$S trace convert --from mooncake "$MC" --repeat-to 1d --out "$W/day.csv" 2>/dev/null

for t in hour day; do
  chart=()
  [ -n "${CHART:-}" ] && chart=(--chart "$CHART/serve-$t.svg")
  $S simulate --service examples/sim/serve-llm-h100.yaml --requests "$W/$t.csv" \
    --spot examples/sim/spot-serve.csv --prices examples/sim/prices-gcp.csv \
    --org-policy examples/sim/lab-clouds.yaml --json \
    "${chart[@]}" >"$W/$t.json" 2>/dev/null
  python3 - "$W/$t.json" "$t" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
j = {r["policy"]: r for r in rows}
n = rows[0]["requests"]
print(f"\n{sys.argv[2]}: {n:,} requests\n")
print("| policy | cost | / bound | GCP | AWS | spot | served | lost | TTFT P50 / P90 / P99 | E2E P99 | within 10 s | min ready | preemptions | replica-h |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
b = j.get("bound", {}).get("cost", 0)
for r in rows:
    c = r["cost_by_cloud"]
    if r.get("lower_bound"):
        print(f'| bound | ${r["cost"]:,.2f} | 1 | ${c["gcp"]:,.2f} | ${c["aws"]:,.2f} | ${r["cost_spot"]:,.2f} | | | | | | | (a lower bound) | {r["replica_hours"]:.1f} |')
        continue
    t, e = r["ttft_s"], r["e2e_s"]
    print(f'| {r["policy"]} | ${r["cost"]:,.2f} | {r["cost"] / b:.2f} | ${c["gcp"]:,.2f} | ${c["aws"]:,.2f} | '
          f'${r["cost_spot"]:,.2f} | {100 * r["served"] / r["requests"]:.3f}% | {r["lost_after_first_token"]} | '
          f'{t["p50"]:.2f} / {t["p90"]:.2f} / {t["p99"]:.2f} s | {e["p99"]:.1f} s | '
          f'{100 * r["within_slo_share"]:.2f}% | {100 * r["min_ready_share"]:.1f}% | {r["preemptions"]} | {r["replica_hours"]:.1f} |')
s, o, k = j["stratus"], j["ondemand"], j["skyserve-like"]
checks = [
    (f"stratus {100 * (1 - s['cost'] / o['cost']):.1f}% cheaper than ondemand (>= 40%)", s["cost"] <= 0.6 * o["cost"]),
    (f"stratus serves {100 * s['served'] / s['requests']:.3f}% (>= 99.9%)", s["served"] >= 0.999 * s["requests"]),
    (f"stratus P99 TTFT {s['ttft_s']['p99']:.2f} s within {s['latency_slo_ms'] / 1000:.0f} s", s["ttft_s"]["p99"] * 1000 <= s["latency_slo_ms"]),
    (f"P99 TTFT stratus {s['ttft_s']['p99']:.2f} s < skyserve-like {k['ttft_s']['p99']:.2f} s", s["ttft_s"]["p99"] < k["ttft_s"]["p99"]),
    (f"cost stratus ${s['cost']:,.2f} <= skyserve-like ${k['cost']:,.2f}", s["cost"] <= k["cost"] + 1e-9),
]
print()
for what, ok in checks:
    print(f"  {'ok  ' if ok else 'MISS'} {what}")
PY
done
