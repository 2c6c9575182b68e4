#!/usr/bin/env bash
# A service under continuous traffic through two routers in different
# regions (issue 12's "done when"): 3 spot replicas spread over the local
# clouds' spot locations; each router sends to its own region first and
# overflows when that replica is saturated; replicas preempted (with notice)
# under load are drained and replaced without a failed request; with spot
# gone everywhere an on-demand replica fills in, and goes once spot is back;
# a load step scales the service up and it comes back down after.  Real
# server (TCP, tokens), real routers following it (long polls), real model
# server replicas, a Python load generator counting every answer.
. "$(dirname "$0")/lib.sh"
use_home
SERVER="$SOURCE_DIR/examples/llm-server/server.py"
local_server_conf
cat >"$TMP/chat.yaml" <<YAML
name: chat
resources:
  accelerators: H100:8
  use_spot: true
run: exec python3 -B $SERVER --port \$PORT --decode-tps 100 --prefill-tps 100000
service:
  readiness_probe: /health
  replica_policy:
    min_replicas: 3
    max_replicas: 5
    target_qps_per_replica: 4
    upscale_delay_seconds: 20
    downscale_delay_seconds: 20
    dynamic_ondemand_fallback: true
YAML
pids=()
cleanup() {
  touch "$TMP/stop"
  for p in $(jobs -p); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  stop_home
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
RUNNING="[r for r in j['replicas'] if r['job_state'] == 'RUNNING']"
READY="[r for r in j['replicas'] if r['state'] == 'READY']"

run 0 "$STRATUS" serve up "$TMP/chat.yaml"
KEY=$(tail -n 1 <<<"$OUT")
until_status "len($READY) == 3 and j['state'] == 'READY'" 120 "3 ready replicas"
[ "$(status_json "len(set((r['cloud'], r['region']) for r in $RUNNING if r.get('mode') == 'spot'))")" -ge 2 ] ||
  fail "spot replicas must be spread over >= 2 locations: $("$STRATUS" serve status chat)"
ok "3 spot replicas over >= 2 locations, all ready"

# --- two routers, in gcp/us-central1 and azure/westeurope ---
PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$STRATUS_HOME/controller.log" | tail -n 1)
TOKEN=$("$STRATUS" token create --name routers --role member 2>/dev/null)
start_router() { # start_router NAME REGION: sets its URL in R_<NAME>, its PID in P_<NAME>
  # (STRATUS_LOG=info: its log shows each replica set it applied, for a failure report)
  STRATUS_LOG=info STRATUS_TOKEN=$TOKEN "$STRATUS" router --api "http://127.0.0.1:$PORT" --service chat \
    --region "$2" --listen 127.0.0.1:0 --max-inflight 1 --max-wait 30 2>"$TMP/router-$1.log" &
  pids+=($!)
  eval "P_$1=$!"
  wait_for grep -q "listening on" "$TMP/router-$1.log"
  eval "R_$1=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$TMP/router-$1.log" | head -n 1)"
}
start_router us gcp/us-central1
start_router eu azure/westeurope
# a router has the set once its /-/replicas shows 3 ready
for r in "$R_us" "$R_eu"; do
  wait_for sh -c "curl -sf '$r/-/replicas' | grep -o '\"READY\"' | wc -l | grep -qx 3"
done
ok "two routers follow the server's replica set"
# routers_alive: both routers still run; one found gone fails the test with
# how it ended (its exit status: 1 a sanitizer report, 134 an abort such as
# a BUG_ON, 137 SIGKILL as from the OOM killer) and the end of its log
before_fail() { routers_alive; } # a router gone says so first, in the waits of lib.sh
routers_alive() {
  local n p rc
  for n in us eu; do
    eval "p=\$P_$n"
    kill -0 "$p" 2>/dev/null && continue
    wait "$p"; rc=$?
    fail "the $n router is gone (exit status $rc$([ "$rc" -gt 128 ] && echo ", signal $((rc - 128))")); its log ends: $(tail -n 60 "$TMP/router-$n.log")"
  done
}

# --- the load: RATE requests/s over both routers until $TMP/stop ---
cat >"$TMP/load.py" <<'PY'
import json, os, sys, threading, time, urllib.error, urllib.request
tmp, key, urls = sys.argv[1], sys.argv[2], sys.argv[3:]
lock = threading.Lock()
res = {"ok": 0, "fail": 0, "errors": []}
def one(url):
    body = json.dumps({"model": "m", "prompt": "hello", "max_tokens": 24}).encode()
    req = urllib.request.Request(url + "/v1/completions", body,
                                 {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
            good = r.status == 200
            why = r.status
    except urllib.error.HTTPError as e:  # the body says whose answer it was (router or replica)
        good, why = False, "HTTP %d via %s at %.3f: %s" % (
            e.code, url, time.time(), e.read(300).decode(errors="replace").strip())
    except Exception as e:
        good, why = False, "%r via %s at %.3f" % (e, url, time.time())
    with lock:
        res["ok" if good else "fail"] += 1
        if not good and len(res["errors"]) < 5:
            res["errors"].append(str(why))
i = 0
while not os.path.exists(tmp + "/stop"):
    rate = float(open(tmp + "/rate").read())
    threading.Thread(target=one, args=(urls[i % len(urls)],), daemon=True).start()
    i += 1
    if i % 20 == 0:
        with lock:
            json.dump(res, open(tmp + "/load.json.tmp", "w"))
        os.replace(tmp + "/load.json.tmp", tmp + "/load.json")
    time.sleep(1.0 / rate)
time.sleep(3)
with lock:
    json.dump(res, open(tmp + "/load.json.tmp", "w"))
os.replace(tmp + "/load.json.tmp", tmp + "/load.json")
PY
# set_rate N: the load's requests per second, replaced whole (the load reads
# the file while it is written otherwise, and finds it empty)
set_rate() { echo "$1" >"$TMP/rate.new" && mv "$TMP/rate.new" "$TMP/rate"; }
set_rate 3
python3 "$TMP/load.py" "$TMP" "$KEY" "$R_us" "$R_eu" &
LOAD=$!
pids+=($LOAD)
failed() { python3 -c "import json; j=json.load(open('$TMP/load.json')); print(j['fail'], j['errors'])"; }
wait_answered 40
# routers report their load with their URL: serve status lists the endpoints
until_status "sorted(r['url'] for r in j['routers']) == sorted(['$R_us', '$R_eu']) and sorted(r['region'] for r in j['routers']) == ['azure/westeurope', 'gcp/us-central1']" 60 "both routers listed"
run 0 "$STRATUS" serve status chat
has "$OUT" "endpoint $R_us  (router in gcp/us-central1"
routers_alive
ok "serve status lists each router's endpoint and region (from their load reports)"
# nearest first: the us router sent most of its requests to gcp/us-central1
metric_region() { # metric_region URL REGION: requests the router sent there
  curl -sf "$1/-/metrics" | awk -v r="region=\"$2\"" '/^stratus_router_replica_requests_total/ && index($0, r) {s += $NF} END {print s + 0}'
}
us_local=$(metric_region "$R_us" gcp/us-central1)
us_all=$(curl -sf "$R_us/-/metrics" | awk '/^stratus_router_replica_requests_total/ {s += $NF} END {print s + 0}')
[ "$us_local" -gt 0 ] && [ $((us_local * 10)) -ge $((us_all * 7)) ] ||
  fail "at low load the us router must prefer its region: $us_local of $us_all"
routers_alive
ok "at low load each router serves from its own region first ($us_local of $us_all in gcp/us-central1)"

# --- preemptions with notice under load: no failed request ---
# (a preempted replica is its job: the controller relaunches it, a new attempt)
for i in 0 1; do
  rep=$(status_json "[r['id'] for r in $READY][$i]")
  before=$(job_field "$rep" 'j["attempts"]')
  run 0 "$STRATUS" local preempt --service chat --replica "$rep"
  relaunched() { [ "$(job_field "$rep" 'j["attempts"]')" -gt "$before" ]; }
  poll 120 relaunched
  until_status "len($READY) >= 3" 120 "3 ready replicas after preempting $rep"
done
wait_answered 20
read -r nfail errs < <(failed)
[ "$nfail" = 0 ] || fail "requests failed across preemptions: $nfail $errs"
routers_alive
ok "two replicas preempted under load: drained and replaced, 0 failed requests ($(answered) answered)"

# --- spot gone everywhere: on-demand fills in, then goes when spot is back ---
for loc in azure/westeurope gcp/us-central1 gcp/europe-west4; do
  run 0 "$STRATUS" local stockout --location "$loc" --for 10m
done
rep=$(status_json "[r['id'] for r in $READY if r.get('mode') == 'spot'][0]")
run 0 "$STRATUS" local preempt --service chat --replica "$rep"
until_status "any(r.get('mode') == 'on-demand' and r['state'] == 'READY' for r in j['replicas'])" 120 "an on-demand replica while spot is short"
routers_alive
ok "with spot short, an on-demand replica is ready in its place"
for loc in azure/westeurope gcp/us-central1 gcp/europe-west4; do
  run 0 "$STRATUS" local stockout --location "$loc" --for 0
done
until_status "len([r for r in $READY if r.get('mode') == 'spot']) >= 3 and not any(r.get('mode') == 'on-demand' and r['job_state'] == 'RUNNING' for r in j['replicas'])" 180 "spot back, on-demand retired"
routers_alive
ok "spot is back: 3 spot replicas ready, the on-demand one retired"

# --- a load step: up, overflow, then down ---
[ "$(status_json "j['target']")" = 3 ] || fail "before the step the target must be 3: $(status_json "j['target'], j['qps']")"
set_rate 30
until_status "j['target'] > 3 and len($READY) > 3" 180 "scaling up under a load step"
routers_alive
[ "$(curl -sf "$R_us/-/metrics" | awk '/^stratus_router_overflows_total/ {print $NF}')" -gt 0 ] ||
  fail "under the step the us router must overflow past its region: $(curl -sf "$R_us/-/metrics" | grep -E 'overflows|replica_requests_total|saturated|inflight{') $(cat "$TMP/load.json"); the us router's log ends: $(tail -n 40 "$TMP/router-us.log")"
ok "a load step scales the service up ($(status_json "j['target']") replicas wanted) and routers overflow"
set_rate 1
until_status "j['target'] == 3 and len($RUNNING) == 3" 240 "scaling back down"
routers_alive
ok "after the step the service scales back down to 3"
touch "$TMP/stop"
wait "$LOAD"
read -r nfail errs < <(failed)
[ "$nfail" = 0 ] || fail "requests failed: $nfail $errs"
ok "0 failed requests over the whole run ($(answered) answered)"
