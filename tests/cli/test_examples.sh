#!/usr/bin/env bash
# test_examples.sh - every workload in examples/ runs to SUCCEEDED on the local
# clouds as shipped, under the lab's policy (examples/policy.yaml, installed as
# the home's policy), and does the work it says it does; every policy in
# examples/ plans every workload.  (examples/sim/ holds simulator inputs, not
# workloads: test_simulate.sh and test_trace_cli.sh cover them.)
. "$(dirname "$0")/lib.sh"

use_home "$SOURCE_DIR/catalog"        # the bundled catalog, as a user has it
cp "$SOURCE_DIR/examples/policy.yaml" "$STRATUS_HOME/policy.yaml"

# A workload is a YAML file with a run: line; a policy has rules:.  A
# workload with a service: section is a service: its model server serves
# until stopped, so it is checked apart (below).
workloads=() policies=() services=()
for f in "$SOURCE_DIR"/examples/*.yaml "$SOURCE_DIR"/examples/policies/*.yaml; do
  if grep -q '^rules:' "$f"; then policies+=("$f")
  elif grep -q '^run:' "$f" && grep -q '^service:' "$f"; then services+=("$f")
  elif grep -q '^run:' "$f"; then workloads+=("$f")
  else fail "$f is neither a workload (run:) nor a policy (rules:)"
  fi
done
[ ${#workloads[@]} -ge 4 ] || fail "expected the 4 example workloads, found: ${workloads[*]}"
[ ${#policies[@]} -ge 2 ] || fail "expected examples/policy.yaml and policies/, found: ${policies[*]}"
[ ${#services[@]} -ge 1 ] || fail "expected examples/serve-llm.yaml, a service"

for p in "${policies[@]}"; do
  run 0 "$STRATUS" plan "${workloads[@]}" "${services[@]}" --policy "$p" --top 1
  hasnt "$OUT" "no feasible"
done
ok "every example policy (${#policies[@]}) plans every example workload and service"

# All at once, as a user would queue them; each must end SUCCEEDED.
declare -A ids
for f in "${workloads[@]}"; do
  ids[$f]=$(launch_detached "$f")
  [ -n "${ids[$f]}" ] || fail "no job id for $f: $(cat "$TMP/launch.out")"
done
for f in "${workloads[@]}"; do
  wait_state "${ids[$f]}" SUCCEEDED 240
done
ok "every example workload (${#workloads[@]}) ran to SUCCEEDED"

# ... having done its work: what each one's last line of node 0's log says.
for f in "${workloads[@]}"; do
  run 0 "$STRATUS" logs "${ids[$f]}"
  case "$(basename "$f")" in
    batch-eval.yaml) has "$OUT" "eval smoke: 163/200 correct" ;;
    infer-llm.yaml) has "$OUT" "ready: meta-llama/Llama-3.1-70B-Instruct answered 'hello' with 'echo: hello'"
                    has "$OUT" "draining and stopping" ;;
    train-llama.yaml) has "$OUT" "rank 0: done at step 600" ;;
    finetune-deadline.yaml) has "$OUT" "rank 0: done at step 300" ;;
    *) fail "no check for $(basename "$f"): say here what it must print" ;;
  esac
  hasnt "$OUT" "command not found"
  hasnt "$OUT" "No module named"
done
ok "each example's log shows its work done"

# The lab's policy decided where they ran (training: Azure only).
run 0 "$STRATUS" status "${ids[$SOURCE_DIR/examples/train-llama.yaml]}"
has "$OUT" "azure/"
ok "train-llama ran on Azure, as examples/policy.yaml requires"

# batch-eval's data lives in gcp/us-central1: run anywhere else, it pays for
# moving 300 GB (dollars), far above 20 s of compute (cents).
id=${ids[$SOURCE_DIR/examples/batch-eval.yaml]}
run 0 "$STRATUS" status "$id"
loc=$(awk '$1 == "attempt" {print $3; exit}' <<<"$OUT")
cost=$(job_field "$id" 'j["cost"]')
case "$loc" in
  gcp/us-central1*) python3 -c "import sys; sys.exit(not $cost < 1)" ||
                      fail "batch-eval ran beside its data ($loc) yet cost \$$cost" ;;
  ?*/*) python3 -c "import sys; sys.exit(not $cost >= 1)" ||
          fail "batch-eval ran at $loc, away from its data, yet cost only \$$cost: no egress billed" ;;
  *) fail "no placement in: $OUT" ;;
esac
ok "batch-eval at $loc cost \$$cost (its data's egress counted)"

# A service runs as one plain infer job until `stratus serve` exists: its
# model server must come up ready on the local clouds and serve until it is
# cancelled, as a replica does.
for f in "${services[@]}"; do
  id=$(launch_detached "$f")
  [ -n "$id" ] || fail "no job id for $f: $(cat "$TMP/launch.out")"
  wait_state "$id" RUNNING 240
  says_ready() { "$STRATUS" logs "$1" 2>/dev/null | grep -qF "llm-server: ready"; }
  poll 120 says_ready "$id"
  run 0 "$STRATUS" logs "$id"
  has "$OUT" "llm-server: ready"
  hasnt "$OUT" "Traceback"
  run 0 "$STRATUS" cancel "$id"
  wait_state "$id" CANCELLED 60
done
ok "every example service (${#services[@]}) ran its model server until cancelled"

echo "all $checks checks passed"
