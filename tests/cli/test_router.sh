#!/usr/bin/env bash
# test_router.sh - `stratus router` with real processes: python backends
# (stdlib, keep-alive, SSE streaming) as replicas in two regions, the
# router in file mode.  Checks what a client sees: nearest region first,
# overflow when the local replica is saturated, streaming token by token,
# retry with zero failures when a replica is killed, DRAINING gets nothing
# new, 400/431/413/503/401 answers, reload of the file (and a bad file
# kept out), in-flight counts back at zero after aborted clients.
# Waits are for states, with generous bounds; no timing is asserted except
# that streamed tokens spaced 1 s apart by the backend do not arrive together.
. "$(dirname "$0")/lib.sh"

pids=()
# Only this shell's live jobs: a PID reaped earlier may belong to another test by now.
cleanup() { for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

cat >"$TMP/backend.py" <<'EOF'
import http.server, socketserver, sys, time, json, os
name, portfile = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def do_HEAD(self):
        self.send_response(200); self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "1234"); self.end_headers()
    def refusing(self):  # while PORTFILE.drain exists: 503 to every request, as a draining server
        if not os.path.exists(portfile + ".drain"):
            return False
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.reply(503, {"replica": name, "error": "draining"})
        return True
    def do_GET(self):
        if self.refusing():
            return
        if self.path.startswith("/big"):      # n bytes, a pattern the client checks
            n = int(self.path.split("n=")[1]); b = (b"0123456789abcdef" * (n // 16 + 1))[:n]
            self.send_response(200); self.send_header("Content-Length", str(n)); self.end_headers()
            self.wfile.write(b); return
        if self.path.startswith("/slow"):
            time.sleep(float(self.path.split("s=")[1]))
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        self.reply(200, {"replica": name, "path": self.path, "headers": hdrs})
    def do_POST(self):
        if self.refusing():
            return
        n = int(self.headers.get("Content-Length", 0)); body = self.rfile.read(n)
        if self.path.startswith("/echo"):     # the body back, as it arrived
            self.send_response(200); self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Got-Expect", self.headers.get("Expect", "-")); self.end_headers()
            self.wfile.write(body); return
        req = json.loads(body or b"{}") if self.path.startswith("/v1/") else {}
        if not req.get("stream"):
            return self.reply(200, {"replica": name, "len": len(body)})
        self.send_response(200); self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
        def chunk(d):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(d), d)); self.wfile.flush()
        for i in range(int(req.get("max_tokens", 3))):
            chunk(("data: " + json.dumps({"replica": name, "token": i}) + "\n\n").encode())
            time.sleep(float(req.get("delay", 1.0)))
        chunk(b"data: [DONE]\n\n"); self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address): pass  # clients that leave mid-stream
s = S(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1])); os.rename(portfile + ".tmp", portfile)
s.serve_forever()
EOF

# a client for what curl cannot do portably: raw bytes, timed chunks
cat >"$TMP/client.py" <<'EOF'
import socket, sys, time, http.client, json
cmd, port = sys.argv[1], int(sys.argv[2])
if cmd == "raw":                      # send argv[3] (python-escaped), print the status line
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(eval(sys.argv[3]))
    data = b""
    while b"\r\n" not in data:
        d = s.recv(4096)
        if not d: break
        data += d
    print(data.split(b"\r\n")[0].decode(errors="replace"))
elif cmd == "exchange":               # send argv[3], read until the router closes; print the statuses
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(eval(sys.argv[3])); data = b""
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
    import re
    print(" ".join(m.decode() for m in re.findall(rb"HTTP/1\.[01] (\d+) ", data)))
    print(" ".join(m.decode() for m in re.findall(rb'"path": "([^"]*)"', data)))
elif cmd == "big":                    # GET /big?n=N slowly read; check every byte
    n = int(sys.argv[3])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", "/big?n=%d" % n); r = c.getresponse(); got = b""
    while True:
        d = r.read(65536)
        if not d: break
        got += d; time.sleep(0.002)
    want = (b"0123456789abcdef" * (n // 16 + 1))[:n]
    print(r.status, len(got), "intact" if got == want else "CORRUPT")
elif cmd == "stream":                 # times of the SSE events as they arrive
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/v1/completions", body=json.dumps({"stream": True, "max_tokens": 3, "delay": 1.0}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse(); t0 = time.time(); times = []
    while True:
        line = r.fp.readline()
        if not line: break
        if line.startswith(b"data: {"): times.append(time.time() - t0)
        if line.startswith(b"data: [DONE]"): break
    print(r.status, " ".join("%.2f" % t for t in times))
elif cmd == "abort":                  # start a stream and drop the connection
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    b = json.dumps({"stream": True, "max_tokens": 30, "delay": 0.5}).encode()
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
    s.recv(100); s.close(); print("aborted")
EOF

# start_backend NAME: prints the port
start_backend() {
  python3 "$TMP/backend.py" "$1" "$TMP/port.$1" & pids+=($!)
  eval "pid_$1=$!"
  for _ in $(seq 1 600); do [ -s "$TMP/port.$1" ] && break; nap 0.1; done
  [ -s "$TMP/port.$1" ] || fail "backend $1 did not start"
  cat "$TMP/port.$1"
}
# replica ID NAME REGION STATE [EXTRA]: one replica entry
replica() {
  echo "{\"id\":$1,\"url\":\"http://127.0.0.1:$(cat "$TMP/port.$2")\",\"cloud\":\"azure\",\"region\":\"$3\",\"state\":\"$4\"${5:-}}"
}
# write_set VERSION ENTRIES [KEYS]: the replica file, replaced atomically
write_set() {
  echo "{\"service\":\"llm\",\"version\":$1,\"keys\":[${3:-}],\"replicas\":[$2]}" >"$TMP/set.tmp"
  mv "$TMP/set.tmp" "$TMP/set.json"
}
# start_router ARGS...: sets RPORT
start_router() {
  rm -f "$TMP/router.err" # the child truncates it only once it runs: no stale line read
  "$STRATUS" router --replicas "$TMP/set.json" --listen 127.0.0.1:0 --region azure/eastus \
    --access-log "$TMP/access.log" "$@" 2>"$TMP/router.err" & pids+=($!)
  RPID=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$TMP/router.err" 2>/dev/null && break; kill -0 $RPID 2>/dev/null || break; nap 0.1; done
  RPORT=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/router.err")
  [ -n "$RPORT" ] || fail "router did not start: $(cat "$TMP/router.err")"
}
# until_json EXPR: wait (60 s at most) until EXPR holds over /-/replicas (as j)
until_json() {
  _replicas_hold() {
    curl -s "http://127.0.0.1:$RPORT/-/replicas" >"$TMP/rep.json" 2>/dev/null &&
      python3 -c "import json,sys; j=json.load(open('$TMP/rep.json')); sys.exit(0 if ($1) else 1)" 2>/dev/null
  }
  poll 60 _replicas_hold "$1" && return 0
  fail "timed out waiting for: $1 (last: $(cat "$TMP/rep.json")); router: $(tail -5 "$TMP/router.err")"
}
# who PATH: the replica that answered a GET
# the replica that answered GET $1, or "[CODE BODY]" when the router answered itself
who() {
  curl -s --max-time 60 -w '\n%{http_code}' "http://127.0.0.1:$RPORT$1" | python3 -c "
import json, sys
body, code = sys.stdin.read().rsplit('\n', 1)
try:
    print(json.loads(body)['replica'])
except Exception:
    print('[%s %s]' % (code, ' '.join(body.split())[:300]))"
}
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$@"; }

# --- usage errors ---
run 0 "$STRATUS" router --help
has "$OUT" "--replicas FILE"
run 2 "$STRATUS" router
has "$ERR" "needs --replicas FILE or --api URL"
run 2 "$STRATUS" router --replicas /nonexistent/set.json --listen 127.0.0.1:0
has "$ERR" "/nonexistent/set.json"
echo '{"replicas": [' >"$TMP/bad.json"
run 2 "$STRATUS" router --replicas "$TMP/bad.json" --listen 127.0.0.1:0
has "$ERR" "bad.json:"
run 2 "$STRATUS" router --replicas "$TMP/bad.json" --region azure/nowhere
has "$ERR" "not a region of the catalog"
ok "usage errors: clear messages, exit 2"

start_backend A >/dev/null   # azure/eastus (the router's region)
start_backend B >/dev/null   # azure/eastus
start_backend C >/dev/null   # azure/westeurope
write_set 1 "$(replica 1 A eastus READY ',"max_inflight":1'),$(replica 3 C westeurope READY)"
start_router
until_json 'len(j["replicas"]) == 2'

# --- nearest region first ---
for i in 1 2 3 4 5; do r=$(who /x); [ "$r" = A ] || fail "request $i went to $r, not the local A"; done
ok "nearest: every request to the replica in the router's region"

# --- overflow when the local replica is saturated (max_inflight 1) ---
curl -s --max-time 120 "http://127.0.0.1:$RPORT/slow?s=10" >"$TMP/slow.out" & slowpid=$!
until_json 'any(r["id"] == 1 and r["inflight"] == 1 for r in j["replicas"])'
r=$(who /x); [ "$r" = C ] || fail "with A saturated the request went to $r, not C"
wait $slowpid
has "$(cat "$TMP/slow.out")" '"replica": "A"'
r=$(who /x); [ "$r" = A ] || fail "after the slow request, $r instead of A"
curl -s "http://127.0.0.1:$RPORT/-/metrics" >"$TMP/m"
grep -q '^stratus_router_overflows_total 1$' "$TMP/m" || fail "overflow not counted: $(grep overflow "$TMP/m")"
ok "overflow to the next region when the local replica is saturated, back when it frees"

# --- streaming: tokens arrive as they are made ---
out=$(python3 "$TMP/client.py" stream "$RPORT")
python3 -c "
s, *t = '$out'.split(); t = list(map(float, t))
assert s == '200' and len(t) == 3, '$out'
assert t[-1] - t[0] >= 1.0, 'tokens spaced 1 s apart arrived together: $out'
" || fail "streaming: $out"
ok "streaming: SSE tokens arrive one by one ($out)"

# --- reload: the file changes, B joins in eastus; a bad file is kept out ---
write_set 2 "$(replica 1 A eastus READY),$(replica 2 B eastus READY),$(replica 3 C westeurope READY)"
until_json 'j["version"] == 2'
echo '{"version": 3, "replicas": [{"id": 1}]}' >"$TMP/set.tmp"; mv "$TMP/set.tmp" "$TMP/set.json"
for _ in $(seq 1 600); do grep -q "keeping the replica set in use" "$TMP/router.err" && break; nap 0.1; done
has "$(cat "$TMP/router.err")" "keeping the replica set in use"
until_json 'j["version"] == 2'
ok "reload on change; a bad file is reported and the set in use kept"

# --- a killed replica: retried elsewhere, no client failure (GET and POST) ---
write_set 4 "$(replica 1 A eastus READY),$(replica 2 B eastus READY),$(replica 3 C westeurope READY)"
until_json 'j["version"] == 4'
kill -9 "$pid_A"
fails=0
for i in $(seq 1 20); do
  c=$(code "http://127.0.0.1:$RPORT/x"); [ "$c" = 200 ] || fails=$((fails + 1))
  c=$(code -X POST -d hello "http://127.0.0.1:$RPORT/x"); [ "$c" = 200 ] || fails=$((fails + 1))
done
[ "$fails" -eq 0 ] || fail "$fails of 40 requests failed after a replica was killed"
curl -s "http://127.0.0.1:$RPORT/-/metrics" >"$TMP/m"
grep -q '^stratus_router_retries_total [1-9]' "$TMP/m" || fail "no retry counted: $(grep retries "$TMP/m")"
ok "killed replica: 40/40 requests answered (retried on another replica)"

# --- a replica that answers 503 (draining before the set says so): tried elsewhere ---
# (a preemption notice SIGTERMs the node before the routers hear of it)
retries() { curl -s "http://127.0.0.1:$RPORT/-/metrics" | awk '/^stratus_router_retries_total/ {print $NF}'; }
before=$(retries)
touch "$TMP/port.B.drain"
fails=0
for i in $(seq 1 10); do
  c=$(code "http://127.0.0.1:$RPORT/x"); [ "$c" = 200 ] || fails=$((fails + 1))
  c=$(code -X POST -d hello "http://127.0.0.1:$RPORT/x"); [ "$c" = 200 ] || fails=$((fails + 1))
done
rm -f "$TMP/port.B.drain"
[ "$fails" -eq 0 ] || fail "$fails of 20 requests failed while replica B answered 503; access log: $(tail -n 5 "$TMP/access.log")"
[ "$(retries)" -gt "$before" ] || fail "no request went to B and was retried: $(retries) retries, $before before"
ok "a replica answering 503: 20/20 requests answered by another"

# --- DRAINING gets nothing new ---
write_set 5 "$(replica 2 B eastus DRAINING),$(replica 3 C westeurope READY)"
until_json 'j["version"] == 5'
for i in 1 2 3 4 5 6; do
  r=$(who /x)
  [ "$r" = C ] || fail "request $i went to $r, not C (B is draining); replicas: $(curl -s "http://127.0.0.1:$RPORT/-/replicas"); access log: $(tail -n 5 "$TMP/access.log"); router: $(tail -n 10 "$TMP/router.err")"
done
ok "DRAINING replica gets no new request"

# --- hostile or broken clients ---
c=$(python3 "$TMP/client.py" raw "$RPORT" 'b"GARBAGE\r\n\r\n"')
has "$c" " 400"
big=$(python3 -c 'print("a" * 40000)')
c=$(code -H "X-Big: $big" "http://127.0.0.1:$RPORT/x"); [ "$c" = 431 ] || fail "40 KB of headers: $c, not 431"
head -c 20000000 /dev/zero >"$TMP/body"
c=$(code -X POST --data-binary @"$TMP/body" "http://127.0.0.1:$RPORT/x"); [ "$c" = 413 ] || fail "20 MB body: $c, not 413"
ok "malformed request 400, big headers 431, big body 413"

# --- HTTP details the router handles itself (http_parser parses, the router frames) ---
# two requests in one write: both answered, in order, on the same connection
c=$(python3 "$TMP/client.py" exchange "$RPORT" 'b"GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"')
has "$c" "200 200"
has "$c" "/p1 /p2"
# HTTP/1.0 without keep-alive: answered, then closed by the router
c=$(python3 "$TMP/client.py" exchange "$RPORT" 'b"GET /v10 HTTP/1.0\r\n\r\n"')
has "$c" "200"
# HEAD: the replica's Content-Length, no body
curl -s -I --max-time 60 "http://127.0.0.1:$RPORT/h" >"$TMP/head.out"
grep -qi '^Content-Length: 1234' "$TMP/head.out" || fail "HEAD lost its Content-Length: $(cat "$TMP/head.out")"
# a chunked request body reaches the replica whole, with a Content-Length; Expect: 100-continue is answered
c=$(printf 'hello chunked world' | curl -s --max-time 60 -H 'Transfer-Encoding: chunked' --data-binary @- "http://127.0.0.1:$RPORT/echo")
[ "$c" = "hello chunked world" ] || fail "chunked body: '$c'"
head -c 300000 /dev/urandom | base64 -w0 >"$TMP/mid"
curl -s --max-time 60 -H 'Expect: 100-continue' --data-binary @"$TMP/mid" -D "$TMP/eh" -o "$TMP/echo.out" "http://127.0.0.1:$RPORT/echo"
cmp -s "$TMP/mid" "$TMP/echo.out" || fail "400 KB body not echoed intact"
grep -qi '^X-Got-Expect: -' "$TMP/eh" || fail "Expect reached the replica: $(cat "$TMP/eh")"
# 8 MB through a client that reads slowly (the router holds back the replica, loses nothing)
c=$(python3 "$TMP/client.py" big "$RPORT" 8000000)
[ "$c" = "200 8000000 intact" ] || fail "8 MB reply: $c"
# a protocol upgrade: 501, not a stuck connection
c=$(python3 "$TMP/client.py" exchange "$RPORT" 'b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"')
has "$c" "501"
ok "pipelined requests in order, HTTP/1.0, HEAD, chunked and 100-continue bodies, 8 MB to a slow reader, 501 for upgrades"

write_set 6 "$(replica 3 C westeurope PROVISIONING)"
until_json 'j["version"] == 6'
curl -s -D "$TMP/h" -o "$TMP/b" "http://127.0.0.1:$RPORT/x"
has "$(head -1 "$TMP/h")" " 503"
grep -qi '^Retry-After: 5' "$TMP/h" || fail "503 without Retry-After: $(cat "$TMP/h")"
ok "no ready replica: 503 with Retry-After"

# --- API keys: 401 without, 200 with; the key is not passed to the model ---
hash=$(printf 'sk-test-1' | sha256sum | cut -d' ' -f1)
write_set 7 "$(replica 3 C westeurope READY)" "\"$hash\""
until_json 'j["version"] == 7'
c=$(code "http://127.0.0.1:$RPORT/x"); [ "$c" = 401 ] || fail "no key: $c"
c=$(code -H "Authorization: Bearer sk-wrong" "http://127.0.0.1:$RPORT/x"); [ "$c" = 401 ] || fail "bad key: $c"
out=$(curl -s -H "Authorization: Bearer sk-test-1" "http://127.0.0.1:$RPORT/h")
has "$out" '"replica": "C"'
hasnt "$out" "authorization"
ok "API keys: 401 without a valid key, 200 with one, key not forwarded"

# --- clients that leave mid-stream: in-flight back to 0 ---
write_set 8 "$(replica 3 C westeurope READY)"
until_json 'j["version"] == 8'
for i in 1 2 3; do python3 "$TMP/client.py" abort "$RPORT" >/dev/null; done
until_json 'all(r["inflight"] == 0 for r in j["replicas"])'
curl -s "http://127.0.0.1:$RPORT/-/metrics" >"$TMP/m"
grep -q '^stratus_router_client_aborts_total [1-9]' "$TMP/m" || fail "aborts not counted"
grep -q 'stratus_router_region_latency_seconds_bucket{region="azure/westeurope"' "$TMP/m" ||
  fail "no per-region histogram"
ok "aborted streams: in-flight counts back at 0; metrics per region"

# --- emulated network: a far replica is reached after its RTT ---
write_set 9 "$(replica 3 C australiaeast READY ',"emulated":true')"
until_json 'j["version"] == 9'
rtt=$(python3 -c "import json; print(json.load(open('$TMP/rep.json'))['replicas'][0]['rtt_ms'])")
t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$RPORT/x")
python3 -c "assert $rtt > 100 and $t * 1000 >= $rtt, ($rtt, $t)" || fail "emulated RTT $rtt ms, request took $t s"
ok "emulated replica: the request waits RTT(eastus, australiaeast) = $rtt ms"

has "$(cat "$TMP/access.log")" "GET /x 200"
kill -TERM "$RPID"; wait "$RPID"; rc=$?
[ "$rc" -eq 0 ] || fail "router exited $rc on SIGTERM"
ok "access log written; SIGTERM stops the router with status 0"
# --- scale from zero: with --max-wait a request waits for the first replica
# (two event loops: the request may be on either) ---
write_set 10 "$(replica 3 C westeurope PROVISIONING)"
start_router --max-wait 120 --threads 2
code "http://127.0.0.1:$RPORT/x" >"$TMP/waited" & waitpid=$!
for _ in $(seq 1 600); do
  curl -s "http://127.0.0.1:$RPORT/-/metrics" | grep -q '^stratus_router_waited_total 1' && break
  nap 0.1
done
write_set 11 "$(replica 3 C westeurope READY)"
wait $waitpid
[ "$(cat "$TMP/waited")" = 200 ] || fail "the waiting request got $(cat "$TMP/waited")"
kill -TERM "$RPID"; wait "$RPID"
ok "--max-wait: a request that came with no replica ready is served when one is"

# --- API mode: a server without the endpoint (404), then with it ---
cat >"$TMP/api.py" <<'EOF'
import http.server, json, os, sys
tmp, cport = sys.argv[1], sys.argv[2]
calls = []
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        calls.append(self.path)
        with open(tmp + "/api.log", "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Authorization")))
        if len(calls) == 1:
            b, code = b'{"error": "not found"}', 404
        else:
            b, code = json.dumps({"service": "llm", "version": 3, "replicas": [{"id": 3,
                "url": "http://127.0.0.1:" + cport, "state": "READY"}]}).encode(), 200
        self.send_response(code); self.send_header("Content-Length", str(len(b))); self.end_headers()
        self.wfile.write(b)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(tmp + "/api.port.tmp", "w").write(str(s.server_address[1])); os.rename(tmp + "/api.port.tmp", tmp + "/api.port")
s.serve_forever()
EOF
python3 "$TMP/api.py" "$TMP" "$(cat "$TMP/port.C")" & pids+=($!)
for _ in $(seq 1 600); do [ -s "$TMP/api.port" ] && break; nap 0.1; done
rm -f "$TMP/router.err"
STRATUS_TOKEN=tok-1 "$STRATUS" router --api "http://127.0.0.1:$(cat "$TMP/api.port")" --service llm \
  --listen 127.0.0.1:0 2>"$TMP/router.err" & pids+=($!)
RPID=$!
for _ in $(seq 1 600); do grep -q "listening on" "$TMP/router.err" 2>/dev/null && break; nap 0.1; done
RPORT=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/router.err")
until_json 'j["version"] == 3' || fail "$(cat "$TMP/router.err")"
has "$(cat "$TMP/router.err")" "404: the server has no endpoint list for service 'llm'"
has "$(cat "$TMP/api.log")" "/v1/services/llm/endpoints?after=0 Bearer tok-1"
r=$(who /x); [ "$r" = C ] || fail "API mode: request went to $r"
for _ in $(seq 1 600); do grep -q "after=3" "$TMP/api.log" && break; nap 0.1; done
has "$(cat "$TMP/api.log")" "/v1/services/llm/endpoints?after=3"
kill -TERM "$RPID"; wait "$RPID"
ok "API mode: 404 logged and retried; the set followed with after=VERSION and the token"
echo "all $checks checks passed"
