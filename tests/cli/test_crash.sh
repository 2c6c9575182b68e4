#!/usr/bin/env bash
# Crash safety: 200 small jobs with preemptions injected, the controller
# killed with SIGKILL at random moments and restarted each time.  Afterwards
# every job has ended exactly once, no attempt was launched twice, nothing
# was lost, and the costs add up.
. "$(dirname "$0")/lib.sh"
use_home
JOBS=${CRASH_JOBS:-200}
LEDGER="$TMP/launches"          # every node start appends "attempt rank" here
: >"$LEDGER"
mkdir -p "$TMP/specs"
RANDOM=7                        # reproducible kill times and victims
KILLS="$TMP/kills"              # how many kills so far, for the jobs to read
echo 0 >"$KILLS"
MIN_KILLS=10

for i in $(seq 1 "$JOBS"); do
  nodes=$(( (i % 3 == 0) ? 2 : 1 ))
  # Job i finishes only after i/JOBS of the required kills happened, so the
  # kills land while jobs are live however fast or slow the machine is.  It
  # polls with the shell's own read, twice a second: 200 jobs polling with
  # cat every 0.1 s forked 4,000 processes a second and starved every test
  # running beside this one (under ctest -j8 on 2 cores).
  need=$(( (i * MIN_KILLS + JOBS - 1) / JOBS ))
  cat >"$TMP/specs/j$i.yaml" <<YAML
name: j$i
resources:
  accelerators: {H100: 8, A100-80GB: 8, A10: 4}
num_nodes: $nodes
run: |
  echo "\$STRATUS_ATTEMPT_ID \$STRATUS_NODE_RANK" >>$LEDGER
  while read -r k <$KILLS; [ "\$k" -lt $need ]; do read -t 0.5 _ <>$TMP/.tick || :; done
  sleep $((RANDOM % 2)).$((RANDOM % 9 + 1))
stratus:
  priority: $((i % 4))
  recovery: {max_restarts: 50}
YAML
done

# Submit them all in one go (the first launch starts the server; the jobs
# wait for the kills before they end, so none ends before the kills begin).
for i in $(seq 1 "$JOBS"); do
  "$STRATUS" launch "$TMP/specs/j$i.yaml" --detach >/dev/null 2>"$TMP/err" || fail "submit j$i: $(cat "$TMP/err")"
done
[ "$(sql "select count(*) from jobs")" = "$JOBS" ] || fail "not all jobs submitted"

active() { sql "select count(*) from jobs where state not in (4,5,6)"; }
kills=0 preempts=0
"$STRATUS" controller start >/dev/null || fail "controller did not start"
deadline=$((SECONDS + ${CRASH_TIMEOUT:-240}))
while [ "$(active)" != 0 ]; do
  [ $SECONDS -lt $deadline ] || { ps -eo pid,ppid,stat,args | grep "[s]tratus controller" >&2; fail "jobs still active after ${CRASH_TIMEOUT:-240} s: $(sql "select id, state, reason from jobs where state not in (4,5,6) limit 5")"; }
  sleep "0.$((RANDOM % 4 + 2))"
  # Inject a preemption into a random running job now and then.
  if [ $((RANDOM % 3)) = 0 ]; then
    victim=$(sql "select id from jobs where state = 2 order by random() limit 1")
    if [ -n "$victim" ]; then "$STRATUS" local preempt --job "$victim" >/dev/null 2>&1 && preempts=$((preempts + 1)); fi
  fi
  # Kill the controller at a random moment, then start a new one.
  if [ $((RANDOM % 4)) != 0 ] && [ -f "$STRATUS_HOME/controller.pid" ]; then
    kill -9 "$(cat "$STRATUS_HOME/controller.pid")" 2>/dev/null && kills=$((kills + 1))
    echo "$kills" >"$KILLS.tmp" && mv "$KILLS.tmp" "$KILLS"
    sleep "0.0$((RANDOM % 9))"
  fi
  "$STRATUS" controller start >/dev/null || fail "controller did not restart"
done
echo "# $kills controller kills, $preempts preemptions injected"
[ "$kills" -ge "$MIN_KILLS" ] || fail "the test must kill the controller at least $MIN_KILLS times (did $kills)"

# Every job ended, exactly once, and succeeded (nothing lost).
[ "$(sql "select count(*) from jobs where state = 4")" = "$JOBS" ] ||
  fail "all jobs must succeed: $(sql "select state, count(*) from jobs group by state")"
dup_end=$(sql "select job_id, count(*) from events where to_state in (4,5,6) group by job_id having count(*) <> 1")
[ -z "$dup_end" ] || fail "jobs that ended more than once: $dup_end"
ok "every one of $JOBS jobs ended exactly once, all SUCCEEDED ($kills kills, $preempts preemptions)"

# No attempt launched twice: each (attempt, rank) started at most once.
dups=$(sort "$LEDGER" | uniq -d)
[ -z "$dups" ] || fail "node processes started twice for: $dups"
# ... and every successful attempt's nodes all started.
n_exited=$(sql "select coalesce(sum(nodes), 0) from attempts where end_reason = 1")
started_ok=$(python3 - "$LEDGER" "$STRATUS_HOME/stratus.db" <<'PY'
import sqlite3, sys
starts = {tuple(l.split()) for l in open(sys.argv[1]) if l.strip()}
db = sqlite3.connect(sys.argv[2])
rows = db.execute("select id, nodes from attempts where end_reason = 1").fetchall()
print(sum(1 for a, n in rows for r in range(n) if (str(a), str(r)) in starts))
PY
)
[ "$started_ok" = "$n_exited" ] || fail "nodes of finished attempts: $n_exited, started: $started_ok"
ok "no attempt was launched twice ($(wc -l <"$LEDGER") node starts)"

# Costs add up: attempts = jobs = the report.
a=$(sql "select printf('%.6f', sum(cost)) from attempts")
j=$(sql "select printf('%.6f', sum(cost)) from jobs")
[ "$a" = "$j" ] || fail "attempt costs $a != job costs $j"
run 0 "$STRATUS" cost --by cloud
r=$(awk '$1 == "total" { gsub(/[$,]/, "", $2); print $2 }' <<<"$OUT")
python3 -c "import sys; sys.exit(abs(float('$r') - float('$a')) > 0.01)" || fail "report total $r != $a"
ok "costs add up: attempts \$$a = jobs = report"
echo "$checks checks passed"
