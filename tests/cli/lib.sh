# lib.sh - shared by the black-box tests: run the real binary, check what a
# user sees.  Each check prints one line; the script exits non-zero on the
# first failure, with what was expected and what came.
set -uo pipefail
: "${STRATUS:?STRATUS must name the stratus binary}"
: "${SOURCE_DIR:?SOURCE_DIR must name the repository}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
checks=0

# The tests start python thousands of times.  The python3 first on PATH may be
# a version manager's shim (pyenv's is a shell script: about 0.3 s of CPU a
# start, eight times the interpreter's own), so they run Debian's interpreter,
# or else the one the shim stands for; so do the servers and jobs they start.
mkdir "$TMP/.python"
if [ -x /usr/bin/python3 ]; then
  ln -s /usr/bin/python3 "$TMP/.python/python3"
else
  ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$TMP/.python/python3"
fi
PATH="$TMP/.python:$PATH"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

# nap SECONDS: sleep without starting a process (a timed read on a FIFO that
# nobody writes): the polling loops below run thousands of times in a suite
# that shares two cores among eight tests.
mkfifo "$TMP/.tick"
nap() { read -r -t "$1" _ <>"$TMP/.tick"; true; }

# poll SECONDS CMD...: run CMD until it succeeds, first after 0.05 s and then
# less often (after a third of a second, twice a second), for SECONDS of wall
# time times $POLL_SLACK (default 4: eight tests share two cores under ctest
# -j8).  Returns 1 if CMD never succeeded.  A look that runs the CLI and
# python costs about 0.15 s of CPU under ASan: a wait that looked ten times
# a second took a core of its own, and made every other test slower.
poll() {
  local limit=$(( $1 * ${POLL_SLACK:-4} )) d=0.05 start=$SECONDS; shift
  while :; do
    "$@" && return 0
    [ $((SECONDS - start)) -lt "$limit" ] || return 1
    nap "$d"
    case $d in 0.05) d=0.1;; 0.1) d=0.2;; *) d=0.5;; esac
  done
}

# run EXPECTED_STATUS CMD...: runs CMD, keeps stdout in $OUT, stderr in $ERR.
run() {
  local want=$1; shift
  "$@" >"$TMP/out" 2>"$TMP/err"; local got=$?
  OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $ERR; stdout: ${OUT:0:2000}"
}
has() { grep -qF -- "$2" <<<"$1" || fail "expected '$2' in: ${1:0:3000}"; }
hasnt() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect '$2' in: ${1:0:3000}"; }
# json EXPR: evaluate a Python expression over the JSON in $OUT (as j).
json() {
  python3 -c "import json,sys; j=json.load(sys.stdin); r=($1); print(r)" <<<"$OUT" ||
    echo "json(): python3 exited $? on ($1)" >&2
}

# --- for tests that run jobs: an isolated home, its controller stopped at exit ---
# use_home [CATALOG_DIR]: a fresh $STRATUS_HOME under $TMP with the fixture
# catalog (without its commitment, so rankings are plain) unless one is given.
use_home() {
  export STRATUS_HOME="$TMP/home"
  mkdir -p -m 0700 "$STRATUS_HOME"
  if [ $# -ge 1 ]; then
    export STRATUS_CATALOG=$1
  else
    cp -r "$SOURCE_DIR/tests/data/catalog-mini" "$TMP/catalog"
    rm -f "$TMP/catalog/commitments.csv"
    export STRATUS_CATALOG="$TMP/catalog"
  fi
  export STRATUS_BACKOFF=0.2 STRATUS_RELAUNCH_OVERHEAD=1
  trap 'stop_home; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
}

# Stop the controller (by PID) and every node process still running.
stop_home() {
  [ -n "${STRATUS_HOME:-}" ] || return 0
  "$STRATUS" controller stop >/dev/null 2>&1 || true
  local p pid q
  # A node's pid file outlives its process, and pids come round again (pid_max
  # is 32768 here): kill only processes of this home - in its node's process
  # group, and running in the home or naming it - never another test's.
  for p in $(find "$STRATUS_HOME" -path "*/local/att-*/pid" 2>/dev/null); do
    pid=$(cat "$p" 2>/dev/null) && [ -n "$pid" ] || continue
    for q in $(pgrep -g "$pid" 2>/dev/null) "$pid"; do
      case "$(readlink "/proc/$q/cwd" 2>/dev/null)" in "$STRATUS_HOME"*) kill -9 "$q" 2>/dev/null; continue;; esac
      tr '\0' ' ' 2>/dev/null <"/proc/$q/cmdline" | grep -qF -- "$STRATUS_HOME" && kill -9 "$q" 2>/dev/null
    done
  done
  # ... and the nodes' cgroups (the local driver's, where cgroup v2 is usable)
  for p in $(cat $(find "$STRATUS_HOME" -path "*/local/att-*/cgroup" 2>/dev/null) /dev/null); do
    [ -d "$p" ] || continue
    echo 1 >"$p/cgroup.kill" 2>/dev/null
    for _ in $(seq 1 20); do rmdir "$p" 2>/dev/null && break; nap 0.1; done
  done
  true
}

# start_server: `stratus server --config $STRATUS_HOME/server.yaml` in the
# background, its output appended to $LOG; wait (bounded) until it says it
# is ready (again, for a restart), then set SERVER_PID and PORT (its TCP
# listener's port, from the log).
# small_workload FILE: a synthetic workload of 300 jobs over two days (the
# same every time), some multi-node, some with deadlines and checkpoints,
# data in azure/eastus.
small_workload() {
  awk 'BEGIN {
    srand(5); print "submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s,checkpoint_s,data_location,data_gb"
    for (i = 0; i < 300; i++) {
      r = rand(); g = r < 0.5 ? 1 : r < 0.7 ? 4 : r < 0.9 ? 8 : 16
      d = int(600 + rand() * 4 * 3600); kind = (g >= 8 && d > 7200) ? "train" : "batch"
      dl = (kind == "batch" && rand() < 0.3) ? int(d * 2) : ""; ck = d > 3600 ? 1800 : ""
      printf "%d,j%d,lab,%s,%s,%d,%d,%s,%s,azure/eastus,%d\n", i * 600, i, kind, (g >= 8 ? "H100" : "A100-80GB"), g, d, dl, ck, 50
    }
  }' >"$1"
}

# local_server_conf [PORT]: the home's server.yaml for a server on the local
# clouds (the socket and a TCP port, ephemeral unless given, every location,
# fast retries).
local_server_conf() {
  cat >"$STRATUS_HOME/server.yaml" <<YAML
listen:
  - unix: stratus.sock
  - tcp: 127.0.0.1:${1:-0}
drivers:
  - name: local
    driver: local
    locations: ["*"]
    timing: {backoff_base: 0.2s, relaunch_overhead: 1s, poll: 1s}
YAML
}

start_server() {
  local before i
  before=$(grep -c "ready for" "$LOG")
  "$STRATUS" server --config "$STRATUS_HOME/server.yaml" >>"$LOG" 2>&1 &
  SERVER_PID=$!
  for i in $(seq 1 600); do
    [ "$(grep -c "ready for" "$LOG")" -gt "$before" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited: $(cat "$LOG")"
    nap 0.05
  done
  [ "$(grep -c "ready for" "$LOG")" -gt "$before" ] || fail "the server is not ready after 30 s: $(cat "$LOG")"
  PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$LOG" | tail -n 1)
  [ -n "$PORT" ] && [ "$PORT" != 0 ] || fail "no TCP port in the log: $(cat "$LOG")"
}

# job_field JOB EXPR: a field of `stratus status JOB --json` (Python expression over j).
job_field() {
  "$STRATUS" status "$1" --json | python3 -c "import json,sys; j=json.load(sys.stdin); print($2)"
}

# wait_state JOB STATE [SECONDS]: wait until the job is in STATE.
# (SECONDS as for poll)
_job_is() {
  _state=$(job_field "$1" 'j["state"]' 2>/dev/null)
  [ "$_state" = "$2" ] && return 0
  case "$_state" in SUCCEEDED|FAILED|CANCELLED) fail "job $1 ended $_state, expected $2; $("$STRATUS" events "$1")";; esac
  return 1
}
wait_state() {
  _state=
  poll "${3:-30}" _job_is "$1" "$2" ||
    fail "job $1 not $2 after ${3:-30}s (x${POLL_SLACK:-4}) (state $_state); $("$STRATUS" events "$1")"
}

# wait_for CMD... : retry a command until it succeeds (30 s, as for poll).
wait_for() {
  poll 30 "$@" || fail "timed out waiting for: $*"
}

# --- services (the serve tests) ---
# status_json EXPR: a Python expression over `serve status $SVC --json` (j);
# SVC is chat unless a test says otherwise.
status_json() {
  "$STRATUS" serve status "${SVC:-chat}" --json |
    python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}
# before_fail: a test may define it to say more when a wait below fails
# (e.g. which of its routers died).
say_more() { ! declare -F before_fail >/dev/null || before_fail; }
# until_status COND SECONDS WHAT: wait for a Python condition over the status (j).
until_status() {
  _status_is() { [ "$(status_json "$1" 2>/dev/null)" = True ]; }
  poll "$2" _status_is "$1" && return 0
  say_more
  fail "$3 not within $2 s: $("$STRATUS" serve status "${SVC:-chat}")"
}
# The counts a test's load client writes to $TMP/load.json (load_client.py,
# or test_serve_routers' own): count EXPR (a Python expression over them, j),
# answered, wait_answered N (at least N more answers than now).
count() { python3 -c "import json; j=json.load(open('$TMP/load.json')); print($1)" 2>/dev/null || echo 0; }
answered() { count "j['ok'] + j['fail']"; }
wait_answered() {
  local goal=$(($(answered) + $1))
  _answered() { [ "$(answered)" -ge "$1" ]; }
  poll 120 _answered "$goal" && return 0
  say_more
  fail "the load client got no answers: $(cat "$TMP/load.json" 2>/dev/null)"
}

# sql QUERY: run a query on the store with Python's sqlite3; rows as lines
# (a change is committed).
sql() {
  python3 - "$STRATUS_HOME/stratus.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
db.commit()
PY
}

# state_dir: the store's own directory (driver state, checkpoints), named by
# the store's identity: $STRATUS_HOME/state/<store id>.
state_dir() {
  local sid
  sid=$(sql "select value from meta where key = 'store_id'") && [ -n "$sid" ] ||
    fail "no store id in $STRATUS_HOME/stratus.db"
  echo "$STRATUS_HOME/state/$sid"
}

# launch_detached FILE [ARGS...]: submit a job, print its id.
launch_detached() {
  "$STRATUS" launch "$@" --detach >"$TMP/launch.out" 2>"$TMP/launch.err" ||
    fail "launch $* failed: $(cat "$TMP/launch.err") $(cat "$TMP/launch.out")"
  sed -n 's/^job \([0-9]*\) submitted$/\1/p' "$TMP/launch.out"
}

# --- for tests on PostgreSQL (docs/postgres.md) ---
# PGBIN: where PostgreSQL's programs are (as scripts/postgres-local.sh finds
# them; PGBIN in the environment overrides); empty when not installed.
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
# use_postgres: a private cluster (scripts/postgres-local.sh, --no-fsync: a
# test-only setting) in a directory of its own that the cluster's user may
# reach ($TMP is root's, 0700), stopped by its PID at exit after the home's
# server.  Sets PGLOCAL, PGDIR and URL (its connection string).
use_postgres() {
  PGLOCAL="$SOURCE_DIR/scripts/postgres-local.sh"
  # A run killed before its trap (a ctest timeout sends SIGKILL) left its
  # cluster running: stop those whose test is gone (never another run's).
  local d
  for d in /tmp/stratus-pg.*; do
    [ -f "$d/owner" ] || continue
    kill -0 "$(cat "$d/owner")" 2>/dev/null && continue
    "$PGLOCAL" stop "$d" >/dev/null 2>&1
    rm -rf "$d"
  done
  PGDIR=$(mktemp -d /tmp/stratus-pg.XXXXXX)
  chmod 0755 "$PGDIR"
  echo $$ >"$PGDIR/owner"
  trap 'stop_home; "$PGLOCAL" stop "$PGDIR" >/dev/null 2>&1; rm -rf "$PGDIR"; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
  URL=$("$PGLOCAL" start "$PGDIR" --no-fsync 2>"$TMP/pg.err") ||
    fail "postgres-local.sh start: $(cat "$TMP/pg.err")"
}
# pgsql QUERY: run a query on $URL with psql; rows as lines, columns split by |.
pgsql() { "$PGBIN/psql" "$URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
