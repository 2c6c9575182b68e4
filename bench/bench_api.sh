#!/usr/bin/env bash
# bench_api.sh - what `stratus server`'s HTTP API sustains on loopback, next
# to slurmrestd measured in the same run on the same machine.  Prints
# numbers; it is not a test (this header says how to read them).  The
# machine's load average is printed first: on a shared machine every rate
# below is a share of what 2 idle cores would give, the ratios less so.
#
#   bench/bench_api.sh [BUILD_DIR]     (default build-rel: a Release build;
#                                      needs root for the Slurm parts)
#
#   BENCH_DURATION=10s     each wrk run
#   BENCH_CONNS=64         wrk connections (2 threads: the machine's 2 cores)
#   BENCH_WAKE=50          submits for the wake-up latency
#   BENCH_SLURM_JOBS=300   jobs for the Slurm submit path
#   BENCH_NO_SLURM=1       skip everything that needs Slurm (and root)
#   BENCH_ONLY=anchor      run one part only: handler, anchor, api, wake, slurm
#   BENCH_SLURM_QUEUE=N    slurm part: the clusters file's `queue` (nodes that may
#                          wait in a cluster's own queue; default: the driver's)
#   BENCH_SLURM_GAPS=DIR   slurm part: also say where the time between two jobs
#                          on a node went (api_client.py gaps), and keep the
#                          server's log in DIR
#
# Parts (each prints its lines):
#   handler bench_api_handle (bench/bench_api_handle.c): the handlers' own
#           cost per request on one core, without HTTP
#   anchor  slurmrestd `GET /slurm/v0.0.38/jobs` with wrk (JWT headers), on
#           one of the two clusters of scripts/slurm-up.sh
#   api     `GET /v1/jobs/{id}` and durable `POST /v1/jobs` (bench/wrk_submit.lua:
#           the reply comes after the commit) with wrk, bearer token over TCP;
#           req/s, p99, non-2xx replies, and the jobs the store holds after
#           the submit run against the 2xx replies wrk counted; the read
#           rate over slurmrestd's
#   wake    a submit's reply -> the job's PROVISIONING event (the event's
#           timestamp is the controller step's clock, taken as it starts):
#           median, p90 and max over BENCH_WAKE sequential submits on the
#           local clouds, one job at a time (bench/api_client.py).  Can be
#           slightly negative: the loop may start the step before the client
#           has read the reply.  "first seen" is when the client's next
#           events request saw it: after the whole step (launch, commit).
#   slurm   BENCH_SLURM_JOBS jobs (1 node x 8 GPUs, `true`) submitted by one
#           keep-alive client (bench/api_client.py) straight to slurmrestd,
#           then, once the nodes are idle again, through the API of a server
#           whose only driver is Slurm (bearer token over TCP): submit rates
#           (target >= 80%) and makespans, first submit to all ended
#           (target <= 1.10x)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build-rel}
STRATUS=$root/$build/stratus
DUR=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNS:-64}
WAKE_N=${BENCH_WAKE:-50}
SLURM_N=${BENCH_SLURM_JOBS:-300}
ONLY=${BENCH_ONLY:-}
[ -x "$STRATUS" ] || { echo "bench_api: no $STRATUS; build first (cmake -DCMAKE_BUILD_TYPE=Release)"; exit 1; }
command -v wrk >/dev/null || { echo "bench_api: needs wrk (scripts/install-deps.sh)"; exit 1; }
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
slurm=1
[ -n "${BENCH_NO_SLURM:-}" ] && slurm=0
[ "$(id -u)" -eq 0 ] || { [ $slurm = 1 ] && echo "bench_api: not root: Slurm parts skipped"; slurm=0; }

export SLURM_DIR=/tmp/stratus-slurm-benchapi SLURM_PORT_BASE=${BENCH_SLURM_PORT_BASE:-18900}
export SLURM_POLL_INTERVAL=${BENCH_POLL:-0.25s}
TMP=$(mktemp -d)
SRV_PID=""
stop_server() {
  [ -n "$SRV_PID" ] || return 0
  kill -TERM "$SRV_PID" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SRV_PID" 2>/dev/null
  wait "$SRV_PID" 2>/dev/null
  SRV_PID=""
}
cleanup() {
  stop_server
  [ $slurm = 1 ] && "$root/scripts/slurm-down.sh" --purge >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

# ---- wrk ----

# wrk_run NAME ARGS...: run wrk --latency, print one line, set RPS and P99 (ms).
wrk_run() {
  local name=$1 out
  shift
  out=$(wrk -t2 -c"$CONNS" -d"$DUR" --latency "$@" 2>&1)
  RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  P99=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
             print (u == "us" ? v / 1000 : u == "s" ? v * 1000 : v)}' <<<"$out")
  NON2XX=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  ERRS=$(awk '/Socket errors:/ {sub(/^ *Socket errors: */, ""); print}' <<<"$out")
  REQS=$(awk '/requests in/ {print $1}' <<<"$out")
  [ -n "$RPS" ] || { echo "bench_api: wrk failed: $out"; exit 1; }
  printf '%-44s %9.0f req/s   p99 %7.2f ms   (%s requests, %s non-2xx%s)\n' "$name" "$RPS" \
    "$P99" "$REQS" "${NON2XX:-0}" "${ERRS:+, socket errors: $ERRS}"
}

# ---- Slurm: the clusters and the anchor ----

ANCHOR_RPS=""
slurm_up() {
  "$root/scripts/slurm-up.sh" >"$TMP/up.log" 2>&1 || { cat "$TMP/up.log"; exit 1; }
}
rest_port() { echo $((SLURM_PORT_BASE + $1 * 20 + 1)); }
anchor() {
  local tok njobs
  tok=$(cat "$SLURM_DIR/azure-eastus/token")
  njobs=$(curl -sf -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $tok" \
    "http://127.0.0.1:$(rest_port 0)/slurm/v0.0.38/jobs" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')
  wrk_run "slurmrestd GET /slurm/v0.0.38/jobs ($njobs jobs)" \
    -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $tok" \
    "http://127.0.0.1:$(rest_port 0)/slurm/v0.0.38/jobs"
  ANCHOR_RPS=$RPS
}

# ---- the server ----

# start_server NAME YAML_DRIVERS: a fresh home $TMP/NAME with a server.yaml
# (the owner's UNIX socket and a TCP listener on a free loopback port, then
# YAML_DRIVERS), the server started in the foreground of a background job;
# waits (bounded) for /healthz, then makes an admin token over the socket.
# Sets HOME_DIR, URL, TOKEN.
start_server() {
  local port code=""
  HOME_DIR=$TMP/$1
  mkdir -p -m 0700 "$HOME_DIR"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  URL=http://127.0.0.1:$port
  printf 'listen:\n  - unix: stratus.sock\n  - tcp: 127.0.0.1:%s\n%s\n' "$port" "$2" >"$HOME_DIR/server.yaml"
  STRATUS_HOME=$HOME_DIR "$STRATUS" server --config "$HOME_DIR/server.yaml" 2>"$HOME_DIR/server.log" &
  SRV_PID=$!
  local end=$((SECONDS + 30))
  while [ $SECONDS -lt $end ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")
    [ "$code" = 200 ] && break
    kill -0 "$SRV_PID" 2>/dev/null || { echo "bench_api: the server exited: $(cat "$HOME_DIR/server.log")"; exit 1; }
    sleep 0.1
  done
  [ "$code" = 200 ] || { echo "bench_api: no /healthz 200 in 30 s ($code)"; exit 1; }
  TOKEN=$(curl -sf --unix-socket "$HOME_DIR/stratus.sock" -X POST -H 'Content-Type: application/json' \
    -d '{"name":"bench","role":"admin"}' http://localhost/v1/tokens |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') ||
    { echo "bench_api: cannot make a token: $(tail -3 "$HOME_DIR/server.log")"; exit 1; }
}
# The server stopped; node supervisors of the local driver outlive it (by
# design): stop them by the PIDs their attempt directories hold.
stop_home() {
  local p
  stop_server
  for p in $(find "$HOME_DIR" -path "*/local/att-*/pid" 2>/dev/null); do
    kill -9 -- "-$(cat "$p")" 2>/dev/null; kill -9 "$(cat "$p")" 2>/dev/null
  done
}
# What the server's own /metrics says about the run: controller steps and
# their mean duration, and the mean latency of each route used.
metrics_summary() {
  curl -sf -H "Authorization: Bearer $TOKEN" "$URL/metrics" | python3 -c '
import re, sys
sums, counts = {}, {}
for line in sys.stdin:
    m = re.match(r"(stratus_\w+?)_(sum|count)(\{.*\})? (\S+)$", line)
    if m:
        (sums if m.group(2) == "sum" else counts)[(m.group(1), m.group(3) or "")] = float(m.group(4))
for key, n in counts.items():
    if n > 0:
        print(f"  /metrics: {key[0]}{key[1]}: {n:.0f}, mean {sums[key] / n * 1000:.2f} ms")'
}
spec() { # spec FILE NAME CLOUD_LINE RUN
  printf 'name: %s\nresources:\n  accelerators: H100:8\n  use_spot: false\n%s\nrun: "%s"\n' \
    "$2" "$3" "$4" >"$1"
}
body_of() { python3 -c 'import json,sys; print(json.dumps({"spec": open(sys.argv[1]).read(), "file": sys.argv[1]}))' "$1"; }
jobs_in_store() {
  python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1], timeout=30).execute("select count(*) from jobs").fetchone()[0])' "$1/stratus.db"
}

# api: one job run on the local clouds (read back), then submits that park:
# the job asks for gcp, which the configuration binds to no driver, so each
# is committed, seen by the controller once (no capacity there) and waits;
# the bench measures the API and the store, not thousands of node processes.
api_part() {
  local pre post id
  export STRATUS_CATALOG=$root/tests/data/catalog-mini
  start_server api "$(printf 'drivers:\n  - name: local\n    driver: local\n    locations: ["azure", "oci"]')"
  spec "$TMP/run.yaml" read-me "" true
  id=$(curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "$(body_of "$TMP/run.yaml")" "$URL/v1/jobs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  python3 "$root/bench/api_client.py" wait "$URL" "$TOKEN" >/dev/null
  wrk_run "stratus GET /v1/jobs/$id" -H "Authorization: Bearer $TOKEN" "$URL/v1/jobs/$id"
  READ_RPS=$RPS READ_P99=$P99
  spec "$TMP/park.yaml" parked "  cloud: gcp" true
  body_of "$TMP/park.yaml" >"$TMP/park.json"
  pre=$(jobs_in_store "$HOME_DIR")
  BENCH_SUBMIT_BODY=$TMP/park.json wrk_run "stratus POST /v1/jobs (durable submit)" \
    -s "$root/bench/wrk_submit.lua" -H "Authorization: Bearer $TOKEN" "$URL/v1/jobs"
  SUB_RPS=$RPS
  post=$(jobs_in_store "$HOME_DIR")
  echo "  jobs committed during the submit run: $((post - pre)); 2xx replies wrk counted: $((REQS - ${NON2XX:-0}))"
  metrics_summary
  stop_home
  unset STRATUS_CATALOG
}

# wake: a submit's reply -> its PROVISIONING event, jobs run one at a time.
wake_part() {
  local n med p90 max seen
  export STRATUS_CATALOG=$root/tests/data/catalog-mini
  start_server wake "$(printf 'drivers:\n  - name: local\n    driver: local\n    locations: ["*"]')"
  spec "$TMP/wake.yaml" wake "" true
  read -r n med p90 max seen < <(python3 "$root/bench/api_client.py" wake "$URL" "$TOKEN" "$TMP/wake.yaml" "$WAKE_N")
  printf 'wake-up: submit reply -> PROVISIONING event  median %.3f ms  p90 %.3f ms  max %.3f ms  (%s submits; first seen by the client: median %.3f ms)\n' \
    "$med" "$p90" "$max" "$n" "$seen"
  metrics_summary
  stop_home
  unset STRATUS_CATALOG
}

idle_wait() { # until all 8 Slurm nodes are idle again
  local c d
  for _ in $(seq 1 600); do
    c=0
    for d in azure-eastus oci-ashburn; do
      c=$((c + $(SLURM_CONF=$SLURM_DIR/$d/slurm.conf sinfo -h -t idle -o %D | awk '{s += $1} END {print s + 0}')))
    done
    [ "$c" -ge 8 ] && return 0
    sleep 0.1
  done
}

# slurm: the same jobs straight to slurmrestd, then through the API.
slurm_part() {
  local d_sub d_make d_bad s_sub s_t0 s_end s_n s_bad
  read -r d_sub d_make d_bad < <(python3 "$root/bench/api_client.py" slurm "$SLURM_DIR" "$SLURM_PORT_BASE" "$SLURM_N")
  idle_wait
  export STRATUS_CATALOG=$root/tests/data/catalog-mini
  { [ -n "${BENCH_SLURM_QUEUE:-}" ] && echo "queue: $BENCH_SLURM_QUEUE"; cat "$SLURM_DIR/clusters.yaml"; } >"$TMP/clusters.yaml"
  start_server slurm "$(printf 'drivers:\n  - name: lab-slurm\n    driver: slurm\n    config: %s\n    locations: ["*"]\n    timing: {poll: %s}' "$TMP/clusters.yaml" "$SLURM_POLL_INTERVAL")"
  spec "$TMP/slurm.yaml" bench "" true
  read -r s_sub s_t0 < <(python3 "$root/bench/api_client.py" submit "$URL" "$TOKEN" "$TMP/slurm.yaml" "$SLURM_N")
  read -r s_end s_n s_bad < <(python3 "$root/bench/api_client.py" wait "$URL" "$TOKEN")
  metrics_summary
  if [ -n "${BENCH_SLURM_GAPS:-}" ]; then
    python3 "$root/bench/api_client.py" gaps "$SLURM_DIR" "$SLURM_PORT_BASE"
    mkdir -p "$BENCH_SLURM_GAPS" && cp "$HOME_DIR/server.log" "$BENCH_SLURM_GAPS/server.log"
  fi
  stop_home
  unset STRATUS_CATALOG
  python3 - "$SLURM_N" "$d_sub" "$d_make" "$d_bad" "$s_sub" "$s_t0" "$s_end" "$s_bad" <<'PY'
import sys
n = int(sys.argv[1])
d_sub, d_make, d_bad, s_sub, s_t0, s_end, s_bad = map(float, sys.argv[2:])
s_make = s_end - s_t0
print(f"slurm direct      submit {n / d_sub:7.1f} jobs/s   makespan {d_make:7.2f} s   not COMPLETED {d_bad:.0f}")
print(f"slurm via API     submit {n / s_sub:7.1f} jobs/s   makespan {s_make:7.2f} s   not SUCCEEDED {s_bad:.0f}")
print(f"  submit rate through Stratus / direct: {d_sub / s_sub * 100:5.1f} % (target >= 80 %)")
print(f"  makespan through Stratus / direct:    {s_make / d_make:5.2f}x (target <= 1.10x)")
PY
}

echo "bench_api: $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg)), wrk -t2 -c$CONNS -d$DUR, $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet 2>/dev/null || echo +dirty), $build"
if want handler && [ -x "$root/$build/bench_api_handle" ]; then
  echo "-- handler cost without HTTP (bench_api_handle):"
  STRATUS_CATALOG=$root/tests/data/catalog-mini "$root/$build/bench_api_handle" 3000 | tail -n +2
fi
# The API first, with no Slurm cluster up: the clusters' dozen daemons,
# idle, still take a share of the 2 cores (and the read p99 with them);
# slurmrestd is measured right after, in the same run, with the same wrk.
want api && api_part
if [ $slurm = 1 ]; then
  slurm_up
  want anchor || want api && anchor
fi
if [ -n "$ANCHOR_RPS" ] && [ -n "${READ_RPS:-}" ]; then
  python3 -c 'import sys; r, a = map(float, sys.argv[1:]); print(f"  reads over slurmrestd: {r / a:.1f}x (target >= 10x; reads >= 20000 req/s, p99 < 5 ms)")' "$READ_RPS" "$ANCHOR_RPS"
fi
[ -n "${SUB_RPS:-}" ] && echo "  durable submits: ${SUB_RPS%.*} jobs/s (target >= 2000)"
want wake && wake_part
[ $slurm = 1 ] && want slurm && slurm_part
exit 0
