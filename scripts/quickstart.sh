#!/usr/bin/env bash
# Quick start: install what Stratus needs, build it, and run the main job on
# the embedded default — the local emulated clouds, the bundled catalog of
# Azure, GCP, OCI and AWS offers, and the lab's policy (examples/policy.yaml):
#
#   1. plan every example workload and explain the choices;
#   2. launch the 2-node training example, inject a spot preemption midway,
#      and watch Stratus recover it from its checkpoint and print the bill;
#   3. serve the example LLM service (examples/serve-llm.yaml, the example
#      model server as its replicas) under the lab's policy, start a router
#      in front of it, stream a completion through it, and take it down.
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
mkdir -p -m 0700 "$STRATUS_HOME"
# The home's server: its owner's socket, and a loopback TCP port for routers.
cat >"$STRATUS_HOME/server.yaml" <<'YAML'
listen:
  - unix: stratus.sock
  - tcp: 127.0.0.1:0
drivers:
  - name: local
    driver: local
    locations: ["*"]
YAML

echo "== stratus plan examples/*.yaml --top 3   (examples/policy.yaml is the lab's policy)"
$S plan examples/*.yaml --top 3
echo
echo "== stratus launch examples/train-llama.yaml --policy examples/policy.yaml"
log=$(mktemp)
$S launch examples/train-llama.yaml --policy examples/policy.yaml | tee "$log" &
launcher=$!
router=""
trap '[ -z "$router" ] || kill "$router" 2>/dev/null; $S controller stop >/dev/null 2>&1 || true; rm -f "$log"' EXIT
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
echo
echo "== stratus policy set examples/policy.yaml; stratus serve up examples/serve-llm.yaml"
$S policy set examples/policy.yaml >/dev/null
key=$($S serve up examples/serve-llm.yaml 2>/dev/null | tail -n 1)
for _ in $(seq 1 600); do
  $S serve status llm-service 2>/dev/null | grep -q "^llm-service  READY" && break
  sleep 0.1
done
$S serve status llm-service
echo
echo "== stratus router --api ... --service llm-service --region azure/eastus"
port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$STRATUS_HOME/controller.log" | tail -n 1)
rtoken=$($S token create --name router --role member 2>/dev/null)
rlog="$STRATUS_HOME/router.log"
STRATUS_TOKEN=$rtoken $S router --api "http://127.0.0.1:$port" --service llm-service \
  --region azure/eastus --listen 127.0.0.1:0 --max-wait 30 2>"$rlog" &
router=$!
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$rlog" | head -n 1)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the router did not start: $(cat "$rlog")"; exit 1; }
echo "router at $url"
echo
echo "== a streamed completion through the router (the service's API key)"
curl -sN -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"model": "meta-llama/Llama-3.1-8B-Instruct", "prompt": "The cheapest GPU is", "max_tokens": 12, "stream": true}' \
  "$url/v1/completions" | python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line.startswith("data: {"):
        print(json.loads(line[6:])["choices"][0]["text"], end="", flush=True)
print()'
echo
echo "== stratus serve down llm-service"
$S serve down llm-service
for _ in $(seq 1 300); do
  $S serve status llm-service --json 2>/dev/null | grep -q '"state": "DOWN"' && break
  sleep 0.1
done
$S serve status llm-service | head -n 1
