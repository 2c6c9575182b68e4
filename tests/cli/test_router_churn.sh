#!/usr/bin/env bash
# test_router_churn.sh - `stratus router` under churn, as a service's router
# lives through preemptions and scaling: 24 clients (keep-alive GETs and
# POSTs, streamed and whole replies, clients that leave mid-stream or reset)
# while the replica set file is rewritten 150 times (replicas leave with
# requests in flight and come back with the same id and URL, turn DRAINING,
# move region, appear twice, some emulated across an ocean) and backends
# are killed mid-reply and restarted, some on a new port.  --max-inflight 1
# and --max-wait as test_serve_routers runs its routers.  What must hold:
# the router is alive at the end, every request got an HTTP answer (200,
# or 502/503 when its replicas were all gone), in-flight counts come back
# to 0, and SIGTERM ends it with status 0 and no sanitizer report.  The
# churn is counted in steps, not seconds; waits are for states, bounded.
. "$(dirname "$0")/lib.sh"

cleanup() { for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

cat >"$TMP/backend.py" <<'EOF'
import http.server, json, os, signal, socketserver, sys, time
port, name = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        b = json.dumps({"replica": name}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers()
        self.wfile.write(b)
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if req.get("drop"):          # dies with the request: closed, no answer
            self.close_connection = True; return
        if not req.get("stream"):
            time.sleep(req.get("delay", 0.01))
            b = json.dumps({"replica": name}).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers()
            self.wfile.write(b); return
        self.send_response(200); self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
        try:
            for i in range(int(req.get("max_tokens", 5))):
                d = ("data: %d\n\n" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(d), d)); self.wfile.flush()
                time.sleep(req.get("delay", 0.01))
            self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
        except OSError:
            self.close_connection = True
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    def handle_error(self, request, client_address): pass
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
S(("127.0.0.1", port), H).serve_forever()
EOF

cat >"$TMP/churn.py" <<'EOF'
import http.client, json, os, random, signal, socket, subprocess, sys, threading, time
tmp, stratus, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(12)
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
NB = 6
ports = [free_port() for _ in range(NB)]
procs = [None] * NB
def start(i):
    procs[i] = subprocess.Popen([sys.executable, tmp + "/backend.py", str(ports[i]), "b%d" % i])
for i in range(NB): start(i)
regions = ["eastus", "eastus", "westeurope", "westus", "australiaeast", "eastus"]
version = [0]
def write_set():
    version[0] += 1; reps = []
    for i in range(NB):
        if rnd.random() < 0.25: continue   # gone (its requests in flight stay counted on it)
        reps.append({"id": i + 1 if rnd.random() < 0.8 else i + 11,
                     "url": "http://127.0.0.1:%d" % ports[i], "cloud": "azure",
                     "region": regions[i] if rnd.random() < 0.9 else "westus",
                     "state": rnd.choice(["READY"] * 5 + ["DRAINING", "STARTING"]),
                     "emulated": rnd.random() < 0.5, "target_qps": 4.0})
    if reps and rnd.random() < 0.1: reps.append(dict(reps[0]))  # listed twice
    with open(tmp + "/set.tmp", "w") as f:
        json.dump({"service": "chat", "version": version[0], "replicas": reps}, f)
    os.replace(tmp + "/set.tmp", tmp + "/set.json")
write_set()
err = open(tmp + "/router.err", "w")
rp = subprocess.Popen([stratus, "router", "--replicas", tmp + "/set.json", "--listen", "127.0.0.1:0",
                       "--region", "azure/eastus", "--max-inflight", "1", "--max-wait", "3",
                       "--client-timeout", "30"], stderr=err)
port = None
for _ in range(600):
    t = open(tmp + "/router.err").read()
    if "listening on" in t:
        port = int(t.split("listening on http://127.0.0.1:")[1].split()[0]); break
    if rp.poll() is not None: break
    time.sleep(0.1)
if port is None:
    print("router did not start:", open(tmp + "/router.err").read()); sys.exit(1)
done = threading.Event()
lock = threading.Lock()
res = {"answers": 0, "codes": {}, "bad": []}
def client(k):
    r = random.Random(k); conn = None
    while not done.is_set():
        try:
            kind = r.random()
            if kind < 0.1:   # leaves mid-stream, half the time with a reset
                s = socket.create_connection(("127.0.0.1", port), timeout=60)
                b = json.dumps({"stream": True, "max_tokens": 20, "delay": 0.02}).encode()
                s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
                time.sleep(r.random() * 0.3)
                if r.random() < 0.5:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close(); continue
            if conn is None or r.random() < 0.3:
                if conn: conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if r.random() < 0.3:
                conn.request("GET", "/x")
            else:
                body = {"stream": r.random() < 0.5, "max_tokens": r.randint(1, 8),
                        "delay": r.random() * 0.05, "drop": r.random() < 0.03}
                conn.request("POST", "/v1/completions", body=json.dumps(body))
            resp = conn.getresponse(); resp.read()
            with lock:
                res["answers"] += 1
                res["codes"][resp.status] = res["codes"].get(resp.status, 0) + 1
            if resp.status not in (200, 502, 503) and len(res["bad"]) < 5:
                with lock: res["bad"].append(resp.status)
            if resp.getheader("Connection", "") == "close": conn.close(); conn = None
        except (ConnectionError, http.client.HTTPException, socket.timeout, OSError) as e:
            # a connection the router closed while idle may fail a request sent on it;
            # one it refused or never answered is what this test is for
            with lock:
                if isinstance(e, (ConnectionRefusedError, socket.timeout)) and len(res["bad"]) < 5:
                    res["bad"].append(repr(e))
            if conn: conn.close()
            conn = None
threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(24)]
for t in threads: t.start()
for step in range(steps):
    if rp.poll() is not None: break
    time.sleep(rnd.random() * 0.2)
    i = rnd.randrange(NB); a = rnd.random()
    if a < 0.15:     # killed mid-reply; back, sometimes on another port
        procs[i].kill(); procs[i].wait()
        if rnd.random() < 0.3: ports[i] = free_port()
        start(i)
    elif a < 0.2:    # stopped
        procs[i].send_signal(signal.SIGTERM); procs[i].wait(); start(i)
    write_set()
done.set()
for t in threads: t.join(timeout=90)
alive = rp.poll() is None
inflight = None
if alive:
    for _ in range(300):   # answers still streaming end; then nothing is in flight
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30); c.request("GET", "/-/replicas")
            inflight = sum(x["inflight"] for x in json.loads(c.getresponse().read())["replicas"])
            if inflight == 0: break
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.1)
    rp.send_signal(signal.SIGTERM)
    try: rc = rp.wait(timeout=60)
    except subprocess.TimeoutExpired: rc = "hung"
else:
    rc = rp.returncode
for p in procs: p.kill()
print(json.dumps({"alive": alive, "rc": rc, "inflight": inflight, "versions": version[0], **res}))
EOF

python3 "$TMP/churn.py" "$TMP" "$STRATUS" 150 >"$TMP/result.json" 2>"$TMP/churn.err" ||
  fail "the churn driver failed: $(tail -20 "$TMP/churn.err") $(cat "$TMP/result.json")"
OUT=$(cat "$TMP/result.json")
[ "$(json 'j["alive"]')" = True ] ||
  fail "the router died under churn (exit status $(json 'j["rc"]')): $(tail -40 "$TMP/router.err")"
[ "$(json 'j["answers"] > 100 and j["codes"].get("200", 0) > 50')" = True ] ||
  fail "too few answers under churn: $OUT"
[ "$(json 'j["bad"]')" = "[]" ] || fail "requests refused, timed out or answered oddly: $OUT"
ok "router under churn (150 replica sets, backends killed mid-reply): alive, every request answered ($(json 'j["codes"]'))"
[ "$(json 'j["inflight"]')" = 0 ] || fail "in-flight not back at 0 after the churn: $OUT"
[ "$(json 'j["rc"]')" = 0 ] || fail "router exited $(json 'j["rc"]') on SIGTERM: $(tail -30 "$TMP/router.err")"
hasnt "$(cat "$TMP/router.err")" "Sanitizer"
hasnt "$(cat "$TMP/router.err")" "runtime error"
ok "after the churn: in-flight back at 0; SIGTERM: status 0, no sanitizer report"
