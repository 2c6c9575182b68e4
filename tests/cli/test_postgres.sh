#!/usr/bin/env bash
# The PostgreSQL store (docs/postgres.md) against a real PostgreSQL: a private
# cluster started with scripts/postgres-local.sh in a temporary directory
# (as an unprivileged user, on 127.0.0.1 only) and stopped by its PID at
# exit.  The store's contract tests (unit/test_store with STRATUS_TEST_PG),
# then a server whose store is PostgreSQL running a job on the local clouds
# to SUCCEEDED, keeping it across a restart; a bad connection string is
# refused with a clear message and without the password.
. "$(dirname "$0")/lib.sh"
use_home

# --- the cluster: started, and a second start is a no-op ---
use_postgres
[[ "$URL" =~ ^postgresql://stratus@127\.0\.0\.1:[0-9]+/stratus$ ]] || fail "connection string: '$URL'"
PGPID=$(head -n1 "$PGDIR/data/postmaster.pid")
[ "$(ps -o user= -p "$PGPID")" != root ] || fail "PostgreSQL runs as root"
run 0 "$PGLOCAL" start "$PGDIR" --no-fsync
[ "$OUT" = "$URL" ] || fail "a second start must print the same string: '$OUT'"
[ "$(head -n1 "$PGDIR/data/postmaster.pid")" = "$PGPID" ] || fail "a second start restarted it"
ok "postgres-local.sh: a cluster as $(ps -o user= -p "$PGPID") on 127.0.0.1, started once"

# --- the store's contract tests on PostgreSQL ---
TEST_STORE="$(dirname "$STRATUS")/test_store"
if [ -x "$TEST_STORE" ]; then
  STRATUS_TEST_PG="$URL" "$TEST_STORE" >"$TMP/unit.log" 2>&1 ||
    fail "unit/test_store on PostgreSQL: $(grep -v '^\[       OK\|^\[ RUN' "$TMP/unit.log" | tail -n 40)"
  grep -q "47 test(s) run" "$TMP/unit.log" || fail "the PostgreSQL group did not run: $(tail -n 20 "$TMP/unit.log")"
  ok "unit/test_store: the contract tests and test_backends_agree pass on PostgreSQL"
else
  echo "# $TEST_STORE not built (no cmocka): contract tests not run"
fi

# --- a server on PostgreSQL runs a job to SUCCEEDED ---
pgsql "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1 ||
  fail "cannot reset the database"
cat >"$STRATUS_HOME/server.yaml" <<YAML
listen:
  - unix: stratus.sock
  - tcp: 127.0.0.1:0
store: $URL
drivers:
  - name: local
    driver: local
    locations: ["*"]
YAML
run 0 "$STRATUS" server --config "$STRATUS_HOME/server.yaml" --check-config
has "$OUT" "store   $URL"
LOG="$TMP/server.log"
: >"$LOG"
start_server
cat >"$TMP/job.yaml" <<'YAML'
name: hello-pg
resources:
  accelerators: H100:1
run: echo hello from postgres
YAML
id=$(launch_detached "$TMP/job.yaml")
[ "$id" = 1 ] || fail "the first job of a new PostgreSQL store is job 1, not '$id'"
wait_state "$id" SUCCEEDED 120
run 0 "$STRATUS" logs "$id"
has "$OUT" "hello from postgres"
[ "$(pgsql "SELECT state FROM jobs WHERE id = $id")" = 4 ] ||
  fail "the job's row in PostgreSQL is not SUCCEEDED (4): $(pgsql "SELECT state FROM jobs")"
[ "$(pgsql "SELECT count(*) FROM events WHERE job_id = $id")" -gt 2 ] || fail "no events in PostgreSQL"
[ ! -e "$STRATUS_HOME/stratus.db" ] || fail "a stratus.db was made beside the PostgreSQL store"
sid=$(pgsql "SELECT value FROM meta WHERE key = 'store_id'")
[[ "$sid" =~ ^[0-9a-f]{32}$ ]] || fail "store id in PostgreSQL: '$sid'"
[ -d "$STRATUS_HOME/state/$sid" ] || fail "the store's state directory is not named by its id $sid"
ok "a server with store: postgresql://... runs a job to SUCCEEDED; the rows are in PostgreSQL"

# --- a restarted server finds everything in PostgreSQL ---
run 0 "$STRATUS" controller stop
for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; nap 0.1; done
kill -0 "$SERVER_PID" 2>/dev/null && fail "the server did not stop"
start_server
run 0 "$STRATUS" status "$id" --json
has "$OUT" '"SUCCEEDED"'
id2=$(launch_detached "$TMP/job.yaml")
[ "$id2" = 2 ] || fail "the next job is job 2, not '$id2'"
wait_state "$id2" SUCCEEDED 120
ok "a restarted server keeps the PostgreSQL store's jobs and numbers on"

# --- PostgreSQL restarted under a running server: it connects again ---
"$PGLOCAL" stop "$PGDIR" || fail "postgres-local.sh stop failed"
URL2=$("$PGLOCAL" start "$PGDIR" --no-fsync 2>"$TMP/pg.err") || fail "restart: $(cat "$TMP/pg.err")"
[ "$URL2" = "$URL" ] || fail "a restarted cluster keeps its port: '$URL2' after '$URL'"
PGPID=$(head -n1 "$PGDIR/data/postmaster.pid")
id3=$(launch_detached "$TMP/job.yaml")
[ "$id3" = 3 ] || fail "after PostgreSQL restarted, the next job is job 3, not '$id3'"
wait_state "$id3" SUCCEEDED 120
kill -0 "$SERVER_PID" || fail "the server died when PostgreSQL restarted: $(tail -n 20 "$LOG")"
ok "PostgreSQL restarted under a running server: it reconnects and runs the next job"
run 0 "$STRATUS" controller stop
for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; nap 0.1; done

# --- a server that cannot reach its PostgreSQL: a clear error, non-zero ---
sed "s|^store: .*|store: postgresql://ada:s3cret@127.0.0.1:1/stratus|" \
  "$STRATUS_HOME/server.yaml" >"$TMP/bad.yaml"
run 0 "$STRATUS" server --config "$TMP/bad.yaml" --check-config
has "$OUT" "store   postgresql://ada@127.0.0.1:1/stratus"
hasnt "$OUT" "s3cret"
"$STRATUS" server --config "$TMP/bad.yaml" >"$TMP/bad.out" 2>&1 && fail "a server started without its store"
BAD=$(cat "$TMP/bad.out")
has "$BAD" "postgresql://ada@127.0.0.1:1/stratus: cannot connect to PostgreSQL"
has "$BAD" "scripts/postgres-local.sh"
hasnt "$BAD" "s3cret"
ok "an unreachable PostgreSQL: the error names the connection string without its password"

# --- stopped by its PID ---
"$PGLOCAL" stop "$PGDIR" || fail "postgres-local.sh stop failed"
kill -0 "$PGPID" 2>/dev/null && fail "PostgreSQL (pid $PGPID) still runs after stop"
run 0 "$PGLOCAL" stop "$PGDIR"
ok "postgres-local.sh stop: stopped by its PID; a second stop is a no-op"
