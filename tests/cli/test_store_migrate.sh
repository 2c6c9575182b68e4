#!/usr/bin/env bash
# `stratus store migrate` (docs/postgres.md): a home's SQLite store, made by
# a real server on the local clouds (two jobs run to SUCCEEDED, a token, a
# secret, the policy), copied into a fresh PostgreSQL (a private cluster from
# scripts/postgres-local.sh, stopped by its PID at exit).  A server on the
# PostgreSQL store then shows the same jobs, states, events, token, secret
# and policy, keeps the same store id (the same state directory), and gives
# a new job the next id and runs it.  Refused, with a clear message, a
# non-zero exit and nothing written: a running server on the source, a
# missing or damaged source, an unreachable PostgreSQL (no password shown),
# a target that is not empty.  Skipped when PostgreSQL is not installed.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$PGBIN/postgres" ]; then
  echo "# skipped: PostgreSQL is not installed (apt-get install postgresql)"
  exit 0
fi
use_home
use_postgres
TABLES="jobs job_texts attempts nodes events checkpoints requests blocks tokens settings services secrets data_replicas"
# counts QUERY_FN: "table=rows ..." of every table, through sql or pgsql
counts() { local t; for t in $TABLES; do printf '%s=%s ' "$t" "$($1 "SELECT count(*) FROM $t")"; done; }
stop_server() {
  run 0 "$STRATUS" controller stop
  for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; nap 0.1; done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "the server did not stop"
}

# --- a SQLite store with real content ---
LOG="$TMP/server.log"
: >"$LOG"
local_server_conf
start_server
cat >"$TMP/job.yaml" <<'YAML'
name: before-move
resources:
  accelerators: H100:1
run: echo moved along
YAML
cat >"$TMP/policy.yaml" <<'YAML'
version: 1
rules:
  - name: anything
    description: every job anywhere
YAML
id1=$(launch_detached "$TMP/job.yaml")
id2=$(launch_detached "$TMP/job.yaml")
wait_state "$id1" SUCCEEDED 120
wait_state "$id2" SUCCEEDED 120
run 0 "$STRATUS" token create --name ci-bot --role viewer
run 0 "$STRATUS" secret set hf --team research <<<"hf_not_a_real_value"
run 0 "$STRATUS" policy set "$TMP/policy.yaml"
run 0 "$STRATUS" events "$id1" --json
EV1=$OUT
run 0 "$STRATUS" events "$id2" --json
EV2=$OUT
SID=$(sql "SELECT value FROM meta WHERE key = 'store_id'")
[[ "$SID" =~ ^[0-9a-f]{32}$ ]] || fail "store id: '$SID'"
[ "$(sql "SELECT count(*) FROM events")" -gt 4 ] || fail "too few events to copy"
ok "a SQLite store with two finished jobs, a token, a secret and the policy"

# --- refused while a server runs on it ---
run 2 "$STRATUS" store migrate --to "$URL"
has "$ERR" "stop the server first (stratus controller stop)"
stop_server
BEFORE=$(counts sql)
ok "refused while the server runs; stopped"

# --- bad sources, an unreachable PostgreSQL: refused, nothing written ---
run 2 "$STRATUS" store migrate --from "$TMP/nope.db" --to "$URL"
has "$ERR" "$TMP/nope.db: No such file or directory"
head -c 8192 /dev/urandom >"$TMP/damaged.db"
run 2 "$STRATUS" store migrate --from "$TMP/damaged.db" --to "$URL"
has "$ERR" "$TMP/damaged.db"
has "$ERR" "not a stratus store, or damaged"
run 2 "$STRATUS" store migrate --to "postgresql://ada:s3cret@127.0.0.1:1/stratus"
has "$ERR" "postgresql://ada@127.0.0.1:1/stratus: cannot connect to PostgreSQL"
hasnt "$ERR$OUT" "s3cret"
run 2 "$STRATUS" store migrate --to "$STRATUS_HOME/other.db"
has "$ERR" "--to takes a PostgreSQL connection string"
[ "$(pgsql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] ||
  fail "a refused migration wrote to PostgreSQL"
ok "a missing or damaged source, an unreachable PostgreSQL, a non-PostgreSQL target: clear errors"

# --- a dry run counts and writes nothing ---
run 0 "$STRATUS" store migrate --to "$URL" --dry-run
has "$OUT" "would copy store $SID"
has "$OUT" "dry run"
[ "$(pgsql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] ||
  fail "a dry run wrote to PostgreSQL"
ok "--dry-run checks and counts, writes nothing"

# --- the migration ---
run 0 "$STRATUS" store migrate --to "$URL"
has "$OUT" "copied store $SID"
has "$OUT" "store: $URL"
grep -Eq "^  jobs +2$" <<<"$OUT" || fail "no row count of jobs: $OUT"
AFTER=$(counts pgsql)
[ "$AFTER" = "$BEFORE" ] || fail "rows differ: SQLite $BEFORE, PostgreSQL $AFTER"
[ "$(pgsql "SELECT value FROM meta WHERE key = 'store_id'")" = "$SID" ] || fail "store id not copied"
[ "$(pgsql "SELECT string_agg(id::text, ',' ORDER BY id) FROM events")" = \
  "$(sql "SELECT group_concat(id, ',') FROM (SELECT id FROM events ORDER BY id)")" ] ||
  fail "event ids differ"
[ "$(pgsql "SELECT count(*) FROM jobs WHERE cur_attempt IS NOT NULL")" = \
  "$(sql "SELECT count(*) FROM jobs WHERE cur_attempt IS NOT NULL")" ] || fail "jobs.cur_attempt not copied"
ok "every table copied with the same rows and ids, and the store id: $BEFORE"

# --- a server on the PostgreSQL store: the same store ---
mv "$STRATUS_HOME/stratus.db" "$TMP/stratus.db.moved"
rm -f "$STRATUS_HOME/stratus.db-wal" "$STRATUS_HOME/stratus.db-shm"
echo "store: $URL" >>"$STRATUS_HOME/server.yaml"
start_server
for id in "$id1" "$id2"; do
  [ "$(job_field "$id" 'j["state"]')" = SUCCEEDED ] || fail "job $id is not SUCCEEDED after the move"
done
run 0 "$STRATUS" events "$id1" --json
[ "$OUT" = "$EV1" ] || fail "job $id1's events changed: $EV1 / $OUT"
run 0 "$STRATUS" events "$id2" --json
[ "$OUT" = "$EV2" ] || fail "job $id2's events changed"
run 0 "$STRATUS" token list
has "$OUT" "ci-bot"
run 0 "$STRATUS" secret ls --team research
has "$OUT" "hf"
run 0 "$STRATUS" policy show
has "$OUT" "every job anywhere"
[ ! -e "$STRATUS_HOME/stratus.db" ] || fail "the server made a new SQLite store"
[ "$(ls "$STRATUS_HOME/state")" = "$SID" ] || fail "state directories: $(ls "$STRATUS_HOME/state")"
id3=$(launch_detached "$TMP/job.yaml")
[ "$id3" -gt "$id2" ] || fail "the new job's id $id3 is not after $id2"
wait_state "$id3" SUCCEEDED 120
run 0 "$STRATUS" logs "$id3"
has "$OUT" "moved along"
ok "a server on PostgreSQL: the same jobs, events, token, secret, policy and state dir; job $id3 runs"
stop_server

# --- a second migration into the now non-empty database: refused ---
run 2 "$STRATUS" store migrate --from "$TMP/stratus.db.moved" --to "$URL"
has "$ERR" "the database is not empty: it holds 3 jobs"
has "$ERR" "nothing was changed"
[ "$(pgsql "SELECT count(*) FROM jobs")" = 3 ] || fail "the refused migration changed the target"
ok "a non-empty target is refused and left as it was"
