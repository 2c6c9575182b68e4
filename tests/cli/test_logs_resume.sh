#!/usr/bin/env bash
# `stratus logs --follow` through a server that dies mid-stream: the CLI
# waits for a server to answer again (the home's own is started again by
# the CLI), and takes the stream up from the byte it stopped at: every
# line of the job's output arrives once, in order, nothing skipped.  The
# node keeps running while no server does (node supervisors outlive it).
. "$(dirname "$0")/lib.sh"
use_home
GATE=$TMP/gate
cat >"$TMP/talk.yaml" <<YAML
name: talk
resources:
  accelerators: H100:8
  use_spot: false
run: |
  for i in \$(seq 1 30); do
    echo "line-\$i"
    if [ \$i = 10 ]; then
      while [ ! -e "$GATE" ]; do read -t 0.1 _ <>$TMP/.tick || :; done
    fi
  done
YAML
id=$(launch_detached "$TMP/talk.yaml")
[ -n "$id" ] || fail "no job id"
"$STRATUS" logs "$id" --follow >"$TMP/out" 2>"$TMP/err" &
FOLLOWER=$!
wait_for grep -qx "line-10" "$TMP/out"
old=$(cat "$STRATUS_HOME/controller.pid")
kill -9 "$old"
touch "$GATE" # the job goes on while no server runs
for _ in $(seq 1 900); do kill -0 "$FOLLOWER" 2>/dev/null || break; nap 0.1; done
kill -0 "$FOLLOWER" 2>/dev/null && { kill "$FOLLOWER"; fail "logs --follow did not end: $(cat "$TMP/err")"; }
wait "$FOLLOWER" || fail "logs --follow failed: $(cat "$TMP/err")"
new=$(cat "$STRATUS_HOME/controller.pid")
[ "$new" != "$old" ] || fail "a new server must have been started (pid $old)"
expected=$(seq 1 30 | sed 's/^/line-/')
got=$(grep '^line-' "$TMP/out")
[ "$got" = "$expected" ] || fail "every line once, in order; got: $(tr '\n' ' ' <"$TMP/out")"
ok "logs --follow resumes after the server is killed: 30 lines once each, in order"
wait_state "$id" SUCCEEDED 60
ok "the job ran to its end through the restart"
