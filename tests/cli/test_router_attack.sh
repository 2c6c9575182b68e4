#!/usr/bin/env bash
# test_router_attack.sh - `stratus router` against a hostile client and a
# broken replica: what the client receives, byte for byte, when the replica
# sends 1xx heads, garbage, bodies longer or shorter than announced, a body
# to a HEAD, no answer; request smuggling attempts (Content-Length with
# Transfer-Encoding, duplicate Content-Length, obs-fold); clients that leave
# mid-body; 2000 pipelined requests; hundreds of idle connections; a slow
# reader of an 8 MB reply (the router's memory must not grow by the reply).
# Every wait is for a state (the router closing, a count back at 0), bounded.
. "$(dirname "$0")/lib.sh"

cleanup() { for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

# A raw replica: its answer depends on the path; every request head it reads
# is appended to $TMP/replica.log.
cat >"$TMP/replica.py" <<'EOF'
import socket, struct, sys, threading, time, os
portfile, logf = sys.argv[1], sys.argv[2]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0)); ls.listen(1024)
log = open(logf, "ab", buffering=0); lock = threading.Lock()
def pattern(n): return (b"0123456789abcdef" * (n // 16 + 1))[:n]
def read_req(s, buf):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d: return None, b""
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1); n = 0
    for l in head.split(b"\r\n")[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"content-length": n = int(v)
    if head.split(b" ")[1] == b"/early":  # answered before its body is read
        with lock: log.write(head + b"\r\n\r\n")
        return head, b""
    while len(rest) < n:
        d = s.recv(65536)
        if not d: return None, b""
        rest += d
    with lock: log.write(head + b"\r\n\r\n")
    return head, rest[n:]
ANSWERS = {
    "/1xx": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/longer": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n"
               b"Content-Length: 8\r\n\r\nsmuggled",
    "/headbody": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "/garbage": b"garbage here\r\n\r\n",
    "/clte": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"5\r\nhello\r\n0\r\n\r\n",
    "/dupcl": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello",
    "/hugehead": b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 100000 + b"\r\n\r\n",
    "/fold": b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
    "/204body": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
    "/101": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
}
def serve(s):
    buf = b""; drop_next = False
    try:
        while True:
            head, buf = read_req(s, buf)
            if head is None or drop_next: return  # drop_next: its keep-alive timer fired as the request came
            path = head.split(b" ")[1].decode(); p = path.split("?")[0]
            if p == "/kaclose":          # answer, then close this connection at its next request
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); drop_next = True
            elif p == "/connclose":      # a body ended by the end of the connection, sent with its FIN
                s.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\neof-delimited body"); return
            elif p in ANSWERS:
                s.sendall(ANSWERS[p])
            elif p == "/closemid":       # 10 of 100 bytes, then the connection ends
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"); time.sleep(0.2); return
            elif p == "/closemidchunk":  # one chunk, then the connection ends
                s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"); time.sleep(0.2); return
            elif p == "/never":
                time.sleep(3600)
            elif p == "/drop":           # a replica that dies with the request: closed, no answer
                return
            elif p == "/early":          # 413 before the body is read; once the test says so,
                s.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nbig!")
                for _ in range(600):     # closed with the body unread (a reset)
                    if os.path.exists(portfile + ".go"): break
                    time.sleep(0.1)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
                with lock: log.write(b"early: reset\r\n")
                return
            elif p == "/big":            # n bytes of a pattern, chunked
                n = int(path.split("n=")[1]); b = pattern(n)
                s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for i in range(0, n, 65536):
                    s.sendall(b"%x\r\n%s\r\n" % (len(b[i:i + 65536]), b[i:i + 65536]))
                s.sendall(b"0\r\n\r\n")
            else:
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(path), path.encode()))
    except OSError:
        pass
    finally:
        s.close()
open(portfile + ".tmp", "w").write(str(ls.getsockname()[1])); os.rename(portfile + ".tmp", portfile)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF

cat >"$TMP/client.py" <<'EOF'
import socket, sys, time, re, http.client
cmd, port = sys.argv[1], int(sys.argv[2])
def conn(): return socket.create_connection(("127.0.0.1", port), timeout=60)
def until_eof(s):
    out = b""
    while True:
        try: d = s.recv(65536)
        except ConnectionResetError: return out + b"<RST>"
        if not d: return out
        out += d
if cmd == "x":        # send argv[3] (a Python bytes literal), read until the router closes
    s = conn(); s.sendall(eval(sys.argv[3]))
    if len(sys.argv) > 4: s.shutdown(socket.SHUT_WR)
    print(repr(until_eof(s)))
elif cmd == "leave":  # requests the client leaves in the middle of, n times each
    for i in range(int(sys.argv[3])):
        s = conn(); s.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"); s.close()
        s = conn(); s.sendall(b"GET /big?n=3000000 HTTP/1.1\r\nHost: x\r\n\r\n"); s.recv(100); s.close()
        s = conn(); s.sendall(b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n" * 50); s.close()
    print("left")
elif cmd == "pipeline":
    n = int(sys.argv[3]); s = conn()
    s.sendall(b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(n)) +
              b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    paths = re.findall(rb"\r\n\r\n(/p\d+|/last)", until_eof(s))
    print(len(paths), "in order" if paths == [b"/p%d" % i for i in range(n)] + [b"/last"] else "OUT OF ORDER")
elif cmd == "idle":   # n idle connections; a request meanwhile; how many the router closed
    ss = [conn() for _ in range(int(sys.argv[3]))]
    h = http.client.HTTPConnection("127.0.0.1", port, timeout=60); h.request("GET", "/-/healthz")
    status = h.getresponse().status; h.close()
    print(status, sum(1 for s in ss if until_eof(s) == b""), "closed")
elif cmd == "stall":  # ask for 3 x 8 MB, read nothing for a while, then read what comes
    s = conn(); s.sendall(b"GET /big?n=8000000 HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
    time.sleep(float(sys.argv[3])); n = len(until_eof(s))
    print("cut" if n < 3 * 8000000 else "all %d" % n)
elif cmd == "big":    # a chunked reply read slowly; every byte checked
    n = int(sys.argv[3])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", "/big?n=%d" % n); r = c.getresponse(); got = b""
    while True:
        d = r.read(32768)
        if not d: break
        got += d; time.sleep(0.02)
    print(r.status, len(got), "intact" if got == (b"0123456789abcdef" * (n // 16 + 1))[:n] else "CORRUPT")
EOF

python3 "$TMP/replica.py" "$TMP/rport" "$TMP/replica.log" &
for _ in $(seq 1 600); do [ -s "$TMP/rport" ] && break; nap 0.1; done
[ -s "$TMP/rport" ] || fail "the replica did not start"
echo "{\"service\":\"s\",\"version\":1,\"replicas\":[{\"id\":1,\"url\":\"http://127.0.0.1:$(cat "$TMP/rport")\",\"state\":\"READY\"}]}" >"$TMP/set.json"

# The router; ASan (when built with it) keeps no quarantine, so that the
# memory check below measures buffers, not freed blocks held for checking.
# --client-timeout 10, not less: on a loaded machine (ctest -j8 under ASan)
# the slow reader below may itself stall for seconds, and is then cut.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
  "$STRATUS" router --replicas "$TMP/set.json" --listen 127.0.0.1:0 \
  --client-timeout 10 2>"$TMP/router.err" &
RPID=$!
for _ in $(seq 1 600); do grep -q "listening on" "$TMP/router.err" 2>/dev/null && break; kill -0 $RPID 2>/dev/null || break; nap 0.1; done
RPORT=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/router.err")
[ -n "$RPORT" ] || fail "router did not start: $(cat "$TMP/router.err")"

# x BYTES [shut]: what the client receives for BYTES (a Python literal), until the router closes
x() { python3 "$TMP/client.py" x "$RPORT" "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$@"; }
# expect WHAT GOT WANT
expect() { [ "$2" = "$3" ] || fail "$1: got $2, expected $3"; }
after='GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
tail200='HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n/after'

# --- first, while its peak memory is low: 8 MB to a slow reader ---
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$RPID/status"; }
curl -s -o /dev/null "http://127.0.0.1:$RPORT/big?n=1000"
echo 5 >"/proc/$RPID/clear_refs" 2>/dev/null # peak RSS := RSS now (where supported)
before=$(hwm)
c=$(python3 "$TMP/client.py" big "$RPORT" 8000000)
expect "8 MB to a slow reader" "$c" "200 8000000 intact"
# a client that asks for 24 MB and stops reading: held back, then cut after --client-timeout
c=$(python3 "$TMP/client.py" stall "$RPORT" 15)
expect "24 MB to a client that stops reading" "$c" "cut"
after_kb=$(hwm)
[ -n "$before" ] && [ -n "$after_kb" ] || fail "no VmHWM in /proc/$RPID/status"
[ $((after_kb - before)) -lt 6000 ] || fail "8 MB replies grew the router by $((after_kb - before)) kB"
ok "8 MB to a slow reader intact, 24 MB to a stalled one cut; router peak memory grew $((after_kb - before)) kB (< 6000)"

# --- a broken replica ---
c=$(x "b'GET /1xx HTTP/1.1\r\nHost: x\r\n\r\n$after'")
expect "1xx heads then 200" "$c" "b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok$tail200'"
c=$(x "b'GET /longer HTTP/1.1\r\nHost: x\r\n\r\n$after'")
expect "body longer than its Content-Length" "$c" "b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello$tail200'"
c=$(x "b'HEAD /headbody HTTP/1.1\r\nHost: x\r\n\r\n$after'")
expect "a body to a HEAD" "$c" "b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n$tail200'"
c=$(x "b'GET /fold HTTP/1.1\r\nHost: x\r\n\r\n$after'")
expect "obs-fold in a reply" "$c" "b'HTTP/1.1 200 OK\r\nX-A: a b\r\nContent-Length: 2\r\n\r\nok$tail200'"
ok "replica: 1xx heads skipped, excess body and a HEAD's body dropped, obs-fold unfolded; the next request answered"

c=$(x "b'GET /closemid HTTP/1.1\r\nHost: x\r\n\r\n$after'")
expect "replica gone mid-body" "$c" "b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'"
c=$(x "b'GET /closemidchunk HTTP/1.1\r\nHost: x\r\n\r\n$after'")
expect "replica gone mid-chunked-body" "$c" "b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'"
ok "replica gone mid-body: the client gets a short body (no last chunk) and the connection closed"

for p in garbage clte dupcl hugehead; do
  c=$(x "b'GET /$p HTTP/1.1\r\nHost: x\r\n\r\n$after'")
  has "$c" "HTTP/1.1 502 Bad Gateway"
  has "$c" "$tail200"
done
ok "garbage, Content-Length with Transfer-Encoding, two Content-Lengths, a 100 KB head: 502"

# --- a hostile client ---
: >"$TMP/replica.log"
for req in 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smug HTTP/1.1\r\nHost: x\r\n\r\n' \
           'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcdeGET /smug HTTP/1.1\r\nHost: x\r\n\r\n' \
           'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\nGET /smug HTTP/1.1\r\nHost: x\r\n\r\n' \
           'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabcGET /smug HTTP/1.1\r\nHost: x\r\n\r\n'; do
  c=$(x "b'$req'")
  has "$c" "HTTP/1.1 400 Bad Request"
  hasnt "$c" "/smug"
done
c=$(x "b'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;' + b'a' * 200000")
has "$c" "HTTP/1.1 431 "
c=$(x "b'GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n'")
has "$c" "HTTP/1.1 400 Bad Request"
c=$(x "b'GET /folded HTTP/1.1\r\nHost: x\r\nX-A: a\r\n Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n'")
has "$c" "/folded"
has "$(cat "$TMP/replica.log")" "X-A: a Transfer-Encoding: chunked"
if grep -qai '^ *Transfer-Encoding' "$TMP/replica.log" || grep -qa /smug "$TMP/replica.log"; then
  fail "a smuggled header or request reached the replica: $(cat "$TMP/replica.log")"
fi
ok "smuggling: CL+TE, two CLs, TE not ending in chunked: 400 and closed; obs-fold forwarded as one line"

c=$(x "b'GET /hc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'" shut)
expect "half-closed client" "$c" "b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n/hc'"
c=$(python3 "$TMP/client.py" pipeline "$RPORT" 2000)
expect "2000 pipelined requests" "$c" "2001 in order"
ok "a client half-closed after its request is answered; 2000 pipelined requests answered in order"

python3 "$TMP/client.py" leave "$RPORT" 20 >/dev/null
for _ in $(seq 1 600); do
  curl -s "http://127.0.0.1:$RPORT/-/replicas" | grep -q '"inflight":0' && break
  nap 0.1
done
has "$(curl -s "http://127.0.0.1:$RPORT/-/replicas")" '"inflight":0'
ok "clients gone mid-request-body, mid-reply, mid-pipeline: in-flight back at 0"

c=$(python3 "$TMP/client.py" idle "$RPORT" 500)
expect "500 idle connections" "$c" "200 500 closed"
ok "500 idle connections: the router still answers, and closes every one after --client-timeout"

# --- replies ended by a close, stale pooled connections, timeouts, slow heads ---
# A second router on the same replica, never ejecting it (the abuse above
# made it fail often), with a 1 s upstream timeout.
start_router2() { # SET [ARGS...]: sets RPORT2, RPID2 (UP_TIMEOUT: the upstream timeout, 1 s)
  rm -f "$TMP/router2.err"
  "$STRATUS" router --replicas "$@" --listen 127.0.0.1:0 --client-timeout 10 --eject-after 0 \
    --upstream-timeout "${UP_TIMEOUT:-1}" 2>"$TMP/router2.err" &
  RPID2=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$TMP/router2.err" 2>/dev/null && break; kill -0 $RPID2 2>/dev/null || break; nap 0.1; done
  RPORT2=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/router2.err")
  [ -n "$RPORT2" ] || fail "router did not start: $(cat "$TMP/router2.err")"
}
start_router2 "$TMP/set.json"
x2() { python3 "$TMP/client.py" x "$RPORT2" "$@"; }
# a body ended by the replica's FIN, arriving with it in one wakeup: whole, at once
for i in 1 2 3 4 5 6 7 8; do
  c=$(x2 "b'GET /connclose HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'")
  expect "body ended by the replica's close (#$i)" "$c" "b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n12\r\neof-delimited body\r\n0\r\n\r\n'"
done
# a client that half-closes after an HTTP/1.1 request: answered, then closed at once
c=$(python3 - "$RPORT2" <<'PY2'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
s.sendall(b"GET /hc HTTP/1.1\r\nHost: x\r\n\r\n"); s.shutdown(socket.SHUT_WR)
t0 = time.time(); out = b""
while True:
    d = s.recv(65536)
    if not d: break
    out += d
print(out.split(b"\r\n")[0].decode(), "closed after the answer" if time.time() - t0 < 6 else "held %.1f s" % (time.time() - t0))
PY2
)
expect "half-closed client" "$c" "HTTP/1.1 200 OK closed after the answer"
# a pooled connection the only replica closed: the POST goes again on a new one
curl -s -o /dev/null "http://127.0.0.1:$RPORT2/kaclose"
c=$(code -X POST -d x "http://127.0.0.1:$RPORT2/x")
expect "POST after the replica closed its pooled connection" "$c" 200
# a head trickled a byte at a time is cut after --client-timeout with 408
c=$(python3 - "$RPORT2" <<'PY2'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); t0 = time.time()
for ch in b"GET / HTTP/1.1\r\nX-Pad: " + b"a" * 100:
    try:
        s.sendall(bytes([ch])); s.settimeout(0.5); d = s.recv(100)
        print(d.split(b"\r\n")[0].decode()); break
    except socket.timeout: pass
    except OSError: print("closed"); break
    if time.time() - t0 > 30: print("open after 30 s"); break
PY2
)
expect "trickled head" "$c" "HTTP/1.1 408 Request Timeout"
# a 204 with a body: no body, no Content-Length for the client; the next request answered
c=$(x2 "b'GET /204body HTTP/1.1\r\nHost: x\r\n\r\n$after'")
expect "204 with a body" "$c" "b'HTTP/1.1 204 No Content\r\n\r\n$tail200'"
# a slow reader of 8 MB is not a silent replica: intact with a 1 s upstream timeout
c=$(python3 "$TMP/client.py" big "$RPORT2" 8000000)
expect "8 MB to a slow reader, 1 s upstream timeout" "$c" "200 8000000 intact"
has "$(curl -s "http://127.0.0.1:$RPORT2/-/metrics")" "stratus_router_upstream_errors_total 0" # none so far: the stale POST was no failure either
# a 101 nobody asked for: 502 at once, not after the upstream timeout
t0=$(date +%s%N)
c=$(code "http://127.0.0.1:$RPORT2/101")
expect "unasked 101" "$c" 502
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 900 ] || fail "the unasked 101 waited for the upstream timeout"
# a replica that answers before reading a 12 MB body (so the router still
# has part of it to send), then resets the connection: that connection must
# not go back to the pool (the rest of the body would go out ahead of the
# next request; and a pooled connection freed on its reset was used after
# free, which killed the router)
# (a router with a long upstream timeout: on a loaded machine the Python
# replica may take more than 1 s to send its early answer, and the 504 the
# 1 s timeout then gives is right, but not this case)
kill -TERM "$RPID2"; wait "$RPID2"; rc=$?
[ "$rc" -eq 0 ] || fail "router exited $rc on SIGTERM: $(tail -30 "$TMP/router2.err")"
UP_TIMEOUT=30 start_router2 "$TMP/set.json"
head -c 12000000 /dev/zero >"$TMP/big.body"
c=$(code -X POST --data-binary @"$TMP/big.body" "http://127.0.0.1:$RPORT2/early")
expect "a replica answering before the body is read" "$c" 413
touch "$TMP/rport.go"
for _ in $(seq 1 600); do grep -q "^early: reset" "$TMP/replica.log" && break; nap 0.1; done
grep -q "^early: reset" "$TMP/replica.log" || fail "the replica did not reset its /early connection"
for i in 1 2 3; do
  c=$(curl -s --max-time 60 "http://127.0.0.1:$RPORT2/after-early$i")
  expect "a request after the early answer and reset (#$i)" "$c" "/after-early$i"
done
kill -0 "$RPID2" 2>/dev/null || fail "the router died after a replica's early answer and reset: $(tail -30 "$TMP/router2.err")"
kill -TERM "$RPID2"; wait "$RPID2"; rc=$?
[ "$rc" -eq 0 ] || fail "router exited $rc on SIGTERM: $(tail -30 "$TMP/router2.err")"
# a POST no replica answers: sent once (not again on the other replica), 504
python3 "$TMP/replica.py" "$TMP/rport2" "$TMP/replica2.log" &
for _ in $(seq 1 600); do [ -s "$TMP/rport2" ] && break; nap 0.1; done
echo "{\"service\":\"s\",\"version\":1,\"replicas\":[{\"id\":1,\"url\":\"http://127.0.0.1:$(cat "$TMP/rport")\",\"state\":\"READY\"},{\"id\":2,\"url\":\"http://127.0.0.1:$(cat "$TMP/rport2")\",\"state\":\"READY\"}]}" >"$TMP/set2.json"
start_router2 "$TMP/set2.json"
for i in 1 2 3 4; do curl -s -o /dev/null "http://127.0.0.1:$RPORT2/warm$i"; done # pooled connections to both
c=$(code -X POST -d x "http://127.0.0.1:$RPORT2/never")
expect "POST to a silent replica" "$c" 504
n=$(cat "$TMP/replica.log" "$TMP/replica2.log" | grep -c "^POST /never")
expect "times the POST was sent" "$n" 1
c=$(code "http://127.0.0.1:$RPORT2/never")
expect "GET to silent replicas (retried: idempotent)" "$c" 504
# a POST whose replica closes without answering (it died with it): tried on the
# other replica too (an inference request changes nothing) unless --no-retry-reset
c=$(code -X POST -d x "http://127.0.0.1:$RPORT2/drop")
expect "POST to replicas that drop it" "$c" 502
n=$(cat "$TMP/replica.log" "$TMP/replica2.log" | grep -c "^POST /drop")
expect "replicas the dropped POST was sent to" "$n" 2
kill -TERM "$RPID2"; wait "$RPID2"
start_router2 "$TMP/set2.json" --no-retry-reset
c=$(code -X POST -d x "http://127.0.0.1:$RPORT2/drop")
expect "POST dropped, --no-retry-reset" "$c" 502
n=$(cat "$TMP/replica.log" "$TMP/replica2.log" | grep -c "^POST /drop")
expect "replicas the dropped POST was sent to, --no-retry-reset" "$n" 3
kill -TERM "$RPID2"; wait "$RPID2"
ok "replies ended by a close, half-closed clients, stale pooled connections, a trickled head (408), 204 and 101 from a replica, an answer before the body was read then a reset, slow readers under an upstream timeout, timed-out POSTs sent once (504), dropped POSTs retried unless --no-retry-reset"

kill -TERM "$RPID"; wait "$RPID"; rc=$?
[ "$rc" -eq 0 ] || fail "router exited $rc on SIGTERM: $(tail -30 "$TMP/router.err")"
hasnt "$(cat "$TMP/router.err")" "Sanitizer"
hasnt "$(cat "$TMP/router.err")" "runtime error"
ok "SIGTERM: status 0, no sanitizer report"

# --- the same abuse on two event loops ---
rm -f "$TMP/router.err"
"$STRATUS" router --replicas "$TMP/set.json" --listen 127.0.0.1:0 --client-timeout 3 --threads 2 \
  2>"$TMP/router.err" &
RPID=$!
for _ in $(seq 1 600); do grep -q "listening on" "$TMP/router.err" 2>/dev/null && break; kill -0 $RPID 2>/dev/null || break; nap 0.1; done
RPORT=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/router.err")
[ -n "$RPORT" ] || fail "router did not start: $(cat "$TMP/router.err")"
python3 "$TMP/client.py" pipeline "$RPORT" 500 >"$TMP/pl" & plpid=$!
python3 "$TMP/client.py" leave "$RPORT" 10 >/dev/null
c=$(x "b'GET /closemid HTTP/1.1\r\nHost: x\r\n\r\n$after'")
expect "replica gone mid-body (2 threads)" "$c" "b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'"
wait $plpid
expect "500 pipelined requests (2 threads)" "$(cat "$TMP/pl")" "501 in order"
for _ in $(seq 1 600); do
  curl -s "http://127.0.0.1:$RPORT/-/replicas" | grep -q '"inflight":0' && break
  nap 0.1
done
has "$(curl -s "http://127.0.0.1:$RPORT/-/replicas")" '"inflight":0'
kill -TERM "$RPID"; wait "$RPID"; rc=$?
[ "$rc" -eq 0 ] || fail "router (2 threads) exited $rc on SIGTERM: $(tail -30 "$TMP/router.err")"
hasnt "$(cat "$TMP/router.err")" "Sanitizer"
ok "--threads 2: pipelining, clients leaving, a replica gone mid-body; in-flight back at 0; clean exit"
echo "all $checks checks passed"
