#!/usr/bin/env python3
"""api_client.py - the clients of bench_api.sh that wrk cannot be: one
keep-alive HTTP/1.1 connection each, the wall clock on this machine.

  api_client.py wake URL TOKEN SPEC N
      N times: submit SPEC (POST /v1/jobs), note when the reply arrived,
      follow the job's events until its PROVISIONING transition, then
      until the job ends (so the next submit finds the clouds idle).
      Prints: N median p90 max of (event.at - reply), and the median of
      (PROVISIONING first seen by this client - reply), in ms.
  api_client.py submit URL TOKEN SPEC N
      N submits back to back; prints: seconds first-byte-out to last reply,
      and the time of the first submit (epoch seconds).
  api_client.py wait URL TOKEN
      until no job is active (GET /v1/jobs?active=1, every 0.1 s); prints:
      epoch seconds when seen so, jobs, jobs not SUCCEEDED.
  api_client.py slurm SLURM_DIR PORT_BASE N
      N jobs straight to the two slurmrestd of scripts/slurm-up.sh, round
      robin, one keep-alive connection per cluster; then until all ended.
      Prints: submit seconds, makespan seconds, jobs not COMPLETED.
  api_client.py gaps SLURM_DIR PORT_BASE
      where the time between two jobs on a node went, from what the two
      slurmrestd say of every job they remember (Slurm's clock, whole
      seconds), for the direct jobs and for Stratus's: per node, the gap
      from a job's end to the next job's start, split into the part
      before the next job was submitted (the submitter was late) and the
      part after (Slurm was); how long jobs ran; and at how many job
      ends no job of the kind waited in that cluster's queue.
URL is http://127.0.0.1:PORT.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse


class Api:
    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port)
        self.hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        self.conn.request(method, path, body, self.hdr)
        r = self.conn.getresponse()
        data = r.read()
        if r.status >= 300:
            sys.exit(f"api_client: {method} {path}: {r.status} {data[:500]!r}")
        return json.loads(data) if data else {}


def submit_body(spec_path):
    return json.dumps({"spec": open(spec_path).read(), "file": spec_path})


TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def follow_until(api, job, pred):
    """Events of job from the start until pred(event) holds; returns that
    event and when it was seen; None if the job ended without one."""
    after = 0
    while True:
        r = api.call("GET", f"/v1/jobs/{job}/events?after={after}")
        for ev in r["events"]:
            after = ev["id"]
            if pred(ev):
                return ev, time.time()
        if r["state"] in TERMINAL:
            return None, time.time()
        time.sleep(0.001)


def wake(url, token, spec, n):
    api, body = Api(url, token), submit_body(spec)
    lat, seen = [], []
    for _ in range(n):
        job = api.call("POST", "/v1/jobs", body)["id"]
        t_reply = time.time()
        ev, t_seen = follow_until(api, job, lambda e: e.get("to_state") == "PROVISIONING")
        if ev is None:
            sys.exit(f"api_client: job {job} ended without PROVISIONING")
        lat.append((ev["at"] - t_reply) * 1000)
        seen.append((t_seen - t_reply) * 1000)
        follow_until(api, job, lambda e: e.get("to_state") in TERMINAL)
    lat.sort()
    print(f"{n} {statistics.median(lat):.3f} {lat[int(0.9 * (n - 1))]:.3f} {lat[-1]:.3f} "
          f"{statistics.median(seen):.3f}")


def submit(url, token, spec, n):
    api, body = Api(url, token), submit_body(spec)
    t0 = time.time()
    for _ in range(n):
        api.call("POST", "/v1/jobs", body)
    print(f"{time.time() - t0:.4f} {t0:.4f}")


def wait(url, token):
    api = Api(url, token)
    while api.call("GET", "/v1/jobs?active=1")["jobs"]:
        time.sleep(0.1)
    t = time.time()
    jobs = api.call("GET", "/v1/jobs")["jobs"]
    bad = sum(1 for j in jobs if j["state"] != "SUCCEEDED")
    print(f"{t:.4f} {len(jobs)} {bad}")


def slurm(slurm_dir, base, n):
    clusters = []
    for i, name in enumerate(["azure-eastus", "oci-ashburn"]):
        tok = open(f"{slurm_dir}/{name}/token").read().strip()
        conn = http.client.HTTPConnection("127.0.0.1", base + i * 20 + 1)
        clusters.append((conn, {"X-SLURM-USER-NAME": "root", "X-SLURM-USER-TOKEN": tok,
                                "Content-Type": "application/json"}))

    def call(c, method, path, body=None):
        conn, hdr = clusters[c]
        conn.request(method, "/slurm/v0.0.38" + path, body, hdr)
        return json.loads(conn.getresponse().read() or b"{}")

    def one(c, k):
        job = {"job": {"name": f"direct-{k}", "nodes": 1, "gres": "gpu:8",
                       "exclusive": "exclusive", "no_requeue": True, "partition": "gpu",
                       "current_working_directory": "/tmp", "standard_output": "/dev/null",
                       "environment": {"PATH": "/usr/bin:/bin"}},
               "script": "#!/bin/bash\nexec srun --nodes=1 --ntasks=1 true\n"}
        return call(c, "POST", "/job/submit", json.dumps(job))["job_id"]

    t0 = time.time()
    ids = [(k % 2, one(k % 2, k)) for k in range(n)]
    t1 = time.time()
    live = ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING")
    while True:
        s = [{j["job_id"]: j["job_state"] for j in call(c, "GET", "/jobs")["jobs"]} for c in (0, 1)]
        if all(s[c][i] not in live for c, i in ids):
            break
        time.sleep(0.1)
    t2 = time.time()
    print(f"{t1 - t0:.4f} {t2 - t0:.4f} {sum(1 for c, i in ids if s[c][i] != 'COMPLETED')}")


def slurm_jobs(slurm_dir, base):
    out = []
    for i, name in enumerate(["azure-eastus", "oci-ashburn"]):
        tok = open(f"{slurm_dir}/{name}/token").read().strip()
        conn = http.client.HTTPConnection("127.0.0.1", base + i * 20 + 1)
        conn.request("GET", "/slurm/v0.0.38/jobs", None,
                     {"X-SLURM-USER-NAME": "root", "X-SLURM-USER-TOKEN": tok})
        out += [dict(j, cluster=name) for j in json.loads(conn.getresponse().read())["jobs"]]
    return out


def gaps(slurm_dir, base):
    jobs = slurm_jobs(slurm_dir, base)
    for kind, pre in (("direct", "direct-"), ("stratus", "stratus-")):
        mine = [j for j in jobs if j["name"].startswith(pre) and j["start_time"] > 0
                and j["nodes"]]
        if not mine:
            continue
        by_node = {}
        for j in mine:
            by_node.setdefault((j["cluster"], j["nodes"]), []).append(j)
        late_sub, late_slurm, none_waiting = [], [], 0
        for (cluster, _), lst in by_node.items():
            lst.sort(key=lambda j: (j["start_time"], j["job_id"]))
            for a, b in zip(lst, lst[1:]):
                late_sub.append(max(0, b["submit_time"] - a["end_time"]))
                late_slurm.append(b["start_time"] - max(b["submit_time"], a["end_time"]))
                none_waiting += not any(j["cluster"] == cluster and
                                        j["submit_time"] <= a["end_time"] < j["start_time"]
                                        for j in mine)
        ran = [j["end_time"] - j["start_time"] for j in mine]
        n = max(1, len(late_sub))
        print(f"gaps {kind:8s} {len(mine)} jobs on {len(by_node)} nodes: "
              f"span {max(j['end_time'] for j in mine) - min(j['submit_time'] for j in mine)} s; "
              f"per node gap end->next start: submitter {sum(late_sub) / n:.2f} s + "
              f"Slurm {sum(late_slurm) / n:.2f} s mean; a job ran {sum(ran) / len(ran):.2f} s mean; "
              f"no job waiting in Slurm at {none_waiting} of {len(late_sub)} ends")


def main():
    a = sys.argv
    if len(a) == 6 and a[1] == "wake":
        wake(a[2], a[3], a[4], int(a[5]))
    elif len(a) == 6 and a[1] == "submit":
        submit(a[2], a[3], a[4], int(a[5]))
    elif len(a) == 4 and a[1] == "wait":
        wait(a[2], a[3])
    elif len(a) == 4 and a[1] == "gaps":
        gaps(a[2], int(a[3]))
    elif len(a) == 5 and a[1] == "slurm":
        slurm(a[2], int(a[3]), int(a[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
