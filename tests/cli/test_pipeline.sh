#!/usr/bin/env bash
# Black-box tests of pipelines and job groups (multi-document files) on the
# local clouds with the bundled catalog: the example three-stage pipeline
# (CPU prep -> GPU train -> GPU eval) runs with each stage where the policy
# and prices place it (checked against `stratus plan` of each stage alone),
# the outputs are handed on, the bill is shown per stage with the total;
# a failing stage fails the rest with its exit code; `stratus cancel GROUP`
# stops the rest; a job group stops its auxiliary task when its primary ends;
# a bad header is refused with file:line; `plan` plans each stage.
. "$(dirname "$0")/lib.sh"
use_home "${STRATUS_CATALOG:-$SOURCE_DIR/catalog}"
EX="$SOURCE_DIR/examples/pipeline/train-eval.yaml"
POLICY="$SOURCE_DIR/examples/policy.yaml"

# stage_file N: document N+1 of the example (its stage N) alone, for `plan`
stage_file() {
  awk -v want="$1" '/^---$/ {doc++; next} doc == want' "$EX" >"$TMP/stage$1.yaml"
  echo "$TMP/stage$1.yaml"
}
# best STAGE: "cloud/region instance_type mode" the planner picks for it alone
best() {
  "$STRATUS" plan "$(stage_file "$1")" --policy "$POLICY" --json --top 1 |
    python3 -c 'import json,sys; j=json.load(sys.stdin); p=j[0] if isinstance(j,list) else j; p=p.get("plan",p); c=p["candidates"][0]; print(c["cloud"]+"/"+c["region"]+" "+c["instance_type"]+" "+c["mode"])'
}
# ran JOB: "cloud/region instance_type mode" of its last attempt
ran() {
  job_field "$1" '(lambda a: a["cloud"]+"/"+a["region"]+" "+a["instance_type"]+" "+a["mode"])(j["attempts_detail"][-1])'
}
# wait_reason JOB STATE TEXT: the job ends in STATE with TEXT in its reason
wait_reason() {
  wait_state "$1" "$2" 120
  local r; r=$(job_field "$1" 'j["reason"]')
  grep -qF -- "$3" <<<"$r" || fail "job $1: reason '$r', expected '$3'"
}

# --- plan: each stage planned on its own, by the server and offline alike ---
run 0 "$STRATUS" plan "$EX" --policy "$POLICY" --top 1; online=$OUT
has "$OUT" "pipeline 'train-eval', stage 1 of 3:"; has "$OUT" "pipeline 'train-eval', stage 3 of 3:"
has "$OUT" "policy: rule 'training-on-azure'"
run 0 "$STRATUS" plan --offline "$EX" --policy "$POLICY" --top 1
[ "$OUT" = "$online" ] || fail "plan: the server's text differs from --offline: $OUT"
ok "plan: a pipeline is planned stage by stage"

# --- the example: three stages, each placed on its own, billed per stage ---
want1=$(best 1) want2=$(best 2) want3=$(best 3)
run 0 "$STRATUS" launch "$EX" --policy "$POLICY"
has "$OUT" "stage 1 plan: prep under batch-anywhere"
has "$OUT" "stage 2 plan: train under training-on-azure"
has "$OUT" "pipeline 'train-eval' submitted as group"
g=$(sed -n "s/^pipeline 'train-eval' submitted as group \([0-9]*\):$/\1/p" <<<"$OUT")
id1=$(sed -n "s/^  stage 1 'prep': job \([0-9]*\)$/\1/p" <<<"$OUT")
id2=$(sed -n "s/^  stage 2 'train': job \([0-9]*\)$/\1/p" <<<"$OUT")
id3=$(sed -n "s/^  stage 3 'eval': job \([0-9]*\)$/\1/p" <<<"$OUT")
[ -n "$g" ] && [ "$g" = "$id1" ] && [ -n "$id2" ] && [ -n "$id3" ] || fail "ids: $OUT"
has "$OUT" "pipeline 'train-eval' (group $g): SUCCEEDED"
for id in $id1 $id2 $id3; do
  [ "$(job_field "$id" 'j["state"]')" = SUCCEEDED ] || fail "stage job $id not SUCCEEDED"
done
[ "$(ran "$id1")" = "$want1" ] || fail "prep ran on $(ran "$id1"), the plan says $want1"
[ "$(ran "$id2")" = "$want2" ] || fail "train ran on $(ran "$id2"), the plan says $want2"
[ "$(ran "$id3")" = "$want3" ] || fail "eval ran on $(ran "$id3"), the plan says $want3"
[ "$(job_field "$id1" 'j["attempts_detail"][-1]["accelerator"]')" = "" ] ||
  fail "prep must run on a CPU instance"
case "$want2" in azure/*) ;; *) fail "the policy keeps large training on azure: $want2";; esac
ok "example: prep on $want1, train on $want2, eval on $want3, as each stage's plan"

# each stage started only after the one before it ended
t() { job_field "$1" "j[\"$2\"] or 0"; }
python3 -c "import sys; a=[float(x) for x in sys.argv[1:]]; sys.exit(0 if a[0]<=a[1] and a[2]<=a[3] else 1)" \
  "$(t "$id1" ended_at)" "$(t "$id2" started_at)" "$(t "$id2" ended_at)" "$(t "$id3" started_at)" ||
  fail "a stage started before the one before it ended"
run 0 "$STRATUS" logs "$id3"
has "$OUT" "evaluating a model trained on 1000 examples"
ok "outputs handed on: prep's data reached train, train's model reached eval"

# the bill: a line per stage and the total, which is the sum of the stages
run 0 "$STRATUS" status "$g"
has "$OUT" "stage 1  job $id1  prep"; has "$OUT" "stage 3  job $id3  eval"
python3 - "$OUT" "$(t "$id1" cost)" "$(t "$id2" cost)" "$(t "$id3" cost)" <<'PY' || fail "bill: $OUT"
import re, sys
out, costs = sys.argv[1], [float(x) for x in sys.argv[2:]]
lines = [l for l in out.splitlines() if l.strip().startswith("stage ")]
shown = [float(re.search(r"\$([0-9.]+)", l).group(1)) for l in lines]
total = float(re.search(r"total \$([0-9.]+)", out).group(1))
assert len(shown) == 3 and all(abs(s - c) < 1e-4 for s, c in zip(shown, costs)), (shown, costs)
assert abs(total - sum(costs)) < 1e-3 and costs[1] > 0, (total, costs)
PY
bill=$OUT
run 0 env STRATUS_LIST_PAGE=1 "$STRATUS" status "$g" # read a page of one at a time
[ "$OUT" = "$bill" ] || fail "the group's bill read a stage at a time differs: $OUT"
# a list that holds some of the stages (--last, queue) still heads them with the
# whole group: its stage count and its total (helper-106: "2 stages", less money)
total=$(sed -n 's/^  total \(\$[0-9.]*\) over 3 stages$/\1/p' <<<"$bill")
[ -n "$total" ] || fail "no total in the bill: $bill"
run 0 "$STRATUS" status --last 2
has "$OUT" "train-eval (pipeline, 3 stages)"
grep -E "^ +$g +train-eval \(pipeline, 3 stages\) +group +SUCCEEDED +\\$total " <<<"$OUT" >/dev/null ||
  fail "status --last 2: the group line must carry the whole group's $total: $OUT"
grep -qE "^ +$id1 +1 prep " <<<"$OUT" && fail "status --last 2 lists stage 1 (job $id1), not among the newest 2: $OUT"
grep -qE "^ +$id3 +3 eval " <<<"$OUT" || fail "status --last 2 must list stage 3 (job $id3): $OUT"
run 0 "$STRATUS" status
has "$OUT" "train-eval (pipeline, 3 stages)"
grep -qE "^ +$id2 +2 train +train" <<<"$OUT" || fail "stage 2 not listed under its group: $OUT"
ok "bill per stage and the total (status $g), stages grouped in status"

# --- a stage that fails stops the chain, its exit code in the reason ---
cat >"$TMP/fail.yaml" <<'YAML'
name: breaks
---
name: prep
resources: {cpus: 2+}
run: exit 3
---
name: train
resources: {cpus: 2+}
run: echo never
YAML
run 1 "$STRATUS" launch "$TMP/fail.yaml"
f1=$(sed -n "s/^  stage 1 'prep': job \([0-9]*\)$/\1/p" <<<"$OUT")
f2=$(sed -n "s/^  stage 2 'train': job \([0-9]*\)$/\1/p" <<<"$OUT")
wait_reason "$f1" FAILED "exited with code 3"
wait_reason "$f2" FAILED "stage 1 'prep' failed: exit 3"
[ "$(job_field "$f2" 'j["attempts"]')" = 0 ] || fail "stage 2 of a failed chain must never launch"
ok "a failed stage fails the rest: stage 1 'prep' failed: exit 3"

# --- stratus cancel GROUP stops the rest ---
cat >"$TMP/long.yaml" <<'YAML'
name: long
---
name: first
resources: {cpus: 2+}
run: exec sleep 600
---
name: second
resources: {cpus: 2+}
run: echo never
YAML
run 0 "$STRATUS" launch "$TMP/long.yaml" --detach
l1=$(sed -n "s/^  stage 1 'first': job \([0-9]*\)$/\1/p" <<<"$OUT")
l2=$(sed -n "s/^  stage 2 'second': job \([0-9]*\)$/\1/p" <<<"$OUT")
wait_state "$l1" RUNNING 120
run 0 env STRATUS_LIST_PAGE=1 "$STRATUS" cancel "$l1" # the group's stages a page of one at a time
has "$OUT" "group $l1: 2 stages still active, cancel requested"
wait_reason "$l1" CANCELLED "cancelled by the user"
wait_reason "$l2" CANCELLED "stage 1 'first' was cancelled"
ok "cancel GROUP: the running stage and the rest are cancelled"

# --- a job group: the auxiliary task stops when the primary one ends ---
cat >"$TMP/group.yaml" <<'YAML'
name: rl
execution: parallel
primary_tasks: [trainer]
---
name: trainer
resources: {cpus: 2+}
run: sleep 1
---
name: server
resources: {cpus: 2+}
run: exec sleep 600
YAML
run 0 "$STRATUS" launch "$TMP/group.yaml"
has "$OUT" "stage 1 'trainer': job"; has "$OUT" "(primary)"
s2=$(sed -n "s/^  stage 2 'server': job \([0-9]*\)$/\1/p" <<<"$OUT")
wait_reason "$s2" CANCELLED "the primary tasks of job group 'rl' have ended"
ok "job group: the auxiliary task is stopped when the primary task ends"

# --- a bad header: refused with file:line, what, what to do ---
printf 'name: g\nexecution: sometimes\n---\nrun: a\n' >"$TMP/bad.yaml"
run 2 "$STRATUS" launch "$TMP/bad.yaml"
has "$ERR" "bad.yaml:2:12: execution must be 'parallel'"
ok "a bad header is refused with its file:line"

# a stage's deadline counts from the file's submission: after the stages
# before it (here 3 h), a 4 h deadline leaves the second 3 h stage 1 h
cat >"$TMP/late-stage.yaml" <<'YAML'
name: prep
resources: {accelerators: H100:8}
run: "true"
stratus: {duration: 3h}
---
name: train
resources: {accelerators: H100:8}
run: "true"
stratus: {duration: 3h, deadline: 4h}
YAML
run 2 "$STRATUS" launch "$TMP/late-stage.yaml" --detach
has "$ERR" "late-stage.yaml:9:35: stratus.deadline (4h00m) is shorter than stratus.duration (3h00m), after the stages before it (at least 3h00m): the job cannot finish in time"
ok "a stage's deadline counts the stages before it"

# a stage without a name is named after its pipeline ("pipe-1"): the rules
# that name it govern its plan and its placement alike (the plan named it
# after the file, and showed the catch-all rule's choice)
cat >"$TMP/pipe.yaml" <<'YAML'
name: pipe
---
resources: {accelerators: H100:8}
run: "true"
stratus: {duration: 1m}
YAML
printf 'version: 1\nrules:\n  - name: pipe-azure\n    match: {name: "pipe-*"}\n    allow: [azure]\n    spot: forbid\n  - name: anything\n    match: {}\n' >"$TMP/name-policy.yaml"
run 0 "$STRATUS" policy set "$TMP/name-policy.yaml"
run 0 "$STRATUS" plan "$TMP/pipe.yaml" --top 1
has "$OUT" "policy: rule 'pipe-azure'"
run 0 "$STRATUS" launch "$TMP/pipe.yaml" --detach
has "$OUT" "stage 1 plan: pipe-1 under pipe-azure"
p1=$(sed -n "s/^  stage 1 'pipe-1': job \([0-9]*\)$/\1/p" <<<"$OUT")
[ -n "$p1" ] || fail "no job for stage 1: $OUT"
wait_state "$p1" SUCCEEDED 60
[ "$(job_field "$p1" 'j["attempts_detail"][-1]["cloud"]')" = azure ] || fail "stage pipe-1 must run on azure under pipe-azure"
run 0 "$STRATUS" policy clear
ok "an unnamed stage's rules govern its plan and its placement"
