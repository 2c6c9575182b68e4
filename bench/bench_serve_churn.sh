#!/usr/bin/env bash
# bench_serve_churn.sh - availability of a service under churn (issue 12):
# a service of 3 spot replicas of the example model server on the local
# clouds, a `stratus router` following the server, constant load through
# it; replicas are preempted with notice (`stratus local preempt`), then
# killed without one (SIGKILL of the model server's process).  Prints the
# failed requests in each phase and the time until 3 replicas are READY
# again after each event.  Not a test: it prints numbers.
#
#   bench/bench_serve_churn.sh [BUILD_DIR]     (default build-rel)
#   BENCH_RATE=10   requests/s      BENCH_EVENTS=3   preemptions, and kills
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
STRATUS=$root/${1:-build-rel}/stratus
RATE=${BENCH_RATE:-10}
EVENTS=${BENCH_EVENTS:-3}
[ -x "$STRATUS" ] || { echo "bench_serve_churn: no $STRATUS; build first"; exit 1; }
TMP=$(mktemp -d)
export STRATUS_HOME=$TMP/home STRATUS_CATALOG=$root/tests/data/catalog-mini
mkdir -p -m 0700 "$STRATUS_HOME"
pids=()
cleanup() {
  touch "$TMP/stop"
  for p in $(jobs -p); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  "$STRATUS" controller stop >/dev/null 2>&1
  for p in $(find "$STRATUS_HOME" -path "*/local/att-*/pid" 2>/dev/null); do
    kill -9 -- "-$(cat "$p")" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
cat >"$STRATUS_HOME/server.yaml" <<'YAML'
listen:
  - unix: stratus.sock
  - tcp: 127.0.0.1:0
drivers:
  - name: local
    driver: local
    locations: ["*"]
    timing: {backoff_base: 0.2s, relaunch_overhead: 1s, poll: 1s}
YAML
cat >"$TMP/svc.yaml" <<YAML
name: churn
resources:
  accelerators: H100:8
  use_spot: true
run: exec python3 -B $root/examples/llm-server/server.py --port \$PORT --decode-tps 200
service:
  readiness_probe: /health
  replicas: 3
YAML
ready() {
  "$STRATUS" serve status churn --json 2>/dev/null |
    python3 -c "import json,sys; j=json.load(sys.stdin); print(sum(1 for r in j['replicas'] if r['state'] == 'READY'))" 2>/dev/null
}
wait_ready3() { # seconds until 3 READY (polling every 0.2 s), at most 300
  local t0=$SECONDS i
  for i in $(seq 1 1500); do [ "$(ready)" = 3 ] && break; sleep 0.2; done
  echo $((SECONDS - t0))
}
key=$("$STRATUS" serve up "$TMP/svc.yaml" 2>/dev/null | tail -n 1)
wait_ready3 >/dev/null
port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$STRATUS_HOME/controller.log" | tail -n 1)
token=$("$STRATUS" token create --name router --role member 2>/dev/null)
STRATUS_TOKEN=$token "$STRATUS" router --api "http://127.0.0.1:$port" --service churn \
  --listen 127.0.0.1:0 --max-wait 30 2>"$TMP/router.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$TMP/router.log" && break; sleep 0.1; done
url=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$TMP/router.log" | head -n 1)
cat >"$TMP/load.py" <<'PY'
import json, os, sys, threading, time, urllib.request
tmp, key, url, rate = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
lock = threading.Lock()
res = {"ok": 0, "fail": 0}
def one():
    body = json.dumps({"model": "m", "prompt": "hello", "max_tokens": 16}).encode()
    req = urllib.request.Request(url + "/v1/completions", body,
                                 {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
            good = r.status == 200
    except Exception:
        good = False
    with lock:
        res["ok" if good else "fail"] += 1
        json.dump(res, open(tmp + "/load.tmp", "w"))
        os.replace(tmp + "/load.tmp", tmp + "/load.json")
while not os.path.exists(tmp + "/stop"):
    threading.Thread(target=one, daemon=True).start()
    time.sleep(1.0 / rate)
time.sleep(5)
PY
python3 "$TMP/load.py" "$TMP" "$key" "$url" "$RATE" &
pids+=($!)
sleep 5
counts() { python3 -c "import json; j=json.load(open('$TMP/load.json')); print(j['ok'], j['fail'])"; }
replica_ids() {
  "$STRATUS" serve status churn --json | python3 -c "import json,sys; j=json.load(sys.stdin); print(' '.join(str(r['id']) for r in j['replicas'] if r['state'] == 'READY'))"
}
echo "bench_serve_churn: $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg)); 3 spot replicas, $RATE req/s through one router"
phase() { # phase NAME ACTION: EVENTS events, each waited out; prints failures and restore times
  local name=$1 action=$2 k rep ok0 f0 ok1 f1 times=""
  read -r ok0 f0 < <(counts)
  for k in $(seq 1 "$EVENTS"); do
    rep=$(replica_ids | cut -d' ' -f1)
    "$action" "$rep"
    sleep 1
    times="$times $(wait_ready3)"
    sleep 2
  done
  read -r ok1 f1 < <(counts)
  python3 -c "
ok, f = $ok1 - $ok0, $f1 - $f0
print(f'$name: {f} failed of {ok + f} requests ({100.0 * f / max(1, ok + f):.3f}%); seconds until 3 ready again:$times')"
}
preempt() { "$STRATUS" local preempt --service churn --replica "$1" >/dev/null; }
kill_replica() { # SIGKILL the model server of job $1 (its port from the status)
  local p
  p=$("$STRATUS" serve status churn --json | python3 -c "import json,sys; j=json.load(sys.stdin); print([r['port'] for r in j['replicas'] if r['id'] == $1][0])")
  pkill -9 -f -- "--port $p" || true
}
phase "preempted with notice" preempt
phase "killed without notice" kill_replica
