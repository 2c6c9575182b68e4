"""Toy inference replica: what examples/infer-llm.yaml runs on the local clouds.

    python3 serve/replica.py --model NAME [--port 8000] [--serve-for SECONDS]

Serves an OpenAI-style completion endpoint, as `vllm serve` would, with a
stand-in "model" (it echoes the prompt back), so the example needs nothing
but python3:

    GET  /health           {"ok": true, "model": NAME}
    POST /v1/completions   {"prompt": "..."} -> {"model": NAME, "choices": [{"text": ...}]}

It listens on 127.0.0.1 (HOST overrides).  The local clouds put every
replica on this one machine, so when the port is taken it takes a free one
and says which.  Once up it checks itself as a load balancer's readiness
probe would (a failure exits 1), then serves for --serve-for seconds and
exits 0 so that the example ends (0 = until SIGTERM, as a real replica
runs); SIGTERM drains it and exits 0.
"""
import argparse
import http.server
import json
import os
import signal
import sys
import threading
import urllib.request


def make_handler(model):
    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                self.reply(200, {"ok": True, "model": model})
            else:
                self.reply(404, {"error": "no route " + self.path})

        def do_POST(self):
            if self.path != "/v1/completions":
                self.reply(404, {"error": "no route " + self.path})
                return
            try:
                n = int(self.headers.get("Content-Length", "0"))
                prompt = json.loads(self.rfile.read(min(n, 1 << 20)))["prompt"]
            except (ValueError, KeyError, TypeError):
                self.reply(400, {"error": 'body must be JSON {"prompt": "..."}'})
                return
            self.reply(200, {"model": model, "choices": [{"text": "echo: " + str(prompt)}]})

        def log_message(self, fmt, *args):
            print("request: " + fmt % args, flush=True)

    return Handler


def listen(host, port, handler):
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        print(f"port {port} is taken on this machine ({e.strerror}): taking a free one",
              flush=True)
        return http.server.ThreadingHTTPServer((host, 0), handler)


def self_check(base, model):
    """A readiness probe: the health route, then one completion."""
    with urllib.request.urlopen(base + "/health", timeout=10) as r:
        assert json.load(r)["ok"] is True
    req = urllib.request.Request(base + "/v1/completions",
                                 data=json.dumps({"prompt": "hello"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = json.load(r)["choices"][0]["text"]
    print(f"ready: {model} answered 'hello' with '{text}'", flush=True)


def main():
    ap = argparse.ArgumentParser(prog="replica")
    ap.add_argument("--model", required=True)
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--serve-for", type=float, default=0)
    args = ap.parse_args()

    srv = listen(os.environ.get("HOST", "127.0.0.1"), args.port, make_handler(args.model))
    host, port = srv.server_address[:2]
    base = f"http://{host}:{port}"
    print(f"serving {args.model} on {base} "
          f"({os.environ.get('STRATUS_CLOUD', '?')}/{os.environ.get('STRATUS_REGION', '?')})",
          flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        self_check(base, args.model)
    except Exception as e:  # any failure means the replica is not ready
        print(f"not ready: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    stop.wait(args.serve_for if args.serve_for > 0 else None)
    print("draining and stopping", flush=True)
    srv.shutdown()
    srv.server_close()


if __name__ == "__main__":
    main()
