#!/usr/bin/env bash
# bench_serve_latency.sh - latency-aware vs region-blind routing with users
# in three regions (issue 12): three replicas of the example model server
# (examples/llm-server) in azure/eastus, oci/eu-frankfurt-1 and
# gcp/asia-northeast1 of the emulated world, a `stratus router` in each of
# those regions, and users near each router sending completions at a steady
# rate.  The routers add the catalog's RTT between their region and a
# replica's (the replicas are "emulated"), so a request sent across the
# world pays for it.  Run once with --policy nearest (the default) and once
# with --policy least_load (region-blind least outstanding, SkyServe's
# default), the same load; prints end-to-end P50/P90/P99 per policy and
# per user region.  Not a test: it prints numbers.
#
#   bench/bench_serve_latency.sh [BUILD_DIR]     (default build-rel)
#   BENCH_SECONDS=20   load per policy      BENCH_RATE=4   requests/s per region
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
STRATUS=$root/${1:-build-rel}/stratus
SECS=${BENCH_SECONDS:-20}
RATE=${BENCH_RATE:-4}
[ -x "$STRATUS" ] || { echo "bench_serve_latency: no $STRATUS; build first"; exit 1; }
TMP=$(mktemp -d)
pids=()
cleanup() {
  for p in $(jobs -p); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
REGIONS=(azure/eastus oci/eu-frankfurt-1 gcp/asia-northeast1)

# the replicas: one model server per region, on free loopback ports
for i in 0 1 2; do
  python3 -B "$root/examples/llm-server/server.py" --host 127.0.0.1 --port 0 \
    --port-file "$TMP/rep$i.port" --decode-tps 200 --prefill-tps 100000 >"$TMP/rep$i.log" 2>&1 &
  pids+=($!)
done
for i in 0 1 2; do
  for _ in $(seq 1 100); do [ -s "$TMP/rep$i.port" ] && break; sleep 0.1; done
done
python3 - "$TMP" "${REGIONS[@]}" >"$TMP/set.json" <<'PY'
import json, sys
tmp, regions = sys.argv[1], sys.argv[2:]
reps = []
for i, r in enumerate(regions):
    cloud, region = r.split("/")
    port = open(f"{tmp}/rep{i}.port").read().strip()
    reps.append({"id": i + 1, "url": f"http://127.0.0.1:{port}", "cloud": cloud, "region": region,
                 "state": "READY", "mode": "on-demand", "accelerator": "H100",
                 "target_qps": 20, "emulated": True})
print(json.dumps({"service": "bench", "version": 1, "replicas": reps}))
PY

cat >"$TMP/users.py" <<'PY'
import json, sys, threading, time, urllib.request
secs, rate, out = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
routers = sys.argv[4:]  # region=url
lat = {}
lock = threading.Lock()
def one(region, url):
    body = json.dumps({"model": "m", "prompt": "hi", "max_tokens": 16}).encode()
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "/v1/completions", body,
                                    {"Content-Type": "application/json"}), timeout=60) as r:
            r.read()
            ok = r.status == 200
    except Exception:
        ok = False
    with lock:
        lat.setdefault(region, []).append((time.monotonic() - t0) * 1000 if ok else None)
threads = []
end = time.monotonic() + secs
k = 0
while time.monotonic() < end:
    for ru in routers:
        region, url = ru.split("=", 1)
        t = threading.Thread(target=one, args=(region, url))
        t.start()
        threads.append(t)
    k += 1
    time.sleep(1.0 / rate)
for t in threads:
    t.join()
json.dump(lat, open(out, "w"))
PY

run_policy() { # run_policy POLICY: three routers, the load, their latencies in $TMP/POLICY.json
  local policy=$1 i args=() rp=()
  for i in 0 1 2; do
    "$STRATUS" router --replicas "$TMP/set.json" --region "${REGIONS[$i]}" --policy "$policy" \
      --listen 127.0.0.1:0 2>"$TMP/router-$policy-$i.log" &
    rp+=($!)
  done
  for i in 0 1 2; do
    for _ in $(seq 1 100); do grep -q "listening on" "$TMP/router-$policy-$i.log" && break; sleep 0.1; done
    args+=("${REGIONS[$i]}=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$TMP/router-$policy-$i.log" | head -n 1)")
  done
  python3 "$TMP/users.py" "$SECS" "$RATE" "$TMP/$policy.json" "${args[@]}"
  for i in "${rp[@]}"; do kill "$i" 2>/dev/null; wait "$i" 2>/dev/null; done
}

echo "bench_serve_latency: $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg)); users in ${REGIONS[*]}, $RATE req/s each for $SECS s per policy; replicas in the same three regions (emulated RTT)"
run_policy nearest
run_policy least_load
python3 - "$TMP" "${REGIONS[@]}" <<'PY'
import json, sys
tmp, regions = sys.argv[1], sys.argv[2:]
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))] if v else float("nan")
res = {}
for pol in ("nearest", "least_load"):
    lat = json.load(open(f"{tmp}/{pol}.json"))
    allv = [x for r in regions for x in lat.get(r, []) if x is not None]
    fails = sum(1 for r in regions for x in lat.get(r, []) if x is None)
    res[pol] = [pct(allv, p) for p in (50, 90, 99)]
    print(f"{pol:11s} all users  P50 {res[pol][0]:7.1f} ms  P90 {res[pol][1]:7.1f} ms  P99 {res[pol][2]:7.1f} ms  ({len(allv)} ok, {fails} failed)")
    for r in regions:
        v = [x for x in lat.get(r, []) if x is not None]
        print(f"{'':11s} {r:20s} P50 {pct(v, 50):7.1f} ms  P99 {pct(v, 99):7.1f} ms")
n, b = res["nearest"], res["least_load"]
print(f"latency-aware vs region-blind: P50 {b[0] / n[0]:.1f}x, P90 {b[1] / n[1]:.1f}x, P99 {b[2] / n[2]:.1f}x lower")
PY
