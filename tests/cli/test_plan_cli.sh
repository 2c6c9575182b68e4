#!/usr/bin/env bash
# Black-box tests of `stratus offers` and `stratus plan` on the fixture catalog
# (exact numbers) and on the bundled catalog under the lab's policies.
. "$(dirname "$0")/lib.sh"
# plan and offers ask the home's server (started on first use) unless given
# --catalog: an isolated home on the bundled catalog, its server stopped at exit.
use_home "$SOURCE_DIR/catalog"
MINI="$SOURCE_DIR/tests/data/catalog-mini"
EX="$SOURCE_DIR/examples"

# --- offers ---
run 0 "$STRATUS" offers --catalog "$MINI" --accelerator h100:8
first=$(sed -n 2p <<<"$OUT")
has "$first" "oci"; has "$first" "BM.GPU.H100.8"; has "$first" "80.00"; has "$first" "10.000"
has "$OUT" "5 offers"
ok "offers: H100:8 sorted by price, \$/accelerator-hour shown"
run 0 "$STRATUS" offers --catalog "$MINI" --accelerator H100 --spot --json
[ "$(json 'len(j)')" = 3 ] || fail "3 spot H100 offers expected: $OUT"
[ "$(json '[o["spot_price_hour"] for o in j]')" = "[30.0, 33.0, 40.0]" ] || fail "spot order: $OUT"
ok "offers --spot --json: only spot offers, cheapest first"
run 0 "$STRATUS" offers --catalog "$MINI" --cloud gcp --region us-central1
has "$OUT" "2 offers"; hasnt "$OUT" "europe-west4"
ok "offers: --cloud and --region filter"
run 1 "$STRATUS" offers --catalog "$MINI" --accelerator H10
has "$ERR" "no offer has accelerator 'H10' (did you mean 'H100'?)"
ok "offers: unknown accelerator suggests the nearest"
run 2 "$STRATUS" offers --catalog "$MINI" --limit x
run 2 "$STRATUS" offers --catalog /nonexistent
has "$ERR" "/nonexistent/regions.csv: cannot open"
ok "offers: bad options and a missing catalog are clear errors"
# Nebius's long instance names widen their column; 0.5 GiB of memory is not 0G
run 0 "$STRATUS" offers --offline --cloud nebius --limit 0
[ "$(awk '{ print length($0) }' <<<"$OUT" | sed '$d' | sort -u | wc -l)" = 1 ] ||
  fail "the offers table is not in line: $OUT"
has "$OUT" "gpu-h100-sxm_8gpu-128vcpu-1600gb H100:8 "
run 0 "$STRATUS" offers --offline --cloud azure --limit 1
has "$OUT" "   0.5G "
ok "offers: columns as wide as the longest name shown; fractional memory kept"

# --- plan on the fixture catalog: exact numbers ---
cat >"$TMP/gang.yaml" <<'YAML'
name: gang
resources:
  accelerators: H100:8
num_nodes: 2
stratus:
  kind: batch
  duration: 10h
  checkpoint: {interval: 30m, restore: 6m}
YAML
cp -r "$MINI" "$TMP/nocommit" && rm "$TMP/nocommit/commitments.csv"
run 0 "$STRATUS" plan "$TMP/gang.yaml" --catalog "$MINI" --json
[ "$(json 'j["candidates"][0]["mode"]')" = committed ] || fail "committed capacity first: $OUT"
[ "$(json 'j["candidates"][0]["expected_cost"]')" = 0.0 ] || fail "committed is already paid: $OUT"
ok "plan: capacity already paid for (commitments.csv) is used first"
run 0 "$STRATUS" plan "$TMP/gang.yaml" --catalog "$TMP/nocommit" --json
[ "$(json 'j["workload"]')" = gang ] || fail "workload name: $OUT"
[ "$(json 'j["candidates"][0]["region"]')" = us-central1 ] || fail "best region: $OUT"
[ "$(json 'j["candidates"][0]["spot"]')" = True ] || fail "best is spot: $OUT"
# 30/h x 2 nodes x 10 h = 600; preemption: 20 stretches of 30 min between
# checkpoints at 2 x 0.2 preemptions an hour, each retry after 0.1 h of
# restore, take e^0.04 (e^0.2 - 1) / 0.4 h each: 1.5219 h past the 10 of a
# 60/h gang = 91.3151 (to first order, 4 preemptions x 0.35 h x 60 = 84)
[ "$(json 'j["candidates"][0]["breakdown"]["compute"]')" = 600.0 ] || fail "compute: $OUT"
[ "$(json 'j["candidates"][0]["breakdown"]["preemption"]')" = 91.3151 ] || fail "preemption: $OUT"
[ "$(json 'j["candidates"][0]["expected_cost"]')" = 691.3151 ] || fail "expected: $OUT"
[ "$(json 'j["candidates"][0]["hourly_cost"]')" = 60.0 ] || fail "hourly: $OUT"
[ "$(json 'j["excluded"]')" = "{'accelerator_count': 2, 'not_sold': 2}" ] || fail "excluded: $OUT"
[ "$(json 'sorted(j["candidates"][0].keys())')" = "['accelerator', 'accelerators_per_node', 'breakdown', 'cloud', 'duration_hours', 'expected_cost', 'hourly_cost', 'instance_type', 'mode', 'nodes', 'policy_tier', 'price_hour', 'rank', 'region', 'speed', 'spot', 'zone']" ] || fail "candidate keys: $OUT"
ok "plan --json: ranked candidates with the cost breakdown"

run 0 "$STRATUS" plan "$TMP/gang.yaml" --catalog "$TMP/nocommit" --top 3
has "$OUT" "gcp/us-central1/us-central1-a"; has "$OUT" "\$691.32"
has "$OUT" "8 feasible of 12 candidates considered (--top 0 shows all)"
# the rates the PREEMPT column is priced at: those of the spot rows shown
# (gcp/us-central1 H100 0.2, gcp 0.1, the rest 0.05), and where they come from
has "$OUT" "PREEMPT: the work spot preemptions are expected to lose, at 0.2, 0.1 or 0.05 preemptions per node-hour (the catalog's preemption.csv"
run 0 "$STRATUS" plan "$TMP/gang.yaml" --catalog "$TMP/nocommit" --top 1
has "$OUT" "at 0.2 preemptions per node-hour"
printf 'name: od\nresources:\n  accelerators: H100:8\n  use_spot: false\nrun: x\n' >"$TMP/od.yaml"
run 0 "$STRATUS" plan "$TMP/od.yaml" --catalog "$TMP/nocommit"
hasnt "$OUT" "PREEMPT:" # no spot row: no rate to name
# a commitment that ends 2 h into a 10 h run: the committed row's COMPUTE is
# the 8 h past its end, and the table says so (helper-103)
cp -r "$TMP/nocommit" "$TMP/ending"
printf 'cloud,region,zone,instance_type,count,start,end,price_hour\nazure,eastus,,Standard_ND96isr_H100_v5,4,2026-01-01,%s,60.00\n' \
  "$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)" >"$TMP/ending/commitments.csv"
run 0 "$STRATUS" plan "$TMP/gang.yaml" --catalog "$TMP/ending" --top 0
grep -Eq "^ +[0-9]+ +azure/eastus +Standard_ND96isr_H100_v5 +committed " <<<"$OUT" || fail "no committed row: $OUT"
has "$OUT" "COMPUTE of a committed row (#"
has "$OUT" "the run past the commitment's end"
cp -r "$TMP/nocommit" "$TMP/nopre" && rm "$TMP/nopre/preemption.csv"
run 0 "$STRATUS" plan "$TMP/gang.yaml" --catalog "$TMP/nopre" --top 2
has "$OUT" "at 0.05 preemptions per node-hour (the built-in default: the catalog has no preemption.csv)"
# five days on spot without checkpoints: an expected loss past what cents
# hold is printed as a number of dollars, not a wrapped integer
printf 'name: long\nresources:\n  accelerators: H100:8\n  use_spot: true\nrun: echo hi\nstratus:\n  kind: batch\n  duration: 120h\n' >"$TMP/long.yaml"
run 0 "$STRATUS" plan "$TMP/long.yaml" --offline
hasnt "$OUT" '$-'
grep -q '\$[0-9.]*e+[0-9]*' <<<"$OUT" || fail "a huge expected loss in dollars: $OUT"
ok "plan: table, --top; a huge expected loss printed in dollars"

# a deadline: candidates whose run takes longer are marked late (in the
# table and in --json), and only those
printf 'name: dl\nresources:\n  accelerators: {H100: 8, A100-80GB: 8}\nrun: x\nstratus:\n  kind: batch\n  duration: 10h\n  deadline: 12h\n' >"$TMP/dl.yaml"
run 0 "$STRATUS" plan "$TMP/dl.yaml" --offline --top 0 --json
[ "$(json 'j["deadline_hours"] == 12 and all(c["late"] == (c["duration_hours"] > 12) for c in j["candidates"]) and any(c["late"] for c in j["candidates"]) and not all(c["late"] for c in j["candidates"])')" = True ] ||
  fail "late candidates are those that run past the deadline: $OUT"
run 0 "$STRATUS" plan "$TMP/dl.yaml" --offline --top 0
has "$OUT" "deadline: 12h00m after submission; candidates marked late run longer than that"
[ "$(grep -c ' late$' <<<"$OUT")" -gt 0 ] || fail "late candidates are marked in the table: $OUT"
run 0 "$STRATUS" plan "$TMP/long.yaml" --offline --json
[ "$(json '"deadline_hours" not in j and all("late" not in c for c in j["candidates"])')" = True ] ||
  fail "no deadline, no late: $OUT"
ok "plan: a deadline marks the candidates that run longer than it"

# --- cost per unit of work: throughput.csv ---
cp -r "$TMP/nocommit" "$TMP/thr"
cat >"$TMP/thr/throughput.csv" <<'CSV'
accelerator,train,infer,cores_per_chip,source,note
A100-80GB,1,1,,reference,
H100,2.5,3,,test,
CSV
cat >"$TMP/alts.yaml" <<'YAML'
name: alts
resources:
  accelerators: {H100: 8, A100-80GB: 8, A10: 4}
  use_spot: false
stratus:
  kind: train
  duration: 10h
YAML
run 0 "$STRATUS" plan "$TMP/alts.yaml" --catalog "$TMP/thr" --top 0
has "$OUT" "10h00m on the first alternative"
has "$OUT" "H100:8 1.00x = 10.00 h, A100-80GB:8 0.40x = 25.00 h, A10:4 0.50x? = 20.00 h"
has "$OUT" "? = ratio unknown, taken as fast per chip as the first alternative (and an unknown first as fast per chip as each other): no training number in $TMP/thr/throughput.csv for A10"
has "$OUT" "HOURS  SPEED"
# A10 has no ratio: each A10 taken as fast as an H100, so A10:4 is half an
# H100:8 node, its 20 h at 8/h ($160) come first; then
# H100 at 80/h for 10 h (800) before A100-80GB at 40.22/h for 25 h (1005.50)
first=$(grep -A1 -F "HOURS  SPEED" <<<"$OUT" | tail -1)
has "$first" "BM.GPU.A10.4"; has "$first" "20.00  0.50?"; has "$first" '$160.00'
second=$(grep -A2 -F "HOURS  SPEED" <<<"$OUT" | tail -1)
has "$second" "BM.GPU.H100.8"; has "$second" "10.00  1.00 "; has "$second" '$800.00'
grep -F "a2-ultragpu-8g" <<<"$OUT" | grep -qF '25.00  0.40  ' || fail "A100-80GB row with 25 h: $OUT"
ok "plan: alternatives ranked by the cost of the whole job, per-candidate hours and speed shown"
run 0 "$STRATUS" plan "$TMP/alts.yaml" --catalog "$TMP/thr" --top 0 --json
[ "$(json '[(a["resources"], a["speed"], a["speed_known"], a["duration_hours"]) for a in j["alternatives"]]')" = "[('H100:8', 1.0, True, 10.0), ('A100-80GB:8', 0.4, True, 25.0), ('A10:4', 0.5, False, 20.0)]" ] || fail "alternatives: $OUT"
[ "$(json '(j["candidates"][1]["instance_type"], j["candidates"][1]["duration_hours"], j["candidates"][1]["speed"])')" = "('BM.GPU.H100.8', 10.0, 1.0)" ] || fail "second: $OUT"
[ "$(json '[c["expected_cost"] for c in j["candidates"] if c["accelerator"] == "A100-80GB"]')" = "[1005.5]" ] || fail "A100-80GB for 25 h: $OUT"
ok "plan --json: each alternative's speed and hours, each candidate's duration_hours"

# --- plan on the bundled catalog under the lab's policy ---
run 0 "$STRATUS" plan "$EX/train-llama.yaml" --policy "$EX/policy.yaml" --explain --top 0 --json
[ "$(json 'set(c["cloud"] for c in j["candidates"])')" = "{'azure'}" ] || fail "training must be on azure only: $OUT"
[ "$(json 'j["policy_rule"] is not None')" = True ] || fail "a rule must govern training"
[ "$(json 'any(x["reason"] == "policy_location" and x["best"]["cloud"] != "azure" for x in j["explain"])')" = True ] || fail "explain: $OUT"
ok "plan: training goes to Azure only; --explain names the cheaper options the policy removed"
run 0 "$STRATUS" plan "$EX/train-llama.yaml" --policy "$EX/policy.yaml" --explain
has "$OUT" "policy: rule '"; has "$OUT" "would have cost"
ok "plan --explain: text says what each removal would have cost"

run 0 "$STRATUS" plan "$EX/infer-llm.yaml" --policy "$EX/policy.yaml" --top 0 --json
[ "$(json 'j["candidates"][0]["cloud"]')" = azure ] || fail "inference starts on azure: $OUT"
tiers=$(json '[c["cloud"] for c in j["candidates"]]')
python3 - "$tiers" <<'PY' || fail "inference order must be azure, then oci, then gcp: $tiers"
import ast, sys
clouds = ast.literal_eval(sys.argv[1])
order = {"azure": 0, "oci": 1, "gcp": 2}
seen = [order[c] for c in clouds if c in order]
assert seen == sorted(seen) and set(clouds) <= set(order), clouds
PY
[ "$(json 'any(c["spot"] for c in j["candidates"])')" = False ] || fail "no spot for inference"
ok "plan: inference on Azure first, overflow OCI then GCP, no spot"

run 0 "$STRATUS" plan "$EX/batch-eval.yaml" --policy "$EX/policy.yaml" --top 0 --json
[ "$(json 'len(set(c["cloud"] for c in j["candidates"])) >= 2')" = True ] || fail "batch anywhere: $OUT"
[ "$(json 'j["candidates"][0]["expected_cost"] == min(c["expected_cost"] for c in j["candidates"])')" = True ] || fail "batch cheapest first"
ok "plan: batch runs anywhere, cheapest first"

sed 's/team: evals/team: clinical/' "$EX/batch-eval.yaml" >"$TMP/clinical.yaml"
run 0 "$STRATUS" plan "$TMP/clinical.yaml" --policy "$EX/policies/eu-data.yaml" --top 0 --json
[ "$(json 'j["policy_rule"]')" = clinical-eu-data ] || fail "the EU rule must govern the clinical team: $OUT"
regions=$(json '" ".join(sorted(set(c["cloud"]+"/"+c["region"] for c in j["candidates"])))')
python3 - "$regions" "$SOURCE_DIR/catalog/regions.csv" <<'PY' || fail "EU policy placed outside Europe: $regions"
import csv, sys
cont = {(r["cloud"], r["region"]): r["continent"] for r in csv.DictReader(open(sys.argv[2]))}
for loc in sys.argv[1].split():
    c, r = loc.split("/")
    assert cont[(c, r)] == "europe", loc
PY
ok "plan: the EU data policy keeps every candidate in Europe"

# Every example plans; the policy file among the files is taken as the policy.
run 0 "$STRATUS" plan "$EX"/*.yaml --top 1
has "$OUT" "llama-8b-pretrain"; has "$OUT" "nightly-eval"; has "$OUT" "chat-70b-replica"
has "$OUT" "support-bot-finetune"
# a service's alternatives are weighed by what its spec says a replica of
# each serves (target_qps_per_replica: A100-80GB 4, A10 1.5, L4 1), not by
# the catalog's ratio (2.5 for A100 against L4: helper-103)
run 0 "$STRATUS" plan --offline "$EX/serve-llm.yaml" --top 1
has "$OUT" "L4:1 1.00x = 1.00 h, A10:1 1.50x = 0.67 h, A100-80GB:1 4.00x = 0.25 h"
has "$OUT" "compute costed for 1 hour of the first alternative's work"
# piped, each spec's notes (stderr) come under its own table (helper-103)
both=$("$STRATUS" plan "$EX/train-llama.yaml" "$EX/batch-eval.yaml" --top 1 2>&1 | cat)
python3 - "$both" <<'PY' || fail "plan's notes are not under their tables: $both"
import sys
l = sys.argv[1].splitlines()
a = next(i for i, x in enumerate(l) if x.startswith("llama-8b-pretrain:"))
b = next(i for i, x in enumerate(l) if x.startswith("nightly-eval:"))
now = [i for i, x in enumerate(l) if x.startswith("now, on this server's clouds:")]
assert len(now) == 2 and a < now[0] < b < now[1], (a, b, now)
PY
ok "plan: all examples plan, examples/policy.yaml picked up as the policy"

# --- infeasible and bad input ---
cat >"$TMP/gcp-train.yaml" <<'YAML'
resources:
  accelerators: H100:8
  infra: gcp
num_nodes: 2
run: ./train.sh
stratus:
  kind: train
YAML
run 1 "$STRATUS" plan "$TMP/gcp-train.yaml" --policy "$EX/policy.yaml"
has "$ERR" "no feasible placement for 'gcp-train'"; has "$ERR" "policy rule"
ok "plan: no feasible candidate says why and exits 1"
run 2 "$STRATUS" plan "$TMP/missing.yaml"
has "$ERR" "missing.yaml: cannot open"
printf 'name: x\nresources:\n  acelerators: H100:8\n' >"$TMP/typo.yaml"
run 2 "$STRATUS" plan "$TMP/typo.yaml"
has "$ERR" "typo.yaml:3:3: unknown key 'acelerators'"; has "$ERR" "did you mean 'accelerators'?"
printf 'resources:\n  accelerators: H1000:8\n' >"$TMP/acc.yaml"
run 2 "$STRATUS" plan "$TMP/acc.yaml"
has "$ERR" "acc.yaml:"; has "$ERR" "(did you mean 'H100'?)"
run 2 "$STRATUS" plan "$TMP/gang.yaml" --policy "$TMP/typo.yaml"
run 2 "$STRATUS" plan
ok "plan: missing file, misspelt key, unknown accelerator, bad policy, no file: exit 2 with file:line"
# The home's server plans and lists as --offline does (one module prints both).
run 0 "$STRATUS" plan "$EX"/*.yaml --top 0 --explain; online=$OUT
run 0 "$STRATUS" plan --offline "$EX"/*.yaml --top 0 --explain
[ "$OUT" = "$online" ] || fail "plan: the server's text differs from --offline"
run 1 "$STRATUS" plan "$TMP/gcp-train.yaml" --policy "$EX/policy.yaml" --explain; online=$OUT
# every candidate excluded; the count follows the bundled catalog's size
grep -Eq "excluded \(([0-9]+) of \1 candidates\)" <<<"$online" ||
  fail "expected 'excluded (N of N candidates)' in: ${online:0:2000}"
run 1 "$STRATUS" plan --offline "$TMP/gcp-train.yaml" --policy "$EX/policy.yaml" --explain
[ "$OUT" = "$online" ] || fail "plan --explain of an infeasible workload differs from --offline"
run 0 "$STRATUS" offers --accelerator H100 --spot --json --limit 0; online=$OUT
run 0 "$STRATUS" offers --offline --accelerator H100 --spot --json --limit 0
[ "$OUT" = "$online" ] || fail "offers: the server's list differs from --offline"
ok "plan and offers: the server's answers print as --offline's"
# any_of entries that differ in spot only repeat no accelerator in the header
run 0 "$STRATUS" plan --offline "$EX/serve-llm.yaml" --policy "$EX/policy.yaml"
has "$OUT" "1 node x L4:1 | A10:1 | A100-80GB:1, no duration"
has "$OUT" "L4:1 1.00x = 1.00 h, A10:1 1.50x = 0.67 h, A100-80GB:1 4.00x = 0.25 h"
hasnt "$OUT" "0.25 h, L4:1"
ok "plan: each alternative shown once"

# a region of another cloud, with a near name of this one: both said
printf 'name: t\nresources: {accelerators: H100:8, infra: aws/us-east1}\nrun: x\n' >"$TMP/east1.yaml"
run 2 "$STRATUS" plan "$TMP/east1.yaml" --offline --catalog "$SOURCE_DIR/catalog"
has "$ERR" "east1.yaml:2:"
has "$ERR" "'aws/us-east1' is not a region in the catalog; it is a region of gcp; did you mean 'us-east-1'?"
ok "plan: a region of another cloud is named as such, with this cloud's nearest"

printf 'resources: {accelerators: H100:8, infra: gcp/us-central1/us-central1-q}\nrun: x\n' >"$TMP/zone.yaml"
run 2 "$STRATUS" plan "$TMP/zone.yaml" --offline
has "$ERR" "zone.yaml:1:42: 'us-central1-q' is not a zone of gcp/us-central1 in the catalog; its zones: us-central1-a"
printf 'resources: {accelerators: H100:8, infra: azure/eastus/zone9}\nrun: x\n' >"$TMP/zone.yaml"
run 2 "$STRATUS" plan "$TMP/zone.yaml" --offline
has "$ERR" "'zone9' is not a zone of azure/eastus in the catalog; its offers there are regional: leave the zone out"
ok "plan: a zone the catalog does not have is the spec's error (exit 2), with the region's zones"

printf 'name: p\nresources: {accelerators: H100:8}\nrun: x\nstratus: {duration: 1h, deadline: 2020-01-01T00:00:00Z}\n' >"$TMP/past.yaml"
run 0 "$STRATUS" plan "$TMP/past.yaml" --offline --top 1
has "$OUT" "deadline: the date has passed: \`stratus launch\` refuses this spec"
ok "plan: a deadline date that has passed is said"
echo "$checks checks passed"
