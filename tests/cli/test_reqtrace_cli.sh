#!/usr/bin/env bash
# Black-box tests of the request traces of `stratus trace`: convert a small
# Mooncake and Alibaba GenAI source (rows, regions from --users, the same
# seed giving the same bytes), --repeat-to at a rate, `trace check
# --requests` on good and bad files (file:line, exit 2, no partial output),
# usage errors; and, when the shared data is there, the real traces (12,031
# Mooncake requests in time order, region shares near the asked ones; the
# Alibaba file; an hour of Mooncake-shaped traffic at 20 requests/s).
. "$(dirname "$0")/lib.sh"

# share REGION FILE: the percentage of FILE's rows with that region.
share() { awk -F, -v r="$1" 'NR > 1 { n++; if ($4 == r) k++ } END { printf "%.1f", 100 * k / n }' "$2"; }
# near A B TOL: |A - B| <= TOL
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; exit !(d <= t && -d <= t) }'; }

printf '%s\n' '{"timestamp": 0, "input_length": 100, "output_length": 10}' \
  '{"timestamp": 1500, "input_length": 200, "output_length": 20, "hash_ids": [1, 2]}' \
  '{"timestamp": 1000, "input_length": 300, "output_length": 30}' >"$TMP/mc.jsonl"
run 0 "$STRATUS" trace convert --from mooncake "$TMP/mc.jsonl" --users aws/us-east-1=1 --service chat
[ "$OUT" = "$(printf 'arrival_s,input_tokens,output_tokens,region,service\n0,100,10,aws/us-east-1,chat\n1,300,30,aws/us-east-1,chat\n1.5,200,20,aws/us-east-1,chat')" ] ||
  fail "mooncake output: $OUT"
has "$ERR" "mooncake: 3 rows read, 3 kept, 0 dropped"
has "$ERR" "arrived earlier than the row before (sorted)"
has "$ERR" "region aws/us-east-1"
ok "convert mooncake: ms to s, sorted, one region, a service column"

run 0 "$STRATUS" trace convert --from mooncake "$TMP/mc.jsonl" --seed 9 --out "$TMP/a.csv"
run 0 "$STRATUS" trace convert --from mooncake "$TMP/mc.jsonl" --seed 9 --out "$TMP/b.csv"
cmp -s "$TMP/a.csv" "$TMP/b.csv" || fail "the same seed gave other bytes"
[ ! -e "$TMP/a.csv.tmp" ] || fail "temporary file left behind"
run 0 "$STRATUS" trace check --requests "$TMP/a.csv"
has "$OUT" "3 requests over 0.00 h"
has "$OUT" "bytes/request"
ok "same seed, same bytes; --out; trace check --requests"

cat >"$TMP/genai.csv" <<'EOF'
gmt_create,predict_type,predict_status,exec_time_seconds,groupId,prompt_length,negative_prompt_length,num_images_per_prompt,num_inference_steps,checkpoint_model_version_id,num_lora
2024-11-15 16:57:50,TXT_2_IMG,SUCCEED,32.0,G0000,63.0,26.0,1.0,30.0,M0000,0
2024-11-15 18:16:14,TXT_2_IMG,PENDING,0.0,G0001,,,,,,0
2024-11-15 18:17:06,TXT_2_IMG,FAILED,36.0,G0001,93.0,,8.0,40.0,M0001,0
EOF
run 0 "$STRATUS" trace convert --from alibaba-genai "$TMP/genai.csv" --users gcp/europe-west4=1
[ "$OUT" = "$(printf 'arrival_s,input_tokens,output_tokens,region,service_s\n0,16,30,gcp/europe-west4,32\n4756,24,320,gcp/europe-west4,36')" ] ||
  fail "alibaba-genai output: $OUT"
has "$ERR" "alibaba-genai: 3 rows read, 2 kept, 1 dropped"
ok "convert alibaba-genai: steps x images, prompt chars / 4, exec time as service_s"

# a source of 10 requests over 9 s, repeated to 10 minutes at 4/s
for i in 0 1 2 3 4 5 6 7 8 9; do
  printf '{"timestamp": %d, "input_length": %d, "output_length": 1}\n' $((i * 1000)) $((i + 1))
done >"$TMP/ten.jsonl"
run 0 "$STRATUS" trace convert --from mooncake "$TMP/ten.jsonl" --repeat-to 10m --rate 4 --out "$TMP/rep.csv"
has "$ERR" "shifted copies each"
n=$(($(wc -l <"$TMP/rep.csv") - 1))
near "$n" 2400 150 || fail "expected about 2400 requests, got $n"
run 0 "$STRATUS" trace check --requests "$TMP/rep.csv"
ok "--repeat-to 10m --rate 4: $n requests, in time order"

# --- errors ---
printf 'arrival_s,input_tokens,output_tokens\n5,1,1\n4,1,1\n' >"$TMP/back.csv"
run 2 "$STRATUS" trace check --requests "$TMP/back.csv"
has "$ERR" "back.csv:3: arrival_s 4 is earlier than 5 on line 2; rows must be in time order"
printf 'arrival_s,input_tokens,output_tokens,region\n0,1,1,eastus\n' >"$TMP/reg.csv"
run 2 "$STRATUS" trace check --requests "$TMP/reg.csv"
has "$ERR" "reg.csv:2: column 'region': 'eastus' is not a region"
printf '{"timestamp": 0, "input_length": 1, "output_length": 1}\n{"timestamp": 1,\n' >"$TMP/badjson.jsonl"
run 2 "$STRATUS" trace convert --from mooncake "$TMP/badjson.jsonl" --out "$TMP/never.csv"
has "$ERR" "badjson.jsonl:2:"
[ ! -e "$TMP/never.csv" ] && [ ! -e "$TMP/never.csv.tmp" ] || fail "a failed conversion left a file"
ok "bad input: file:line errors, exit 2, no partial output"

run 2 "$STRATUS" trace convert --from mooncake "$TMP/mc.jsonl" --users azure/nowhere=1
has "$ERR" "the catalog has no region azure/nowhere"
run 2 "$STRATUS" trace convert --from mooncake "$TMP/mc.jsonl" --users azure/eastus=0.5
has "$ERR" "the shares sum to 0.5"
run 2 "$STRATUS" trace convert --from mooncake "$TMP/mc.jsonl" --rate 5
has "$ERR" "--rate needs --repeat-to"
run 2 "$STRATUS" trace convert --from itp "$TMP/mc.jsonl" --users azure/eastus=1
has "$ERR" "are for --from mooncake or alibaba-genai"
run 2 "$STRATUS" trace convert --from mooncak "$TMP/mc.jsonl"
has "$ERR" "did you mean 'mooncake'?"
run 2 "$STRATUS" trace convert --from mooncake "$TMP/mc.jsonl" --service "a b"
has "$ERR" "--service: 'a b'"
ok "usage errors"

# --- the shared public traces ---
tr=${SHARED_DATA:-}/traces
if [ ! -f "$tr/llm-inference-mooncake-fast25/conversation_trace.jsonl" ]; then
  echo "skipped: no shared data"
  exit 0
fi
run 0 "$STRATUS" trace convert --from mooncake "$tr/llm-inference-mooncake-fast25/conversation_trace.jsonl" \
  --out "$TMP/mooncake.csv"
has "$ERR" "mooncake: 12031 rows read, 12031 kept, 0 dropped"
run 0 "$STRATUS" trace check --requests "$TMP/mooncake.csv"
has "$OUT" "12031 requests over 0.98 h"
for rs in azure/eastus:50 gcp/europe-west4:30 gcp/asia-northeast1:20; do
  s=$(share "${rs%:*}" "$TMP/mooncake.csv")
  near "$s" "${rs#*:}" 2 || fail "${rs%:*} has $s% of the requests, asked ${rs#*:}%"
done
ok "Mooncake: 12,031 requests in time order, default shares within 2 points"

run 0 "$STRATUS" trace convert --from alibaba-genai \
  "$tr/inference-alibaba-genai-diffusion-2024/lora_request_trace.csv" --seed 3 --out "$TMP/genai-all.csv"
has "$ERR" "alibaba-genai: 26823 rows read, 26793 kept, 30 dropped"
has "$ERR" "regions by share and daily cycle"
run 0 "$STRATUS" trace check --requests "$TMP/genai-all.csv"
s=$(share azure/eastus "$TMP/genai-all.csv")
near "$s" 50 2 || fail "azure/eastus has $s% of the Alibaba requests, asked 50%"
ok "Alibaba GenAI: 26,793 requests, calibrated daily-cycle shares"

run 0 "$STRATUS" trace convert --from mooncake "$tr/llm-inference-mooncake-fast25/conversation_trace.jsonl" \
  --repeat-to 1h --rate 20 --users oci/eu-frankfurt-1=0.6,aws/us-west-2=0.4 --out "$TMP/hour.csv"
n=$(($(wc -l <"$TMP/hour.csv") - 1))
near "$n" 72000 2000 || fail "an hour at 20/s: $n requests"
s=$(share oci/eu-frankfurt-1 "$TMP/hour.csv")
near "$s" 60 1 || fail "oci/eu-frankfurt-1 has $s%, asked 60%"
run 0 "$STRATUS" trace check --requests "$TMP/hour.csv"
ok "Mooncake repeated: an hour at 20/s ($n requests), shares as asked"
