#!/usr/bin/env bash
# test_llm_server.sh - the example model server (examples/llm-server/server.py)
# as a load balancer and a client see it: /health and readiness, the model
# list, a whole completion, SSE streams whose tokens arrive one by one at the
# configured decode rate, keep-alive, answers to bad requests, and a drain on
# SIGTERM that lets a stream finish.  Servers listen on free loopback ports
# and are stopped by PID.
. "$(dirname "$0")/lib.sh"

SERVER="$SOURCE_DIR/examples/llm-server/server.py"
pids=()
trap 'for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

# start NAME ARGS...: a server on a free port; sets PORT and PID.
start() {
  local name=$1; shift
  python3 -B "$SERVER" --host 127.0.0.1 --port 0 --port-file "$TMP/$name.port" "$@" \
    >"$TMP/$name.log" 2>&1 &
  PID=$!
  pids+=("$PID")
  wait_for test -s "$TMP/$name.port"
  PORT=$(cat "$TMP/$name.port")
}

# wait_exit PID: wait (up to 30 s) for a server to exit; its status in RC.
wait_exit() {
  for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; nap 0.1; done
  kill -0 "$1" 2>/dev/null && fail "server $1 still running after 30 s"
  wait "$1"; RC=$?
}

# stop_wait PID: SIGTERM, then wait_exit.
stop_wait() { kill -TERM "$1"; wait_exit "$1"; }

# client MODE PORT ARGS...: the Python client below; its output in $OUT.
client() { run 0 python3 -B "$TMP/client.py" "$@"; }

cat >"$TMP/client.py" <<'PY'
import http.client, json, os, signal, sys, time

mode, port = sys.argv[1], int(sys.argv[2])

def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)

def post(c, path, obj):
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    c.request("POST", path, body, {"Content-Type": "application/json"})
    return c.getresponse()

def events(r, on_first=None):
    """Read SSE events as they come: [(arrival time, data text)]."""
    out = []
    while True:
        line = r.readline()
        if not line:
            break
        if line.startswith(b"data: "):
            out.append((time.monotonic(), line[6:].strip().decode()))
            if len(out) == 1 and on_first:
                on_first()
    return out

if mode == "whole":  # PATH N: one JSON answer; print text, tokens, seconds
    c = conn()
    t = time.monotonic()
    r = post(c, sys.argv[3], {"model": "m", "prompt": "alpha beta gamma", "max_tokens": int(sys.argv[4]),
                              "messages": [{"role": "user", "content": "alpha beta gamma"}]})
    j = json.loads(r.read())
    dt = time.monotonic() - t
    ch = j["choices"][0]
    text = ch["text"] if "text" in ch else ch["message"]["content"]
    print(r.status, j["object"], j["usage"]["completion_tokens"], "%.3f" % dt, repr(text))
elif mode == "stream":  # PATH N: SSE; print events, span first..last, text
    c = conn()
    path, n = sys.argv[3], int(sys.argv[4])
    req = {"prompt": "alpha beta gamma", "max_tokens": n, "stream": True,
           "messages": [{"role": "user", "content": "alpha beta gamma"}]}
    r = post(c, path, req)
    print("status", r.status, r.getheader("Content-Type"), r.getheader("Transfer-Encoding"))
    ev = events(r)
    assert ev and ev[-1][1] == "[DONE]", ev[-3:]
    toks = [json.loads(d) for _, d in ev[:-1]]
    text = "".join(t["choices"][0].get("text", t["choices"][0].get("delta", {}).get("content", ""))
                   for t in toks)
    print("tokens", len(toks), "span %.3f" % (ev[-2][0] - ev[0][0]))
    print("object", toks[0]["object"], "first", json.dumps(toks[0]["choices"][0]))
    print("finish", [t["choices"][0]["finish_reason"] for t in toks][-2:])
    print("text", repr(text))
elif mode == "keepalive":  # two answers on one connection
    c = conn()
    for _ in range(2):
        r = post(c, "/v1/completions", {"prompt": "x", "max_tokens": 2, "stream": True})
        print(r.status, len(events(r)))
    print("same socket", c.sock is not None)
elif mode == "status":  # METHOD PATH [BODY]: print status and body
    c = conn()
    body = sys.argv[5].encode() if len(sys.argv) > 5 else None
    c.request(sys.argv[3], sys.argv[4], body, {"Content-Type": "application/json"} if body else {})
    r = c.getresponse()
    print(r.status, r.getheader("Retry-After"), r.read().decode())
elif mode == "drain":  # PID N: SIGTERM once the stream has begun; it must finish
    pid, n = int(sys.argv[3]), int(sys.argv[4])
    c = conn()
    r = post(c, "/v1/completions", {"prompt": "p", "max_tokens": n, "stream": True})
    def term():
        os.kill(pid, signal.SIGTERM)
        h = conn()
        for _ in range(100):  # the signal is handled asynchronously
            h.request("GET", "/health")
            hr = h.getresponse()
            hr.read()
            if hr.status == 503:
                break
            time.sleep(0.05)
        print("health while draining", hr.status)
        p = post(conn(), "/v1/completions", {"prompt": "p", "max_tokens": 1})
        p.read()
        print("new request while draining", p.status)
    ev = events(r, term)
    print("stream after SIGTERM", len(ev) - 1, "tokens then", ev[-1][1])
PY

# --- a server still loading: readiness says 503, work is refused ---------
STRATUS_ACCELERATOR=H100 start loading --startup-delay 600
has "$(cat "$TMP/loading.log")" "accelerator=H100 prefill=10000 tok/s decode=100 tok/s"
client status "$PORT" GET /health
has "$OUT" '503 1 {"status": "loading"}'
client status "$PORT" POST /v1/completions '{"prompt": "x"}'
has "$OUT" "503 None"
has "$OUT" "not ready"
stop_wait "$PID"
[ "$RC" -eq 0 ] || fail "the loading server exited $RC on SIGTERM"
ok "while loading: /health 503 with Retry-After, completions 503; rates from \$STRATUS_ACCELERATOR; SIGTERM exits 0"

# --- a ready server, 20 tokens a second ----------------------------------
start main --model toy/llm-8b --accelerator L4 --decode-tps 20
main_pid=$PID
has "$(cat "$TMP/main.log")" "accelerator=L4 prefill=2000 tok/s decode=20 tok/s"
client status "$PORT" GET /health
has "$OUT" '200 None {"status": "ok", "model": "toy/llm-8b"}'
client status "$PORT" GET /v1/models
has "$OUT" '"data": [{"id": "toy/llm-8b", "object": "model"'
ok "/health 200 when ready, /v1/models lists the model"

# 10 tokens at 20/s take at least 0.5 s (a lower bound: a slow machine only adds).
client whole "$PORT" /v1/completions 10
read -r status object ntok secs text <<<"$OUT"
[ "$status $object $ntok" = "200 text_completion 10" ] || fail "whole completion: $OUT"
has "$OUT" "'alpha beta gamma alpha beta gamma alpha beta gamma alpha'"
python3 -c "import sys; sys.exit(not $secs >= 0.45)" || fail "10 tokens at 20/s came in ${secs}s"
client whole "$PORT" /v1/chat/completions 3
has "$OUT" "200 chat.completion 3"
has "$OUT" "'alpha beta gamma'"
ok "non-stream completions: one JSON answer, max_tokens tokens, no faster than the rate (${secs}s)"

# A stream: 12 token events, the first and last at least 11/20 s apart, so
# they were sent one by one at the rate, not buffered into one write.
client stream "$PORT" /v1/completions 12
has "$OUT" "status 200 text/event-stream chunked"
has "$OUT" "tokens 12 span"
has "$OUT" "object text_completion"
has "$OUT" "finish [None, 'length']"
has "$OUT" "text 'alpha beta gamma alpha beta gamma alpha beta gamma alpha beta gamma'"
span=$(sed -n 's/.*span \([0-9.]*\).*/\1/p' <<<"$OUT")
python3 -c "import sys; sys.exit(not $span >= 0.5)" || fail "12 tokens at 20/s arrived within ${span}s: not streamed at the rate"
client stream "$PORT" /v1/chat/completions 4
has "$OUT" "tokens 4"
has "$OUT" "object chat.completion.chunk"
has "$OUT" '"delta": {"content": "alpha", "role": "assistant"}'
has "$OUT" "text 'alpha beta gamma alpha'"
ok "SSE streams: one event per token, paced at the decode rate (12 tokens over ${span}s), then [DONE]"

client keepalive "$PORT"
has "$OUT" $'200 3\n200 3\nsame socket True'
ok "two streamed answers on one kept-alive connection"

client status "$PORT" POST /v1/completions 'not json'
has "$OUT" "400 None"
has "$OUT" "not JSON"
client status "$PORT" POST /v1/completions '{"prompt": "x", "max_tokens": 0}'
has "$OUT" "400 None"
has "$OUT" "max_tokens"
client status "$PORT" POST /v1/chat/completions '{"messages": []}'
has "$OUT" "400 None"
client status "$PORT" GET /v1/nothing
has "$OUT" "404 None"
ok "bad requests get 400 with a reason, unknown paths 404"

# SIGTERM during a 60-token stream (3 s at 20/s): /health turns 503, new work
# is refused, the stream runs to its end, then the server exits 0.
client drain "$PORT" "$main_pid" 60
has "$OUT" "health while draining 503"
has "$OUT" "new request while draining 503"
has "$OUT" "stream after SIGTERM 60 tokens then [DONE]"
wait_exit "$main_pid"
[ "$RC" -eq 0 ] || fail "the server exited $RC after draining"
has "$(cat "$TMP/main.log")" "draining done (0 request(s) cut off)"
ok "SIGTERM drains: probes fail, in-flight stream completes, exit 0"

# --max-seconds ends a server by itself (how a plain job of it would end).
start short --max-seconds 0.5
wait_exit "$PID"
[ "$RC" -eq 0 ] || fail "--max-seconds server exited $RC"
ok "--max-seconds: drains and exits 0 by itself"

echo "all $checks checks passed"
