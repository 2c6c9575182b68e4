"""A toy OpenAI-compatible LLM server: what examples/serve-llm.yaml replicates.

    python3 llm-server/server.py [--port 8000] [--model NAME] [--accelerator H100]

It stands in for `vllm serve` on the local clouds, so a service can be
exercised end to end with nothing but python3.  The "model" writes back the
words of the prompt (it is a load generator's target, not a language model),
but it writes them as a real server would: after a prefill time that grows
with the prompt, one token at a time at the decode rate of the accelerator it
runs on.

    GET  /health                200 {"status": "ok"}; 503 while loading or draining
    GET  /v1/models             the one model served
    POST /v1/completions        {"prompt": ..., "max_tokens": N, "stream": bool}
    POST /v1/chat/completions   {"messages": [...], "max_tokens": N, "stream": bool}

With "stream": true the answer is Server-Sent Events over a chunked HTTP/1.1
response: one `data: {...}` event per token, then `data: [DONE]`.  Without it,
one JSON object once the last token is made.  Connections are kept alive.

Rates come from a table per accelerator (tokens per second for one request;
requests do not slow each other down unless --max-batch caps how many run at
once, the rest waiting for a slot).  The accelerator is --accelerator, else
$STRATUS_ACCELERATOR, else L4; --prefill-tps/--decode-tps override the table.

Readiness: --startup-delay S answers /health with 503 for S seconds (a model
loading), so probes and initial_delay_seconds can be exercised.  Stopping:
SIGTERM (or SIGINT) drains - /health says 503, in-flight requests finish (up to
--drain-seconds), then it exits 0.  --max-seconds S drains and exits after S
seconds (0, the default, serves until stopped).  --port 0 (or --any-port when
the port is taken, as on the local clouds where every replica shares one
host) takes a free port; the port is printed and, with --port-file, written.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Tokens per second for one request: prefill (prompt) and decode (answer).
# Rough single-GPU figures for an 8B model; the point is that they differ.
RATES = {
    "H200": (14000, 120),
    "H100": (10000, 100),
    "A100-80GB": (6500, 65),
    "A100": (6000, 60),
    "L40S": (5000, 50),
    "A10G": (2500, 30),
    "A10": (2500, 30),
    "L4": (2000, 25),
    "T4": (1000, 15),
    "CPU": (200, 8),
}
DEFAULT_ACCELERATOR = "L4"
MAX_BODY = 1 << 20       # bytes of request body
MAX_TOKENS_LIMIT = 4096  # per request
DEFAULT_MAX_TOKENS = 16


def log(msg):
    print("llm-server: " + msg, flush=True)


def rates_for(accelerator, prefill, decode):
    """(name, prefill tokens/s, decode tokens/s) for an accelerator name."""
    name = (accelerator or "").split(":")[0]
    key = next((k for k in RATES if k.lower() == name.lower()), None)
    if key is None:
        if name:
            log("no rates for accelerator %r; using %s's" % (name, DEFAULT_ACCELERATOR))
        key = DEFAULT_ACCELERATOR
    p, d = RATES[key]
    return name or key, prefill or p, decode or d


class State:
    """What the handlers share: settings, readiness, in-flight count."""

    def __init__(self, args):
        self.model = args.model
        self.accelerator, self.prefill_tps, self.decode_tps = rates_for(
            args.accelerator, args.prefill_tps, args.decode_tps)
        self.ready_at = time.monotonic() + args.startup_delay
        self.draining = False
        self.lock = threading.Lock()
        self.inflight = 0
        self.idle = threading.Condition(self.lock)
        self.slots = threading.Semaphore(args.max_batch) if args.max_batch > 0 else None

    def ready(self):
        return not self.draining and time.monotonic() >= self.ready_at

    def enter(self):
        with self.lock:
            self.inflight += 1

    def leave(self):
        with self.lock:
            self.inflight -= 1
            self.idle.notify_all()


class BadRequest(Exception):
    pass


def prompt_of(path, req):
    """The prompt text of a completion or chat request."""
    if path == "/v1/completions":
        p = req.get("prompt")
        if isinstance(p, list):
            p = " ".join(str(x) for x in p)
        if not isinstance(p, str):
            raise BadRequest("'prompt' must be a string or a list of strings")
        return p
    msgs = req.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise BadRequest("'messages' must be a non-empty list")
    last = msgs[-1]
    if not isinstance(last, dict) or not isinstance(last.get("content", ""), str):
        raise BadRequest("each message needs a 'content' string")
    return last.get("content", "")


def max_tokens_of(req):
    n = req.get("max_tokens", req.get("max_completion_tokens", DEFAULT_MAX_TOKENS))
    if n is None:
        n = DEFAULT_MAX_TOKENS
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_TOKENS_LIMIT:
        raise BadRequest("'max_tokens' must be a whole number from 1 to %d" % MAX_TOKENS_LIMIT)
    return n


def answer_tokens(prompt, n):
    """n tokens: the prompt's words, over and over ("echo" when it has none)."""
    words = prompt.split() or ["echo"]
    return [(" " if i else "") + words[i % len(words)] for i in range(n)]


def make_handler(st):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive; streams are chunked
        server_version = "stratus-llm-server/1"

        def log_message(self, fmt, *args):  # quiet: the tests read stdout
            pass

        def reply(self, code, obj, extra=None):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def error(self, code, msg, kind="invalid_request_error"):
            self.reply(code, {"error": {"message": msg, "type": kind, "code": code}})

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/health":
                if st.ready():
                    self.reply(200, {"status": "ok", "model": st.model})
                else:
                    why = "draining" if st.draining else "loading"
                    self.reply(503, {"status": why}, {"Retry-After": "1"})
            elif path == "/v1/models":
                self.reply(200, {"object": "list", "data": [
                    {"id": st.model, "object": "model", "owned_by": "stratus",
                     "created": 0}]})
            else:
                self.error(404, "no route GET %s" % path, "not_found_error")

        def read_json(self):
            try:
                n = int(self.headers.get("Content-Length", ""))
            except ValueError:
                raise BadRequest("a JSON body with Content-Length is required")
            if n < 0 or n > MAX_BODY:
                self.close_connection = True
                raise BadRequest("the body must be at most %d bytes" % MAX_BODY)
            try:
                req = json.loads(self.rfile.read(n) or b"null")
            except ValueError as e:
                raise BadRequest("the body is not JSON: %s" % e)
            if not isinstance(req, dict):
                raise BadRequest("the body must be a JSON object")
            return req

        def do_POST(self):
            path = self.path.split("?")[0]
            if path not in ("/v1/completions", "/v1/chat/completions"):
                self.error(404, "no route POST %s" % path, "not_found_error")
                return
            try:
                req = self.read_json()
                prompt = prompt_of(path, req)
                n = max_tokens_of(req)
            except BadRequest as e:
                self.error(400, str(e))
                return
            if not st.ready():
                self.error(503, "the model is not ready", "unavailable")
                return
            st.enter()
            try:
                self.complete(path == "/v1/chat/completions", req, prompt, n)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client left mid-answer
            finally:
                st.leave()

        def complete(self, chat, req, prompt, n):
            if st.slots is not None:
                st.slots.acquire()
            try:
                tokens = answer_tokens(prompt, n)
                ptoks = max(1, len(prompt.split()))
                time.sleep(ptoks / st.prefill_tps)
                if req.get("stream"):
                    self.stream(chat, tokens, ptoks)
                else:
                    time.sleep(len(tokens) / st.decode_tps)
                    self.whole(chat, tokens, ptoks)
            finally:
                if st.slots is not None:
                    st.slots.release()

        def head(self, chat):
            return {"id": ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24],
                    "created": int(time.time()), "model": st.model}

        def whole(self, chat, tokens, ptoks):
            obj = self.head(chat)
            text = "".join(tokens)
            if chat:
                obj["object"] = "chat.completion"
                choice = {"index": 0, "message": {"role": "assistant", "content": text}}
            else:
                obj["object"] = "text_completion"
                choice = {"index": 0, "text": text, "logprobs": None}
            choice["finish_reason"] = "length"
            obj["choices"] = [choice]
            obj["usage"] = {"prompt_tokens": ptoks, "completion_tokens": len(tokens),
                            "total_tokens": ptoks + len(tokens)}
            self.reply(200, obj)

        def chunk(self, data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def event(self, obj):
            self.chunk(b"data: " + json.dumps(obj).encode() + b"\n\n")

        def stream(self, chat, tokens, ptoks):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            base = self.head(chat)
            base["object"] = "chat.completion.chunk" if chat else "text_completion"
            start = time.monotonic()
            for i, tok in enumerate(tokens):
                # Token i is due (i + 1) / rate after decoding starts: sleeping
                # to a deadline keeps the rate whatever the writes cost.
                delay = start + (i + 1) / st.decode_tps - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                last = i == len(tokens) - 1
                if chat:
                    delta = {"content": tok}
                    if i == 0:
                        delta["role"] = "assistant"
                    choice = {"index": 0, "delta": delta}
                else:
                    choice = {"index": 0, "text": tok, "logprobs": None}
                choice["finish_reason"] = "length" if last else None
                self.event(dict(base, choices=[choice]))
            self.chunk(b"data: [DONE]\n\n")
            self.chunk(b"")

    return Handler


def bind(args, handler):
    try:
        return ThreadingHTTPServer((args.host, args.port), handler)
    except OSError as e:
        if not args.any_port or args.port == 0:
            log("cannot listen on %s:%d: %s" % (args.host, args.port, e.strerror))
            sys.exit(1)
        log("port %d is taken; taking a free one" % args.port)
        return ThreadingHTTPServer((args.host, 0), handler)


def drain_then_stop(st, srv, drain_s):
    """Stop taking traffic, let in-flight requests finish, stop the server."""
    st.draining = True
    deadline = time.monotonic() + drain_s
    with st.lock:
        while st.inflight > 0 and time.monotonic() < deadline:
            st.idle.wait(max(0.01, deadline - time.monotonic()))
        left = st.inflight
    log("draining done (%d request(s) cut off); stopping" % left)
    srv.shutdown()


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    ap.add_argument("--any-port", action="store_true",
                    help="take a free port when --port is taken")
    ap.add_argument("--port-file", help="write the port listened on to this file")
    ap.add_argument("--model", default=os.environ.get("MODEL", "stratus/toy-llm"))
    ap.add_argument("--accelerator", default=os.environ.get("STRATUS_ACCELERATOR", ""))
    ap.add_argument("--prefill-tps", type=float, default=0, help="override the table")
    ap.add_argument("--decode-tps", type=float, default=0, help="override the table")
    ap.add_argument("--max-batch", type=int, default=0,
                    help="requests decoded at once; 0 = no limit")
    ap.add_argument("--startup-delay", type=float, default=0)
    ap.add_argument("--max-seconds", type=float, default=0)
    ap.add_argument("--drain-seconds", type=float, default=30)
    args = ap.parse_args(argv)
    if args.prefill_tps < 0 or args.decode_tps < 0 or args.max_batch < 0:
        ap.error("rates and --max-batch must not be negative")
    return args


def main(argv):
    args = parse_args(argv)
    st = State(args)
    srv = bind(args, make_handler(st))
    srv.daemon_threads = True
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)  # readers never see half a number
    stop = lambda *_: threading.Thread(  # noqa: E731
        target=drain_then_stop, args=(st, srv, args.drain_seconds), daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.max_seconds > 0:
        t = threading.Timer(args.max_seconds, stop)
        t.daemon = True
        t.start()
    log("listening on http://%s:%d model=%s accelerator=%s prefill=%g tok/s decode=%g tok/s"
        % (args.host, port, st.model, st.accelerator, st.prefill_tps, st.decode_tps))
    if args.startup_delay > 0:
        t = threading.Timer(args.startup_delay,
                            lambda: log("ready after %gs" % args.startup_delay))
        t.daemon = True
        t.start()
    else:
        log("ready")
    srv.serve_forever(poll_interval=0.1)
    srv.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
