#!/usr/bin/env bash
# Prints how fast request traces are made and read (not a test):
#   1. the shared Mooncake hour converted (12,031 requests);
#   2. issue 13's week of traffic at 50 requests/s generated from its shape
#      (--repeat-to 7d --rate 50, ~30 M requests): wall and CPU time, peak
#      memory, file size;
#   3. that week loaded by `stratus trace check --requests`: load time, rows
#      per second (wall and CPU), bytes per request in memory, peak memory.
# usage: bench/bench_reqtrace.sh [BUILD_DIR] [SHARED_DATA] [RATE] [DURATION]
#        (Release build advised; defaults build-rel ../shared/data 50 7d)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-rel}
D=${2:-../shared/data}
RATE=${3:-50}
DUR=${4:-7d}
S=$B/stratus
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
MC=$D/traces/llm-inference-mooncake-fast25/conversation_trace.jsonl
TIME="wall %e s, CPU %U s user + %S s sys, peak RSS %M KiB"

if [ ! -f "$MC" ]; then
  echo "no shared Mooncake trace at $MC: using a synthetic 1-hour source"
  MC=$W/source.jsonl
  awk 'BEGIN { srand(1); for (i = 0; i < 12000; i++)
    printf "{\"timestamp\": %d, \"input_length\": %d, \"output_length\": %d}\n",
           i * 300, 500 + int(rand() * 20000), 10 + int(rand() * 800) }' >"$MC"
fi

echo "== 1. convert the source"
/usr/bin/time -f "$TIME" $S trace convert --from mooncake "$MC" --out "$W/hour.csv" 2>&1 |
  grep -E "rows read|wall"

echo "== 2. generate $DUR at $RATE requests/s from its shape"
/usr/bin/time -f "$TIME" $S trace convert --from mooncake "$MC" --repeat-to "$DUR" \
  --rate "$RATE" --out "$W/long.csv" 2>&1 | grep -E "repeat|region|wall"
echo "file: $(($(wc -l <"$W/long.csv") - 1)) requests, $(du -m "$W/long.csv" | cut -f1) MB"

echo "== 3. load it"
/usr/bin/time -f "$TIME" $S trace check --requests "$W/long.csv" 2>&1 >"$W/check.out" |
  tee "$W/check.time"
cat "$W/check.out"
rows=$(awk '{ print $1; exit }' "$W/check.out")
cpu=$(awk '/CPU/ { print $5 + $9 }' "$W/check.time")
awk -v n="$rows" -v c="$cpu" 'BEGIN { if (c > 0) printf "CPU: %.2f M rows/s (user + sys)\n", n / c / 1e6 }'
