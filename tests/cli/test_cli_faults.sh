#!/usr/bin/env bash
# Black-box tests of the command line under faults a user meets: a dead
# controller (state must be current, or the command must say no server runs),
# a stale pid file, a lock that cannot be taken, fault injections that name
# nothing, an unknown driver, a missing workdir, control bytes in a catalog,
# and a home that others can read.  Real binary, an isolated $STRATUS_HOME.
. "$(dirname "$0")/lib.sh"
use_home

gated() { # gated NAME: a 1-node job that runs until $TMP/NAME.go exists
  cat >"$TMP/$1.yaml" <<YAML
name: $1
resources:
  accelerators: H100:8
  use_spot: false
run: |
  while [ ! -f "$TMP/$1.go" ]; do read -t 0.1 _ <>$TMP/.tick || :; done
  echo "$1 done"
YAML
}

# node_ended ID: the job's (only) node process has written how it ended
# (wherever under the home the local driver keeps its attempts).
node_ended() {
  local a
  a=$(sql "select id from attempts where job_id=$1 order by n desc limit 1")
  [ -n "$a" ] && [ -n "$(find "$STRATUS_HOME" -path "*/att-$a/node-0/exit" 2>/dev/null)" ]
}

# --- item 9: a home that others can read is made owner-only, with a warning ---
chmod 0755 "$STRATUS_HOME"
run 0 "$STRATUS" queue
has "$ERR" "changed it to owner-only (0700)"
[ "$(stat -c %a "$STRATUS_HOME")" = 700 ] || fail "home must be 0700, is $(stat -c %a "$STRATUS_HOME")"
run 0 "$STRATUS" queue
hasnt "$ERR" "owner-only"
ok "a home open to others is changed to 0700 with a warning (once)"

foreign="$TMP/foreign"
mkdir -p "$foreign"; chmod 0700 "$foreign"
if chown 65534 "$foreign" 2>/dev/null && [ "$(id -u)" != 65534 ]; then
  run 2 env STRATUS_HOME="$foreign" "$STRATUS" queue
  has "$ERR" "belongs to user 65534"; has "$ERR" "refusing"
  run 2 timeout 60 env STRATUS_HOME="$foreign" "$STRATUS" controller run
  has "$ERR" "refusing"
  [ ! -e "$foreign/controller.pid" ] && [ ! -e "$foreign/stratus.db" ] ||
    fail "nothing may be created in a foreign home: $(ls "$foreign")"
  ok "a home of another user is refused, nothing created in it"
else
  echo "# skipped: cannot chown a directory to another user here"
fi

# --- item 7: a job ends while no controller runs ---
gated g1
id=$(launch_detached "$TMP/g1.yaml")
wait_state "$id" RUNNING
run 0 "$STRATUS" controller stop
has "$OUT" "stopped"
touch "$TMP/g1.go"
wait_for node_ended "$id"
run 0 "$STRATUS" status "$id" --json
state=$(json 'j["state"]')
if [ "$state" != SUCCEEDED ]; then
  has "$ERR" "may be stale"
  echo "# the restarted controller was slow: status warned instead"
fi
ok "status after the controller stopped: the finished job shows $state, not a silent RUNNING"
for f in controller.pid controller.log controller.lock controller.ready; do
  [ -e "$STRATUS_HOME/$f" ] || fail "$f missing after the controller restarted"
  [ "$(stat -c %a "$STRATUS_HOME/$f")" = 600 ] || fail "$f is $(stat -c %a "$STRATUS_HOME/$f"), not 600"
done
ok "controller.pid, .log, .lock and .ready are owner-only (0600)"

# The same with autostart off: every reader says plainly that no server runs
# (the state is the server's: without one there is none to show, stale or not).
gated g2
id2=$(launch_detached "$TMP/g2.yaml")
wait_state "$id2" RUNNING
run 0 "$STRATUS" controller stop
touch "$TMP/g2.go"
wait_for node_ended "$id2"
export STRATUS_NO_AUTOSTART=1
for cmd in "status" "status $id2" "queue" "events $id2" "logs $id2" "cost" "cancel $id2"; do
  # shellcheck disable=SC2086
  run 2 "$STRATUS" $cmd
  has "$ERR" "no server runs for $STRATUS_HOME"; has "$ERR" "start one with \`stratus server\`"
  [ -z "$OUT" ] || fail "'$cmd' printed a state without a server: $OUT"
done
[ -z "$(sql "select 1 from jobs where id=$id2 and state=4")" ] || fail "nothing may have run the controller"
ok "with STRATUS_NO_AUTOSTART, status, queue, events, logs, cost and cancel say that no server runs"
unset STRATUS_NO_AUTOSTART
run 0 "$STRATUS" queue
hasnt "$ERR" "may be stale"
wait_state "$id2" SUCCEEDED
run 0 "$STRATUS" status
hasnt "$ERR" "controller" # no job active: nothing to say
ok "the next reader restarts the controller; with no job active, nothing is said"

# --- item 8: controller stop never signals a stranger that reused the pid ---
run 0 "$STRATUS" controller stop
sleep 300 &
stranger=$!
echo "$stranger" >"$STRATUS_HOME/controller.pid"
run 0 "$STRATUS" controller stop
has "$OUT" "no controller is running"
kill -0 "$stranger" 2>/dev/null || fail "controller stop killed process $stranger, which is not the controller"
kill "$stranger"; wait "$stranger" 2>/dev/null
ok "controller stop leaves alone a process whose pid is in a stale pid file"

# --- item 8: controller run fails when the lock cannot be taken ---
rm -f "$STRATUS_HOME/controller.lock"; mkdir "$STRATUS_HOME/controller.lock"
run 2 timeout 60 "$STRATUS" controller run
has "$ERR" "cannot create the server lock"; has "$ERR" "controller.lock"
hasnt "$ERR" "already runs"
rmdir "$STRATUS_HOME/controller.lock"
mkdir "$STRATUS_HOME/controller.pid.tmp"
run 2 timeout 60 "$STRATUS" controller run
has "$ERR" "cannot write"; has "$ERR" "controller.pid"
rmdir "$STRATUS_HOME/controller.pid.tmp"
ok "controller run fails (exit 2, the reason) when it cannot take its lock or write its pid"

# --- item 8: fault injection that names nothing files nothing ---
before=$(sql "select count(*) from requests")
run 1 "$STRATUS" local preempt --job 99
has "$ERR" "no job 99"; hasnt "$OUT" "requested"
run 2 "$STRATUS" local preempt --job "$id"
has "$ERR" "already ended (SUCCEEDED)"; hasnt "$OUT" "requested"
run 2 "$STRATUS" local stockout --location azure/nowhere
has "$ERR" "azure/nowhere"; has "$ERR" "nothing filed"
run 2 "$STRATUS" local api-error --location azure/nowhere --for 1m
has "$ERR" "azure/nowhere"
run 2 "$STRATUS" local preempt --location nocloud/x
has "$ERR" "nocloud/x"
[ "$(sql "select count(*) from requests")" = "$before" ] || fail "a refused injection must file no request"
run 0 "$STRATUS" local stockout --location oci/us-ashburn-1 --for 1s
has "$OUT" "requested"
ok "local preempt/stockout/api-error fail with the reason for an unknown or ended job or location"

# --- item 8: an unknown driver is an error ---
run 0 "$STRATUS" controller stop
gated g3
run 2 env STRATUS_DRIVER=locl "$STRATUS" launch "$TMP/g3.yaml" --detach
has "$ERR" "unknown driver 'locl'"; has "$ERR" "local, sim, slurm"
run 2 timeout 60 env STRATUS_DRIVER=locl "$STRATUS" controller run
has "$ERR" "unknown driver 'locl'"
ok "an unknown STRATUS_DRIVER is an error that lists the drivers"

# --- item 8: a workdir that does not exist fails the launch ---
cat >"$TMP/wd.yaml" <<YAML
name: wd
resources:
  accelerators: H100:8
workdir: no-such-dir
run: ls
YAML
n=$(sql "select count(*) from jobs")
run 2 "$STRATUS" launch "$TMP/wd.yaml" --detach
has "$ERR" "$TMP/wd.yaml:4:"; has "$ERR" "$TMP/no-such-dir"
[ "$(sql "select count(*) from jobs")" = "$n" ] || fail "a job with a missing workdir must not be submitted"
touch "$TMP/afile"; sed -i 's/no-such-dir/afile/' "$TMP/wd.yaml"
run 2 "$STRATUS" launch "$TMP/wd.yaml" --detach
has "$ERR" "not a directory"
ok "a missing workdir fails the launch with file:line and the path"

# --- a workdir that is big is worth a warning (it is copied to every node) ---
mkdir -p "$TMP/big/sub"
truncate -s 200M "$TMP/big/a.bin"   # sparse: no disk is used
truncate -s 100M "$TMP/big/sub/b.bin"
cat >"$TMP/wdbig.yaml" <<YAML
name: wdbig
resources:
  accelerators: NOPE:1
workdir: big
run: ls
YAML
run 2 "$STRATUS" launch "$TMP/wdbig.yaml" --detach # no offer has NOPE: refused after the check
has "$ERR" "$TMP/wdbig.yaml:4: warning: workdir $TMP/big holds more than 256 MB (2 files counted)"
has "$ERR" "copied to every node"
has "$ERR" "no offer in the catalog has accelerator 'NOPE'"
rm "$TMP/big/sub/b.bin"
run 2 "$STRATUS" launch "$TMP/wdbig.yaml" --detach
hasnt "$ERR" "warning: workdir"
ok "a workdir over 256 MB: a warning with file:line, before anything is sent"

# --- plan says which of its places are full or blocked now ---
cat >"$TMP/pn.yaml" <<YAML
name: pn
resources:
  accelerators: H100:8
run: "true"
YAML
plan_api() { # the reply of POST /v1/plan for pn.yaml, top 3
  python3 -c 'import json, sys; print(json.dumps({"spec": open(sys.argv[1]).read(), "file": sys.argv[1], "top": 3}))' \
    "$TMP/pn.yaml" | curl -s -m 60 --unix-socket "$STRATUS_HOME/stratus.sock" -X POST \
    -H 'Content-Type: application/json' --data-binary @- http://localhost/v1/plan
}
cand() { # cand N: candidate N's location (cloud/region/zone) in the plan
  plan_api | python3 -c '
import json, sys
c = json.load(sys.stdin)["plan"]["candidates"][int(sys.argv[1]) - 1]
print("/".join(x for x in (c["cloud"], c["region"], c["zone"]) if x))' "$1"
}
run 0 "$STRATUS" status # the server runs
first=$(cand 1)
second=$(cand 2)
[ -n "$first" ] && [ -n "$second" ] || fail "no plan from the server"
run 0 "$STRATUS" local stockout --location "$first" --for 1h
run 0 "$STRATUS" local api-error --location "$second" --for 1h
id=$(launch_detached "$TMP/pn.yaml")
wait_state "$id" SUCCEEDED 120
# the launch refused at the second place blocked it for block_cooldown
# (30 s): made long here, so that a slow machine still sees it
[ "$(sql "select count(*) from blocks")" -ge 1 ] || fail "no block after a refused launch"
sql "update blocks set until = until + 3600" >/dev/null
run 0 "$STRATUS" plan "$TMP/pn.yaml" --top 3
has "$ERR" "now, on this server's clouds:"
has "$ERR" "  1  full: 0 free, 1 needed"
has "$ERR" "  2  blocked for "
has "$ERR" "  3  has room: the first in order that is not blocked, over quota or full"
hasnt "$OUT" "now, on this server's clouds" # stdout: the plan as an offline one prints it
plan_api | python3 -c '
import json, sys
n = json.load(sys.stdin)["now_candidates"]
assert len(n) == 3, n
assert n[0]["free_nodes"] == 0, n[0]
assert n[1]["blocked_for_s"] > 3000 and n[1]["blocked_reason"], n[1]
assert n[2]["free_nodes"] >= 1 and n[2]["blocked_for_s"] == 0, n[2]
assert all(c["over_quota"] == "" for c in n), n  # no teams here
' || fail "POST /v1/plan: now_candidates: $(plan_api)"
ok "plan: a place out of stock is full, one that refused a launch is blocked, and the first with room is named"

# --- item 8: catalog errors never echo raw control bytes ---
bad="$TMP/badcat"
cp -r "$SOURCE_DIR/tests/data/catalog-mini" "$bad"
python3 - "$bad/offers.csv" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
cols = lines[1].split(",")
cols[0] = "aw\x1b[31ms"          # the cloud: an escape sequence
lines[1] = ",".join(cols)
open(p, "w").write("\n".join(lines))
PY
run 2 "$STRATUS" offers --catalog "$bad"
has "$ERR" "aw?[31ms"
grep -q $'\x1b' "$TMP/err" && fail "raw ESC reached the terminal: $(od -c "$TMP/err" | head -5)"
python3 - "$bad/offers.csv" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
lines[0] = lines[0] + ",x\x07\x1b]0;pwned\x07"   # an unknown column with a title-setting sequence
open(p, "w").write("\n".join(lines))
PY
run 2 "$STRATUS" offers --catalog "$bad"
grep -q $'[\x07\x1b]' "$TMP/err" && fail "raw control bytes reached the terminal: $(od -c "$TMP/err" | head -5)"
ok "catalog CSV errors show control bytes as '?'"


# --- `launch` (following its job) when the controller dies under it ---
gated follow
"$STRATUS" launch "$TMP/follow.yaml" >"$TMP/follow.out" 2>"$TMP/follow.err" &
launcher=$!
wait_for grep -q "PROVISIONING -> RUNNING" "$TMP/follow.out"
kill -9 "$(cat "$STRATUS_HOME/controller.pid")"
touch "$TMP/follow.go"
for _ in $(seq 1 600); do kill -0 "$launcher" 2>/dev/null || break; nap 0.1; done
kill -0 "$launcher" 2>/dev/null && { kill "$launcher"; fail "launch still follows a job whose controller died: $(cat "$TMP/follow.out" "$TMP/follow.err")"; }
wait "$launcher" || fail "launch must end 0 once its job succeeds: stderr: $(cat "$TMP/follow.err"); stdout: $(cat "$TMP/follow.out")"
has "$(cat "$TMP/follow.out")" "RUNNING -> SUCCEEDED"
has "$(cat "$TMP/follow.err")" "no controller was running; started one"
ok "launch restarts a controller that died while it follows the job, and sees it succeed"

# --- a server that dies after a command found it holding the lock ---
# A server killed a moment ago still holds its lock and its pid until the
# kernel has closed its files: a command that looks then finds it "running",
# waits for it, and must start one itself once it is gone (not fail with
# "stopped before it answered").  The dying server is played by a process
# that holds the lock, names itself in the pid file and listens on the
# socket without answering: it closes the command's first look (before the
# command checks the lock) and exits at its second (the command is waiting).
run 0 "$STRATUS" controller stop
cat >"$TMP/holder.py" <<'PY'
import fcntl, os, socket, sys
home = sys.argv[1]
fd = os.open(home + "/controller.lock", os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
with open(home + "/controller.pid.tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(home + "/controller.pid.tmp", home + "/controller.pid")
sock = home + "/stratus.sock"
if os.path.exists(sock):
    os.unlink(sock)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock)
s.listen(8)
s.settimeout(60)  # a bound, should no command come
open(home + "/holder.ready", "w").close()
for _ in range(2):
    c, _ = s.accept()
    c.close()
os._exit(0)  # releases the lock; the socket file stays, as after a kill
PY
rm -f "$STRATUS_HOME/holder.ready"
python3 "$TMP/holder.py" "$STRATUS_HOME" &
holder=$!
wait_for test -e "$STRATUS_HOME/holder.ready"
run 0 "$STRATUS" queue
has "$ERR" "no controller was running; started one"
wait "$holder" || fail "the stand-in for a dying server did not see the command's two looks"
[ "$(cat "$STRATUS_HOME/controller.pid")" != "$holder" ] || fail "the pid file still names the dead server"
ok "a command that waited for a server that then died starts one itself"

# --- status of a running job: its attempt shows as running, with its time and
# cost so far (not 0 s and $0.00) ---
gated shown
id=$(launch_detached "$TMP/shown.yaml")
wait_state "$id" RUNNING
wait_for bash -c "'$STRATUS' status $id | grep -q 'on-demand  running  *[1-9][0-9]*s'"
touch "$TMP/shown.go"
wait_state "$id" SUCCEEDED
ok "status shows a running attempt as running, with its time so far"

# --- absurd fault durations are refused, not taken as a permanent block ---
run 2 "$STRATUS" local stockout --location gcp/us-central1 --for 99999999999999999999h
has "$ERR" "at most 366d"
run 2 "$STRATUS" local api-error --location gcp/us-central1 --for 400d
ok "local stockout/api-error refuse a duration over a year"

# --- a server whose binary was rebuilt since it started is named ---
run 0 "$STRATUS" controller stop
mkdir -p "$TMP/bin"
cp "$STRATUS" "$TMP/bin/stratus"
run 0 "$TMP/bin/stratus" queue # starts the server of this binary
hasnt "$ERR" "warning: the server"
cp "$STRATUS" "$TMP/bin/stratus.new"
mv "$TMP/bin/stratus.new" "$TMP/bin/stratus" # as a rebuild replaces it
run 0 "$TMP/bin/stratus" queue
has "$ERR" "stratus: warning: the server for $STRATUS_HOME (pid "
has "$ERR" "runs the build of $TMP/bin/stratus that was there when it started, not this one"
run 0 "$TMP/bin/stratus" controller stop
run 0 "$TMP/bin/stratus" queue # the new build's server now
hasnt "$ERR" "warning: the server"
run 0 "$STRATUS" queue # another binary's command: taken as meant
hasnt "$ERR" "warning: the server"
run 0 "$TMP/bin/stratus" controller stop
ok "a command names a server that runs a since-replaced build of its binary, and not one that runs the current build"

echo "# $checks checks"
