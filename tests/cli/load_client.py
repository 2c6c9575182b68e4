"""load_client.py - a client the service tests keep busy through a router:
two threads send completions one after another (a pause between) until the
file TMP/stop exists, and every answer is counted in TMP/load.json
({"ok", "fail", "errors": the first five failures}), rewritten atomically
five times a second.

    python3 load_client.py TMP KEY ROUTER_URL [PAUSE_S]
"""
import json, os, sys, threading, time, urllib.request

tmp, key, url = sys.argv[1], sys.argv[2], sys.argv[3]
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.02
lock = threading.Lock()
res = {"ok": 0, "fail": 0, "errors": []}


def save():
    with lock:
        json.dump(res, open(tmp + "/load.json.tmp", "w"))
    os.replace(tmp + "/load.json.tmp", tmp + "/load.json")


def worker():
    body = json.dumps({"model": "m", "prompt": "hello", "max_tokens": 2}).encode()
    while not os.path.exists(tmp + "/stop"):
        req = urllib.request.Request(url + "/v1/completions", body,
                                     {"Authorization": "Bearer " + key,
                                      "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                r.read()
                good, why = r.status == 200, r.status
        except Exception as e:
            good, why = False, repr(e)
        with lock:
            res["ok" if good else "fail"] += 1
            if not good and len(res["errors"]) < 5:
                res["errors"].append(str(why))
        time.sleep(pause)


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
while not os.path.exists(tmp + "/stop"):
    save()
    time.sleep(0.2)
for t in threads:
    t.join()
save()
