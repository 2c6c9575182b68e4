#!/usr/bin/env bash
# Prints how fast `stratus simulate --service` runs (not a test), issue 13's
# two measurements:
#   1. one hour of the shared Mooncake trace's traffic (--repeat-to 1h
#      --rate 5.5: ~20k requests) with examples/sim/serve-llm-h100.yaml, every
#      policy of the default list: the whole process's wall time and peak
#      memory (goal: < 2 s), each policy's own time;
#   2. a week at RATE requests/s generated from its shape (--repeat-to 7d
#      --rate 50: ~30 M requests, a ~1 GB CSV in a temporary folder under
#      TMPDIR) with that spec scaled to the rate (min_replicas 40,
#      max_replicas 100), one policy (POLICY, default stratus): the load alone
#      (`stratus trace check --requests`), the simulation alone (its
#      wall_seconds) and the whole process, with peak memory and requests
#      simulated per second (goal: < 60 s, < 2 GB).
# usage: bench/bench_sim_serve.sh [BUILD_DIR] [SHARED_DATA] [RATE] [DURATION]
#        (Release build advised; defaults build-rel ../shared/data 50 7d)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-rel}
D=${2:-../shared/data}
RATE=${3:-50}
DUR=${4:-7d}
POLICY=${POLICY:-stratus}
S=$B/stratus
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
MC=$D/traces/llm-inference-mooncake-fast25/conversation_trace.jsonl
SPEC=examples/sim/serve-llm-h100.yaml
TIME="wall %e s, CPU %U s user + %S s sys, peak RSS %M KiB"

if [ ! -f "$MC" ]; then
  echo "no shared Mooncake trace at $MC: using a synthetic 1-hour source"
  MC=$W/source.jsonl
  awk 'BEGIN { srand(1); for (i = 0; i < 12000; i++)
    printf "{\"timestamp\": %d, \"input_length\": %d, \"output_length\": %d}\n",
           i * 300, 500 + int(rand() * 20000), 10 + int(rand() * 800) }' >"$MC"
fi

# The JSON of a run: each policy's requests, its own wall time, its rate.
report() {
  python3 - "$1" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    w = r["wall_seconds"]
    rate = f'{r["requests"] / w:>12,.0f} requests/s' if w > 0 else f'{"(not timed)":>24s}'
    print(f'{r["policy"]:14s} {r["requests"]:>10,} requests  {w:7.2f} s  {rate}'
          f'  cost ${r["cost"]:,.2f}  P99 TTFT {r["ttft_s"]["p99"]:.2f} s')
PY
}

echo "== 1. one hour (--repeat-to 1h --rate 5.5), every policy"
$S trace convert --from mooncake "$MC" --repeat-to 1h --rate 5.5 --out "$W/hour.csv" 2>/dev/null
/usr/bin/time -f "$TIME" -o "$W/hour.time" $S simulate --service "$SPEC" \
  --requests "$W/hour.csv" --json >"$W/hour.json" 2>"$W/hour.err"
report "$W/hour.json"
echo "whole process: $(cat "$W/hour.time")"

echo "== 2. $DUR at $RATE requests/s from its shape, policy $POLICY"
sed 's/max_replicas: 12/max_replicas: 100/; s/min_replicas: 4/min_replicas: 40/' \
  "$SPEC" >"$W/big.yaml"
/usr/bin/time -f "$TIME" $S trace convert --from mooncake "$MC" --repeat-to "$DUR" \
  --rate "$RATE" --out "$W/long.csv" 2>&1 | grep -E "repeat|wall" | sed 's/^/generate: /'
echo "file: $(($(wc -l <"$W/long.csv") - 1)) requests, $(du -m "$W/long.csv" | cut -f1) MB"
/usr/bin/time -f "$TIME" $S trace check --requests "$W/long.csv" 2>&1 | sed 's/^/load alone: /'
/usr/bin/time -f "$TIME" -o "$W/long.time" $S simulate --service "$W/big.yaml" \
  --requests "$W/long.csv" --policies "$POLICY" --json >"$W/long.json" 2>"$W/long.err"
report "$W/long.json"
echo "whole process (load + simulation + results): $(cat "$W/long.time")"
python3 - "$W/long.json" "$W/long.time" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))[0]
t = open(sys.argv[2]).read()
wall = float(re.search(r"wall ([0-9.]+) s", t).group(1))
rss = int(re.search(r"peak RSS ([0-9]+) KiB", t).group(1))
print(f'{r["requests"] / wall:,.0f} requests/s end to end, {rss * 1024 / r["requests"]:.1f} bytes'
      f' of peak memory per request; {r["control_rounds"]:,} control rounds'
      f' over {r["virtual_hours"]:.1f} virtual hours')
PY
