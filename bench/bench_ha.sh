#!/usr/bin/env bash
# bench_ha.sh - the highly available control plane on PostgreSQL (docs/ha.md):
# prints numbers; it is not a test.
#
#   bench/bench_ha.sh [BUILD_DIR]       (default build-rel)
#
#   BENCH_TRIALS=20       takeovers to time
#   BENCH_LEASE=2s        the servers' lease
#   BENCH_DURATION=10s    each wrk run of the submit part
#   BENCH_ONLY=submit|takeover
#
# Parts:
#   submit    durable `POST /v1/jobs` with wrk (bench/wrk_submit.lua; the
#             reply comes after the commit), 16 connections, against a server
#             on SQLite, then one on PostgreSQL (a private cluster of
#             scripts/postgres-local.sh, fsync on): req/s, p99, and the jobs
#             the store holds after the run against the 2xx replies.  The
#             jobs park (they ask for gcp, which no driver serves here), so
#             this is the API and the store, not node processes.
#   takeover  two servers on one PostgreSQL, lease BENCH_LEASE: the leader is
#             killed with SIGKILL, and the time from the kill to the first
#             controller step of the new leader (its /healthz first_step_at)
#             is taken; the killed server is started again as a follower.
#             Median and max over BENCH_TRIALS.  The bound is lease + lease/4
#             (a lapsed lease is seen at the next take, every lease/4) plus
#             the new leader's opening of its drivers and controller.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$root/build-rel}
STRATUS=$BUILD/stratus
[ -x "$STRATUS" ] || { echo "bench_ha: build first: cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel"; exit 1; }
TRIALS=${BENCH_TRIALS:-20}
LEASE=${BENCH_LEASE:-2s}
DURATION=${BENCH_DURATION:-10s}
PGLOCAL=$root/scripts/postgres-local.sh
TMP=$(mktemp -d)
PGDIR=$(mktemp -d /tmp/stratus-pg.XXXXXX)
chmod 0755 "$PGDIR"
echo $$ >"$PGDIR/owner"
declare -A PIDS PORTS
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in $(find "$TMP" -path "*/local/att-*/pid" 2>/dev/null); do
    kill -9 -- "-$(cat "$p")" 2>/dev/null; kill -9 "$(cat "$p")" 2>/dev/null
  done
  "$PGLOCAL" stop "$PGDIR" >/dev/null 2>&1
  rm -rf "$PGDIR" "$TMP"
}
trap cleanup EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
URL=$("$PGLOCAL" start "$PGDIR" 2>"$TMP/pg.err") || { cat "$TMP/pg.err"; exit 1; }
PSQL=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/psql
pgsql() { "$PSQL" "$URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export STRATUS_CATALOG=$root/tests/data/catalog-mini

# server NAME STORE [EXTRA_YAML]: start a server in home $TMP/NAME; waits for /healthz.
server() {
  local h=$1 i
  mkdir -p -m 0700 "$TMP/$h"
  PORTS[$h]=${PORTS[$h]:-$(free_port)}
  printf 'listen:\n  - unix: stratus.sock\n  - tcp: 127.0.0.1:%s\nstore: %s\n%s\ndrivers:\n  - name: local\n    driver: local\n    locations: ["azure", "oci"]\n' \
    "${PORTS[$h]}" "$2" "${3:-}" >"$TMP/$h/server.yaml"
  STRATUS_HOME=$TMP/$h "$STRATUS" server --config "$TMP/$h/server.yaml" 2>>"$TMP/$h.log" &
  PIDS[$h]=$!
  for i in $(seq 1 300); do
    curl -s -o /dev/null "http://127.0.0.1:${PORTS[$h]}/healthz" && return 0
    sleep 0.1
  done
  echo "bench_ha: server $h does not answer: $(tail -3 "$TMP/$h.log")"; exit 1
}
health() { curl -s -m 5 "http://127.0.0.1:${PORTS[$1]}/healthz" | python3 -c "import json,sys; j=json.load(sys.stdin); print($2)" 2>/dev/null; }

submit_part() {
  local name store n0 n1 out rps p99 reqs non2xx
  printf 'name: parked\nresources:\n  accelerators: H100:8\n  cloud: gcp\nrun: "true"\n' >"$TMP/park.yaml"
  python3 -c 'import json,sys; print(json.dumps({"spec": open(sys.argv[1]).read(), "file": "park.yaml"}))' \
    "$TMP/park.yaml" >"$TMP/park.json"
  for name in sqlite postgres; do
    if [ $name = sqlite ]; then store=stratus.db; else store=$URL; pgsql "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1; fi
    server "sub-$name" "$store"
    for i in $(seq 1 100); do [ "$(health "sub-$name" "j['ok']")" = True ] && break; sleep 0.1; done
    TOKEN=$(curl -sf --unix-socket "$TMP/sub-$name/stratus.sock" -X POST -H 'Content-Type: application/json' \
      -d '{"name":"bench","role":"admin"}' http://localhost/v1/tokens | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    n0=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${PORTS[sub-$name]}/metrics" | sed -n 's/^stratus_jobs{state="PENDING"} //p')
    out=$(BENCH_SUBMIT_BODY=$TMP/park.json wrk -t2 -c16 -d"$DURATION" --latency -s "$root/bench/wrk_submit.lua" \
      -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${PORTS[sub-$name]}/v1/jobs")
    rps=$(sed -n 's/^Requests\/sec: *//p' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
    non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' <<<"$out")
    n1=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${PORTS[sub-$name]}/metrics" | sed -n 's/^stratus_jobs{state="PENDING"} //p')
    printf '  %-9s POST /v1/jobs: %8s req/s  p99 %-8s  %s replies, %s non-2xx; jobs stored in the run: %s\n' \
      "$name" "$rps" "$p99" "$reqs" "${non2xx:-0}" "$((${n1%.*} - ${n0%.*}))"
    kill "${PIDS[sub-$name]}"; wait "${PIDS[sub-$name]}" 2>/dev/null; unset "PIDS[sub-$name]"
  done
}

takeover_part() {
  local t L F t0 first i vals="" k
  pgsql "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1
  server A "$URL" "state_dir: $TMP/state
lease: $LEASE"
  for i in $(seq 1 100); do [ "$(health A "j['role']")" = leader ] && break; sleep 0.1; done
  cp "$TMP/A/server.secret" "$TMP/B/server.secret" 2>/dev/null || { mkdir -p -m 0700 "$TMP/B"; cp "$TMP/A/server.secret" "$TMP/B/"; }
  server B "$URL" "state_dir: $TMP/state
lease: $LEASE"
  for k in $(seq 1 "$TRIALS"); do
    L=""
    for i in $(seq 1 600); do
      [ "$(health A "j['role']")" = leader ] && L=A && break
      [ "$(health B "j['role']")" = leader ] && L=B && break
      sleep 0.05
    done
    [ -n "$L" ] || { echo "bench_ha: no leader"; exit 1; }
    [ $L = A ] && F=B || F=A
    [ "$(health $F "j['role']")" = follower ] || { sleep 0.2; continue; }
    t0=$(date +%s.%N)
    kill -9 "${PIDS[$L]}"; wait "${PIDS[$L]}" 2>/dev/null
    first=""
    for i in $(seq 1 1200); do
      first=$(health $F "j['leadership']['first_step_at'] or ''")
      [ -n "$first" ] && [ "$(health $F "j['role']")" = leader ] && break
      first=""; sleep 0.02
    done
    [ -n "$first" ] || { echo "bench_ha: trial $k: no takeover in 24 s"; exit 1; }
    t=$(python3 -c "print(f'{$first - $t0:.3f}')")
    vals="$vals $t"
    server "$L" "$URL" "state_dir: $TMP/state
lease: $LEASE"
  done
  python3 - "$LEASE" $vals <<'PY'
import statistics, sys
lease, v = sys.argv[1], [float(x) for x in sys.argv[2:]]
print(f"  takeover (SIGKILL of the leader -> first step of the new one), lease {lease}, {len(v)} trials:")
print(f"    median {statistics.median(v):.2f} s, max {max(v):.2f} s, min {min(v):.2f} s")
print("    all: " + " ".join(f"{x:.2f}" for x in v))
PY
}

case "${BENCH_ONLY:-all}" in
  submit) submit_part ;;
  takeover) takeover_part ;;
  *) submit_part; takeover_part ;;
esac
