#!/usr/bin/env bash
# Quick start: install what Stratus needs, build it, and run the main job on
# the embedded default — the local emulated clouds, the bundled catalog of
# Azure, GCP, OCI and AWS offers, and the lab's policy (examples/policy.yaml):
#
#   1. plan every example workload and explain the choices;
#   2. launch the 2-node training example, inject a spot preemption midway,
#      and watch Stratus recover it from its checkpoint and print the bill.
#
# State goes to $STRATUS_HOME (default: .stratus-demo here, wiped each run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSTRATUS_WERROR=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
S=./build/stratus
export STRATUS_HOME=${STRATUS_HOME:-$PWD/.stratus-demo}
$S controller stop >/dev/null 2>&1 || true
rm -rf "$STRATUS_HOME"

echo "== stratus plan examples/*.yaml --top 3   (examples/policy.yaml is the lab's policy)"
$S plan examples/*.yaml --top 3
echo
echo "== stratus launch examples/train-llama.yaml --policy examples/policy.yaml"
log=$(mktemp)
$S launch examples/train-llama.yaml --policy examples/policy.yaml | tee "$log" &
launcher=$!
trap '$S controller stop >/dev/null 2>&1 || true; rm -f "$log"' EXIT
id=""
for _ in $(seq 1 100); do
  id=$(sed -n 's/^job \([0-9]*\) submitted$/\1/p' "$log")
  [ -n "$id" ] && break
  sleep 0.1
done
[ -n "$id" ] || { echo "the job was not submitted"; exit 1; }
# The job's checkpoints live in its store's directory, $STRATUS_HOME/state/<store id>.
for _ in $(seq 1 300); do
  step=$(cat "$STRATUS_HOME"/state/*/checkpoints/job-"$id"/att-1/step 2>/dev/null || true)
  [ -n "$step" ] && [ "$step" -ge 200 ] && break
  sleep 0.1
done
echo "== the cloud takes a node back: stratus local preempt --job $id"
$S local preempt --job "$id" >/dev/null
wait "$launcher"
echo
echo "== stratus logs $id (node 0, the attempt that finished)"
$S logs "$id" | tail -4
echo
echo "== stratus cost --by job"
$S cost --by job
