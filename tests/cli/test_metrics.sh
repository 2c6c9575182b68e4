#!/usr/bin/env bash
# A real Prometheus (Debian's `prometheus` package) scrapes `stratus server`
# over a TCP loopback listener with a bearer token, and the series come back
# through Prometheus' query API:
#   - /metrics refuses a scrape without a token (401) and with a bad one
#   - Prometheus' scrape succeeds (up == 1) with a viewer token made through
#     the API (POST /v1/tokens over the owner's UNIX socket)
#   - a job submitted through the API and run on the local clouds shows as
#     stratus_jobs{state="SUCCEEDED"} == 1, with its placement counted in
#     stratus_placements_total and the API's requests in
#     stratus_api_requests_total
#   - a launch the cloud's API fails (an injected api-error) is counted in
#     stratus_driver_errors_total{driver="local"}
#   - stratus_spend_usd_total adds up to `GET /v1/cost?by=cloud` cloud by
#     cloud: a data move in the cloud it left, a copy's keeping in its own
# Skips when prometheus is not installed (scripts/install-deps.sh installs it).
. "$(dirname "$0")/lib.sh"

PROM=$(command -v prometheus || true)
[ -n "$PROM" ] || { echo "skipped: prometheus is not installed (apt-get install prometheus; scripts/install-deps.sh)"; exit 0; }
use_home
# the mini catalog prices no storage: GCP's keeps a copy at $0.02 a GB-month
printf 'cloud,price_per_gb_month,note\ngcp,0.02,test\n' >"$STRATUS_CATALOG/storage.csv"
SRV_PID="" PROM_PID=""
# stop PID: SIGTERM, then SIGKILL if it has not gone in 10 s.
stop() {
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; nap 0.1; done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
trap 'stop "$PROM_PID"; stop "$SRV_PID"; stop_home; rm -rf "$TMP"' EXIT

# A free loopback port (the kernel's pick; nothing else binds it in between
# on a test machine, and the server/Prometheus would fail loudly if so).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
PPORT=$(free_port)

cat >"$STRATUS_HOME/server.yaml" <<YAML
listen:
  - unix: stratus.sock
  - tcp: 127.0.0.1:$PORT
drivers:
  - name: local
    driver: local
    locations: ["*"]
YAML
"$STRATUS" server --config "$STRATUS_HOME/server.yaml" 2>"$TMP/server.log" &
SRV_PID=$!
api() { curl -s -o "$TMP/body" -w '%{http_code}' "$@"; }
up="" end=$((SECONDS + 60))
while [ $SECONDS -lt $end ]; do
  up=$(api "http://127.0.0.1:$PORT/healthz") && [ "$up" = 200 ] && break
  kill -0 "$SRV_PID" 2>/dev/null || fail "the server exited: $(cat "$TMP/server.log")"
  nap 0.1
done
[ "$up" = 200 ] || fail "the server did not answer /healthz with 200 in 60 s (last: $up): $(cat "$TMP/server.log")"
ok "stratus server answers on 127.0.0.1:$PORT"

code=$(api "http://127.0.0.1:$PORT/metrics")
[ "$code" = 401 ] || fail "/metrics without a token: $code, expected 401: $(cat "$TMP/body")"
code=$(api -H "Authorization: Bearer st_not-a-token" "http://127.0.0.1:$PORT/metrics")
[ "$code" = 401 ] || fail "/metrics with a bad token: $code, expected 401: $(cat "$TMP/body")"
ok "/metrics refuses no token and a bad token (401)"

code=$(api --unix-socket "$STRATUS_HOME/stratus.sock" -X POST -H 'Content-Type: application/json' \
  -d '{"name":"prometheus","role":"viewer"}' http://localhost/v1/tokens)
[ "$code" = 201 ] || fail "POST /v1/tokens: $code: $(cat "$TMP/body")"
OUT=$(cat "$TMP/body")
(umask 077 && json 'j["token"]' >"$TMP/token")
code=$(api -H "Authorization: Bearer $(cat "$TMP/token")" "http://127.0.0.1:$PORT/metrics")
[ "$code" = 200 ] || fail "/metrics with the viewer token: $code: $(cat "$TMP/body")"
has "$(cat "$TMP/body")" "# TYPE stratus_jobs gauge"
ok "a viewer token made through the API reads /metrics"

cat >"$TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: stratus
    scrape_interval: 1s
    scrape_timeout: 1s
    authorization:
      type: Bearer
      credentials_file: $TMP/token
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
YAML
"$PROM" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom-data" \
  --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$TMP/prom.log" 2>&1 &
PROM_PID=$!

# query EXPR: the instant query's result as JSON on stdout ("" when none yet).
query() {
  curl -s --get --data-urlencode "query=$1" "http://127.0.0.1:$PPORT/api/v1/query" 2>/dev/null
}
# value EXPR: the value of the query's single series, or "" when none.
value() {
  query "$1" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
except Exception:
    r = []
print(r[0]["value"][1] if len(r) == 1 else "")'
}
# wait_value EXPR WANT [SECONDS]: until the query gives WANT (default bound 90 s).
wait_value() {
  local v="" end=$((SECONDS + ${3:-90}))
  while [ $SECONDS -lt $end ]; do
    v=$(value "$1")
    [ "$v" = "$2" ] && return 0
    kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus exited: $(cat "$TMP/prom.log")"
    nap 0.1
  done
  fail "Prometheus: '$1' is '$v' after ${3:-90} s, expected $2; last query: $(query "$1"); log: $(tail -5 "$TMP/prom.log")"
}
wait_value 'up{job="stratus"}' 1
ok "Prometheus scrapes the server with the bearer token (up == 1)"

cat >"$TMP/job.yaml" <<'YAML'
name: scraped
resources:
  accelerators: H100:8
  use_spot: false
run: echo scraped
YAML
body=$(python3 -c 'import json,sys; print(json.dumps({"spec": open(sys.argv[1]).read(), "file": sys.argv[1]}))' "$TMP/job.yaml")
code=$(api --unix-socket "$STRATUS_HOME/stratus.sock" -X POST -H 'Content-Type: application/json' \
  -d "$body" http://localhost/v1/jobs)
[ "$code" = 201 ] || fail "POST /v1/jobs: $code: $(cat "$TMP/body")"
OUT=$(cat "$TMP/body")
id=$(json 'j["id"]')
ok "job $id submitted through the API"

wait_value 'stratus_jobs{job="stratus",state="SUCCEEDED"}' 1
wait_value 'sum(stratus_jobs{job="stratus",state=~"PENDING|PROVISIONING|RUNNING|RECOVERING|FAILED|CANCELLED"})' 0
ok "Prometheus has stratus_jobs{state=\"SUCCEEDED\"} == 1 (and no job in another state)"
wait_value 'sum(stratus_placements_total{job="stratus",mode="on-demand"})' 1
ok "the placement is counted: stratus_placements_total{mode=\"on-demand\"} == 1"
wait_value 'sum(stratus_api_requests_total{job="stratus",route="POST /v1/jobs",code="201"})' 1
v=$(value 'stratus_api_request_seconds_count{job="stratus",route="GET /metrics"} > 0')
[ -n "$v" ] || fail "no latency histogram for GET /metrics in Prometheus: $(query 'stratus_api_request_seconds_count')"
ok "the API's requests and latencies are in Prometheus"

# --- a cloud API that fails launches: the driver's failed calls are counted
# (a capacity refusal would not be) ---
run 0 "$STRATUS" local api-error --location oci/us-ashburn-1 --for 1h
cat >"$TMP/blocked.yaml" <<'YAML'
name: blocked
resources:
  accelerators: H100:8
  infra: oci/us-ashburn-1
  use_spot: false
run: echo never
YAML
run 0 "$STRATUS" launch "$TMP/blocked.yaml" --detach
wait_value 'sum(stratus_driver_errors_total{job="stratus",driver="local"}) > bool 0' 1
code=$(api -H "Authorization: Bearer $(cat "$TMP/token")" "http://127.0.0.1:$PORT/metrics")
grep -Eq '^stratus_driver_errors_total\{driver="local"\} [1-9]' "$TMP/body" ||
  fail "no driver error counted: $(grep driver_errors "$TMP/body")"
ok "launches the cloud's API fails are counted: stratus_driver_errors_total{driver=\"local\"} > 0"

# --- the spend counter adds up to the report, cloud by cloud: a job away
# from its shared dataset (a move from Azure by way of OCI, a copy kept in GCP
# for its TTL, large enough that its keeping shows within seconds) ---
cat >"$TMP/moved.yaml" <<'YAML'
name: moved
resources: {cloud: gcp, region: us-central1, accelerators: A100-80GB:8, use_spot: false}
stratus:
  data: {location: azure/eastus, size_gb: 2000000, dataset: corpus}
run: echo moved
YAML
run 0 "$STRATUS" launch "$TMP/moved.yaml" --detach
wait_value 'stratus_jobs{job="stratus",state="SUCCEEDED"}' 2
# until the report's storage is over $0.05 (the copy kept some seconds)
end=$((SECONDS + 120))
while :; do
  code=$(api -H "Authorization: Bearer $(cat "$TMP/token")" "http://127.0.0.1:$PORT/v1/cost?by=cloud")
  [ "$code" = 200 ] || fail "GET /v1/cost?by=cloud: $code: $(cat "$TMP/body")"
  python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["total"]["storage_usd"] > 0.05 else 1)' "$TMP/body" && break
  [ $SECONDS -lt $end ] || fail "no storage in the report after 120 s: $(cat "$TMP/body"); $("$STRATUS" data ls --all 2>&1)"
  nap 0.2
done
t0=$(date +%s.%N)
api -H "Authorization: Bearer $(cat "$TMP/token")" "http://127.0.0.1:$PORT/metrics" >/dev/null
cp "$TMP/body" "$TMP/metrics.txt"
api -H "Authorization: Bearer $(cat "$TMP/token")" "http://127.0.0.1:$PORT/v1/cost?by=cloud" >/dev/null
t1=$(date +%s.%N)
python3 - "$TMP/metrics.txt" "$TMP/body" "$t0" "$t1" <<'PY' || fail "the spend counter does not add up to the report"
import json, re, sys
spend = {m.group(1): float(m.group(2)) for m in
         re.finditer(r'^stratus_spend_usd_total\{cloud="([^"]*)"\} (\S+)$', open(sys.argv[1]).read(), re.M)}
rep = json.load(open(sys.argv[2]))
rows = {r["key"]: r for r in rep["rows"]}
storage = rows["gcp"]["storage_usd"]
for cloud in set(spend) | set(rows):
    got, want = spend.get(cloud, 0), rows.get(cloud, {}).get("usd", 0)
    # the two reads are apart by at most t1 - t0 (seconds, on a loaded
    # machine): the copy's keeping grows $0.0153 a second
    if abs(got - want) > 0.01 + 0.0153 * (float(sys.argv[4]) - float(sys.argv[3])):
        sys.exit("cloud %s: counter $%.4f, report $%.4f (storage $%.4f)" % (cloud, got, want, storage))
# the move is relayed over the free Azure-OCI interconnect: OCI's egress
assert rows["oci"]["egress_usd"] > 10000 and storage > 0.05, rep
print("by cloud: counter", {k: round(v, 2) for k, v in spend.items()}, "storage $%.2f" % storage)
PY
ok "the spend counter adds up to the report cloud by cloud, the data move in OCI (relayed) and the copy's keeping in GCP"

stop "$PROM_PID"; PROM_PID=""
stop "$SRV_PID"; SRV_PID=""
ok "server and Prometheus stopped by PID"
