#!/usr/bin/env bash
# Quick start: install what Stratus needs, build it, and run the main job on
# the embedded default (the bundled catalog of Azure, GCP, OCI and AWS offers
# and the lab's policy): where each example workload should run and why.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== stratus offers --accelerator H100:8 --limit 8"
./build/stratus offers --accelerator H100:8 --limit 8
echo
echo "== stratus plan examples/*.yaml --explain --top 3   (examples/policy.yaml is the lab's policy)"
./build/stratus plan examples/*.yaml --explain --top 3
