#!/usr/bin/env bash
# bench_slurm.sh - what Stratus costs on real Slurm clusters: N short jobs
# (default 500, 1 node x 8 GPUs, `true`) across the two clusters of
# scripts/slurm-up.sh, submitted once straight to slurmrestd and once
# through Stratus.  Prints numbers; it is not a test.
#
#   bench/bench_slurm.sh [BUILD_DIR]     (default: build; needs root)
#
#   BENCH_JOBS=500         jobs per run
#   BENCH_SINGLE=10        sequential single jobs for the unloaded latency
#   BENCH_POLL=0.25s       the clusters file's poll_interval for Stratus
#
# What it prints:
#   submit rate     jobs/s POSTed: direct (one client, keep-alive, round
#                   robin over the clusters) and by the controller (its
#                   launches per second over the run; Stratus submits only
#                   what the free nodes can take, so this follows the
#                   clusters' completions), and `stratus launch --detach`
#                   alone (jobs/s into the store)
#   makespan        first submission to last job done, and jobs/s done
#   added per job   (makespan through Stratus - direct) / N: the time
#                   Stratus adds per job under load
#   unloaded        one job at a time, submit -> seen done by the
#                   submitter: direct (polling slurmrestd every 20 ms)
#                   against `stratus launch` (which waits for the end);
#                   both on azure-eastus, the cluster Stratus picks (its
#                   capacity is committed in the bench catalog), since
#                   Slurm starts a job that follows another on the same
#                   cluster up to ~2 s later than one on an idle cluster
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build}
STRATUS=$root/$build/stratus
N=${BENCH_JOBS:-500}
SINGLE=${BENCH_SINGLE:-10}
POLL=${BENCH_POLL:-0.25s}
[ "$(id -u)" -eq 0 ] || { echo "bench_slurm: needs root (it starts Slurm)"; exit 1; }
[ -x "$STRATUS" ] || { echo "bench_slurm: no $STRATUS; build first"; exit 1; }

export SLURM_DIR=/tmp/stratus-slurm-bench SLURM_PORT_BASE=18800 SLURM_POLL_INTERVAL=$POLL
TMP=$(mktemp -d)
cleanup() {
  STRATUS_HOME=$TMP/home "$STRATUS" controller stop >/dev/null 2>&1
  "$root/scripts/slurm-down.sh" --purge >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
"$root/scripts/slurm-up.sh" >"$TMP/up.log" 2>&1 || { cat "$TMP/up.log"; exit 1; }

# The direct client: Python's http.client, one kept-alive connection per
# cluster, as the driver's libcurl handles are.
cat >"$TMP/direct.py" <<'PY'
import http.client, json, sys, time
slurm_dir, base, mode, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
clusters = []
for i, name in enumerate(["azure-eastus", "oci-ashburn"]):
    tok = open(f"{slurm_dir}/{name}/token").read().strip()
    conn = http.client.HTTPConnection("127.0.0.1", base + i * 20 + 1)
    hdr = {"X-SLURM-USER-NAME": "root", "X-SLURM-USER-TOKEN": tok,
           "Content-Type": "application/json"}
    clusters.append((conn, hdr))
def call(c, method, path, body=None):
    conn, hdr = clusters[c]
    conn.request(method, "/slurm/v0.0.38" + path, body, hdr)
    return json.loads(conn.getresponse().read() or b"{}")
def submit(c, k):
    job = {"job": {"name": f"direct-{k}", "nodes": 1, "gres": "gpu:8",
                   "exclusive": "exclusive", "no_requeue": True, "partition": "gpu",
                   "current_working_directory": "/tmp", "standard_output": "/dev/null",
                   "environment": {"PATH": "/usr/bin:/bin"}},
           "script": "#!/bin/bash\nexec srun --nodes=1 --ntasks=1 true\n"}
    r = call(c, "POST", "/job/submit", json.dumps(job))
    return r["job_id"]
def states(c):
    return {j["job_id"]: j["job_state"] for j in call(c, "GET", "/jobs")["jobs"]}
if mode == "load":
    t0 = time.time()
    ids = [(k % 2, submit(k % 2, k)) for k in range(n)]
    t1 = time.time()
    while True:
        s = [states(0), states(1)]
        if all(s[c][i] not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING") for c, i in ids):
            break
        time.sleep(0.2)
    t2 = time.time()
    bad = sum(1 for c, i in ids if s[c][i] != "COMPLETED")
    print(f"{t1 - t0:.3f} {t2 - t0:.3f} {bad}")
else:
    total = 0.0
    for k in range(n):  # all to azure-eastus, where Stratus puts them too
        t0 = time.time()
        i = submit(0, 100000 + k)
        while True:
            st = call(0, "GET", f"/job/{i}")["jobs"][0]["job_state"]
            if st not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING"):
                break
            time.sleep(0.02)
        total += time.time() - t0
    print(f"{total / n:.3f}")
PY

idle_wait() { # until all 8 nodes are idle again
  local c
  for _ in $(seq 1 600); do
    c=0
    for d in azure-eastus oci-ashburn; do
      c=$((c + $(SLURM_CONF=$SLURM_DIR/$d/slurm.conf sinfo -h -t idle -o %D | awk '{s += $1} END {print s + 0}')))
    done
    [ "$c" -ge 8 ] && return 0
    sleep 0.1
  done
}

echo "bench_slurm: $N jobs (1 node x 8 GPUs, \`true\`), 2 clusters x 4 nodes, poll_interval $POLL"

# --- straight to slurmrestd ---
read -r d_submit d_make d_bad < <(python3 "$TMP/direct.py" "$SLURM_DIR" "$SLURM_PORT_BASE" load "$N")
idle_wait
d_single=$(python3 "$TMP/direct.py" "$SLURM_DIR" "$SLURM_PORT_BASE" single "$SINGLE")
idle_wait

# --- through Stratus ---
export STRATUS_HOME=$TMP/home STRATUS_DRIVER=slurm STRATUS_CATALOG=$root/tests/data/catalog-mini
mkdir -p "$STRATUS_HOME"
cp "$SLURM_DIR/clusters.yaml" "$STRATUS_HOME/"
cat >"$TMP/job.yaml" <<'YAML'
name: bench
resources:
  accelerators: H100:8
  use_spot: false
run: "true"
stratus: {kind: batch}
YAML
export STRATUS_NO_AUTOSTART=1
t0=$(date +%s.%N)
for _ in $(seq 1 "$N"); do "$STRATUS" launch "$TMP/job.yaml" --detach >/dev/null || exit 1; done
t1=$(date +%s.%N)
unset STRATUS_NO_AUTOSTART
q() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1], timeout=10).execute(sys.argv[2]).fetchone()[0])" "$STRATUS_HOME/stratus.db" "$1"; }
s0=$(date +%s.%N)
"$STRATUS" controller start >/dev/null
while [ "$(q "select count(*) from jobs where state not in (4,5,6)")" != 0 ]; do sleep 0.2; done
s1=$(date +%s.%N)
s_bad=$(q "select count(*) from jobs where state <> 4")
s_att=$(q "select count(*) from attempts")
s_span=$(q "select max(launched_at) - min(launched_at) from attempts")
idle_wait
s_single=$(python3 - "$STRATUS" "$TMP/job.yaml" "$SINGLE" <<'PY'
import subprocess, sys, time
total = 0.0
for _ in range(int(sys.argv[3])):
    t0 = time.time()
    subprocess.run([sys.argv[1], "launch", sys.argv[2]], check=True, stdout=subprocess.DEVNULL)
    total += time.time() - t0
print(f"{total / int(sys.argv[3]):.3f}")
PY
)

python3 - "$N" "$d_submit" "$d_make" "$d_bad" "$d_single" "$t0" "$t1" "$s0" "$s1" "$s_bad" \
  "$s_att" "$s_span" "$s_single" <<'PY'
import sys
n = int(sys.argv[1])
d_submit, d_make, d_bad, d_single = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
t0, t1, s0, s1 = map(float, sys.argv[6:10])
s_bad, s_att, s_span, s_single = int(sys.argv[10]), int(sys.argv[11]), float(sys.argv[12]), float(sys.argv[13])
s_make = s1 - s0
print(f"direct   submit {d_submit:7.2f} s = {n / d_submit:7.1f} jobs/s   makespan {d_make:7.2f} s = {n / d_make:5.2f} jobs/s done   failed {d_bad}")
print(f"stratus  launch --detach {t1 - t0:7.2f} s = {n / (t1 - t0):5.1f} jobs/s into the store")
print(f"stratus  controller: {s_att} launches in {s_span:.2f} s = {s_att / max(s_span, 1e-9):5.2f} jobs/s   makespan {s_make:7.2f} s = {n / s_make:5.2f} jobs/s done   failed {s_bad}")
print(f"added per job under load: {(s_make - d_make) / n * 1000:7.1f} ms  ((stratus - direct makespan) / {n})")
print(f"unloaded, one job at a time: direct {d_single:.3f} s, stratus launch {s_single:.3f} s: +{s_single - d_single:.3f} s per job")
PY
