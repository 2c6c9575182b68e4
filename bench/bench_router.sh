#!/usr/bin/env bash
# bench_router.sh - `stratus router` against nginx as a reverse proxy, on
# loopback, in one run: the same backend (bench/bench_router_backend.c, one
# evhttp loop, keep-alive), the same load (wrk -t2 -cCONNS, keep-alive),
# first straight to the backend, then through nginx (Debian's nginx:
# proxy_pass to an upstream block with keepalive, HTTP/1.1 to the
# upstream, access log off), then through the router (file mode, one
# replica, access log off).  nginx runs as many worker processes as the
# router runs event loops (BENCH_THREADS).  Prints requests/s, p50/p99
# latency and the latency each proxy adds over the direct run, and the
# router/nginx ratios.  Not a test: on a shared machine every rate is a
# share of the cores; the load average is printed first, and the proxies
# run back to back (BENCH_ROUNDS rounds, alternating) so their ratio holds.
#
#   bench/bench_router.sh [BUILD_DIR]     (default build-rrel: Release)
#
#   BENCH_DURATION=10s   each wrk run
#   BENCH_CONNS=64       wrk connections (wrk -t2)
#   BENCH_THREADS=1      router --threads and nginx worker_processes
#   BENCH_ROUNDS=2       nginx,router pairs (the best of each is reported)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build-rrel}
STRATUS=$root/$build/stratus
BACKEND=$root/$build/bench_router_backend
DUR=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-1}
ROUNDS=${BENCH_ROUNDS:-2}
[ -x "$STRATUS" ] && [ -x "$BACKEND" ] ||
  { echo "bench_router: build first: cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build"; exit 1; }
command -v wrk >/dev/null || { echo "bench_router: needs wrk (scripts/install-deps.sh)"; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench_router: needs nginx (scripts/install-deps.sh)"; exit 1; }

TMP=$(mktemp -d)
pids=()
cleanup() { for p in $(jobs -p); do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_port PORT: until something accepts on it (10 s at most)
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench_router: nothing listens on port $1"; exit 1
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  (cores: $(nproc))"
echo "wrk -t2 -c$CONNS -d$DUR --latency; router threads = nginx workers = $THREADS"

BP=$(free_port)
"$BACKEND" "$BP" >/dev/null & pids+=($!)
wait_port "$BP"

# nginx, from a configuration of its own in $TMP
NP=$(free_port)
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
chmod -R 0777 "$TMP/nginx"
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
cat >"$TMP/nginx/nginx.conf" <<EOF
$user_line
worker_processes $THREADS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:$BP; keepalive 256; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$NP;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx/logs/stderr" & pids+=($!)
wait_port "$NP"

# the router, with a replica set of one
cat >"$TMP/replicas.json" <<EOF
{"service":"bench","version":1,"replicas":[{"id":1,"url":"http://127.0.0.1:$BP","cloud":"","region":"","state":"READY","max_inflight":100000}]}
EOF
RP=$(free_port)
"$STRATUS" router --replicas "$TMP/replicas.json" --listen "127.0.0.1:$RP" --threads "$THREADS" \
  2>"$TMP/router.log" & pids+=($!)
wait_port "$RP"

# cpu_ticks PID...: user+system clock ticks of these processes and their children threads
cpu_ticks() {
  local t=0 p
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo $t
}
# run NAME PORT [PIDS...]: one wrk run; sets RPS, P50, P99 (ms), ERRS, and
# US_REQ: CPU microseconds the PIDS spent per request (robust to a busy machine)
run() {
  local out c0 c1 name=$1 port=$2
  shift 2
  c0=$(cpu_ticks "$@")
  out=$(wrk -t2 -c"$CONNS" -d"$DUR" --latency "http://127.0.0.1:$port/v1/models" 2>&1)
  c1=$(cpu_ticks "$@")
  RPS=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  P50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
  P99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
  ERRS=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  REQS=$(awk '/requests in/ {print $1}' <<<"$out")
  US_REQ=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$REQS" 'BEGIN{printf "%.1f", n ? t * 1e6 / hz / n : 0}')
  printf "%-8s %10.0f req/s   p50 %7.3f ms   p99 %7.3f ms   cpu %6s us/req  %s\n" "$name" "$RPS" "$P50" "$P99" "$US_REQ" "$ERRS"
}
to_ms() {
  awk '{ v=$1; if (v ~ /us$/) { sub(/us$/,"",v); v/=1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) }
         else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 } printf "%.3f\n", v }'
}

wrk -t2 -c"$CONNS" -d2s "http://127.0.0.1:$RP/v1/models" >/dev/null 2>&1 # warm-up
wrk -t2 -c"$CONNS" -d2s "http://127.0.0.1:$NP/v1/models" >/dev/null 2>&1
NGINX_PIDS=$(cat "$TMP/nginx/nginx.pid"; pgrep -P "$(cat "$TMP/nginx/nginx.pid")")
RPID=${pids[2]}
run direct "$BP" "${pids[0]}"; D50=$P50; D99=$P99; DRPS=$RPS
best_n=0 best_r=0 cpu_n="" cpu_r=""
for i in $(seq 1 "$ROUNDS"); do
  run nginx "$NP" $NGINX_PIDS
  if awk -v a="$RPS" -v b="$best_n" 'BEGIN{exit !(a>b)}'; then best_n=$RPS N50=$P50 N99=$P99; fi
  cpu_n="$cpu_n $US_REQ"
  run router "$RP" "$RPID"
  if awk -v a="$RPS" -v b="$best_r" 'BEGIN{exit !(a>b)}'; then best_r=$RPS R50=$P50 R99=$P99; fi
  cpu_r="$cpu_r $US_REQ"
done
echo "proxy CPU per request (us, each round): nginx$cpu_n; router$cpu_r"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v d="$DRPS" -v n="$best_n" -v r="$best_r" -v d50="$D50" -v d99="$D99" -v n50="$N50" \
  -v n99="$N99" -v r50="$R50" -v r99="$R99" 'BEGIN {
  printf "best of %s: nginx %.0f req/s, router %.0f req/s (direct %.0f)\n", '"$ROUNDS"', n, r, d
  printf "added latency p50: nginx %+.3f ms, router %+.3f ms\n", n50 - d50, r50 - d50
  printf "added latency p99: nginx %+.3f ms, router %+.3f ms\n", n99 - d99, r99 - d99
  printf "router/nginx: %.2fx req/s (target >= 1.0); p99 added: router %.3f ms vs nginx %.3f ms (target: router <= nginx: %s)\n",
         r / n, r99 - d99, n99 - d99, (r99 - d99 <= n99 - d99) ? "met" : "not met"
}'
