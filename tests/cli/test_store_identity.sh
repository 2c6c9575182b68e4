#!/usr/bin/env bash
# Store identity: a home whose database was deleted (stratus.db*) but whose
# on-disk artefacts were kept must run new jobs from scratch, not adopt the
# old jobs' driver state or checkpoints; a zero-length database and a foreign
# SQLite database are refused, never initialised over; the database and its
# -wal/-shm files are owner-only (it holds `envs:` values).
. "$(dirname "$0")/lib.sh"
use_home
TRAINER="$SOURCE_DIR/examples/trainer.sh"

cat >"$TMP/train.yaml" <<YAML
name: train
resources:
  accelerators: H100:8
  use_spot: false
run: |
  $TRAINER --steps 30 --ckpt-every 10 --step-time 0.01
stratus:
  checkpoint: {interval: 1s, restore: 1s}
YAML

ckpt_dir() { echo "$(state_dir)/checkpoints/job-$1/att-$2"; } # ckpt_dir JOB ATTEMPT

# --- an old world: job 1 ran to its end and left a checkpoint at step 30 ---
id=$(launch_detached "$TMP/train.yaml")
[ "$id" = 1 ] || fail "the first job of a new home is job 1, not $id"
wait_state 1 SUCCEEDED 60
old_sid=$(sql "select value from meta where key = 'store_id'" 2>/dev/null)
old_ckpt=$(ckpt_dir 1 1 2>/dev/null)
run 0 "$STRATUS" controller stop

# --- reset the store, keep everything else: new jobs start from scratch ---
rm -f "$STRATUS_HOME"/stratus.db*
id=$(launch_detached "$TMP/train.yaml")
[ "$id" = 1 ] || fail "a new database numbers jobs from 1 again, got $id"
wait_state 1 SUCCEEDED 60
run 0 "$STRATUS" logs 1
has "$OUT" "steps 0..30"; hasnt "$OUT" "steps 30..30"
has "$OUT" "done at step 30 (resumed from 0)"
run 0 "$STRATUS" events 1
hasnt "$OUT" "checkpoint: carried"
ok "a reset store: the new job 1 runs its full work, not the old job 1's"

[[ "$old_sid" =~ ^[0-9a-f]{32}$ ]] || fail "the store id must be 32 hex digits: '$old_sid'"
new_sid=$(sql "select value from meta where key = 'store_id'")
[[ "$new_sid" =~ ^[0-9a-f]{32}$ ]] && [ "$new_sid" != "$old_sid" ] ||
  fail "a new database must get a new identity: '$new_sid' after '$old_sid'"
[ "$(cat "$old_ckpt/step")" = 30 ] || fail "the old store's checkpoint must be left alone"
[ "$(wc -l <"$(ckpt_dir 1 1)/ledger")" = 30 ] || fail "the new job 1 must compute all 30 steps itself"
ok "each store has an identity and its own state directory"

# A second new job too: the reset store goes on working.
id=$(launch_detached "$TMP/train.yaml")
wait_state "$id" SUCCEEDED 60
[ "$(wc -l <"$(ckpt_dir "$id" 1)/ledger")" = 30 ] || fail "job $id must compute all 30 steps"
ok "a reset store: later jobs run normally"

# --- the database deleted while a controller runs on it: that controller
# stops (its store is gone), and the new store's jobs run ---
pid=$(cat "$STRATUS_HOME/controller.pid")
kill -0 "$pid" || fail "a controller must run here"
rm -f "$STRATUS_HOME"/stratus.db*
id=$(launch_detached "$TMP/train.yaml")
[ "$id" = 1 ] || fail "a new database numbers jobs from 1 again, got $id"
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; nap 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the controller of a deleted store must stop"
wait_state 1 SUCCEEDED 60
ok "a database deleted under a running controller: it stops, the new store's job runs"

# --- permissions: the database and its WAL files (the controller has them
# open) are owner-only, and so is the store's directory ---
mode() { stat -c %a "$1"; }
for f in "$STRATUS_HOME"/stratus.db "$STRATUS_HOME"/stratus.db-wal "$STRATUS_HOME"/stratus.db-shm; do
  [ "$(mode "$f")" = 600 ] || fail "$f is mode $(mode "$f"), expected 600"
done
[ "$(mode "$(state_dir)")" = 700 ] || fail "$(state_dir) is mode $(mode "$(state_dir)")"
run 0 "$STRATUS" controller stop

# --- a store from before identities keeps the layout of the stratus that
# made it (its running jobs' state is there): made here by undoing migrations
# 17 (attempts.list_hour), 16 (blocks.accelerator), 14 (past data replicas),
# 13 (attempts.backfill_spot),
# 12 (data replicas), 10 (secrets),
# 9 (the jobs' group columns), 7 (services,
# the jobs' replica columns), 6 (tokens, settings),
# 5 (attempts.egress) and 4 (meta) ---
sql "alter table attempts drop column list_hour"
sql "alter table blocks drop column accelerator"
sql "drop table data_replicas_past"
sql "alter table attempts drop column backfill_spot"
sql "drop table data_replicas"
sql "drop table secrets"
for c in group_id stage group_mode group_primary group_name; do sql "alter table jobs drop column $c"; done
sql "drop table services"; sql "drop index jobs_service"
for c in service_id svc_version port svc_mode; do sql "alter table jobs drop column $c"; done
sql "drop table tokens"; sql "drop table settings"
sql "alter table attempts drop column egress"; sql "drop table meta"; sql "pragma user_version = 3"
id=$(launch_detached "$TMP/train.yaml")
wait_state "$id" SUCCEEDED 60
[ "$(sql "select value from meta where key = 'layout'")" = legacy ] || fail "a migrated store is marked legacy"
[ "$(cat "$STRATUS_HOME/checkpoints/job-$id/att-1/step")" = 30 ] ||
  fail "a legacy store keeps its checkpoints in \$STRATUS_HOME/checkpoints"
[ -d "$STRATUS_HOME/local" ] || fail "a legacy store keeps its driver state in \$STRATUS_HOME/local"
run 0 "$STRATUS" logs "$id"
has "$OUT" "done at step 30 (resumed from 0)"
ok "a store migrated from before identities keeps its artefacts where they were"
run 0 "$STRATUS" controller stop

# --- a database readable by others is narrowed to 0600, with one warning ---
chmod 644 "$STRATUS_HOME/stratus.db"
run 0 "$STRATUS" queue
has "$ERR" "stratus.db"; has "$ERR" "600"
[ "$(mode "$STRATUS_HOME/stratus.db")" = 600 ] || fail "a database readable by others must be set to 600"
run 0 "$STRATUS" queue
hasnt "$ERR" "600"
ok "the database is created 0600 and a wider one is fixed, with one warning"
run 0 "$STRATUS" controller stop # the homes below are refused: no server starts there

# --- files that are not a store of ours are refused, and left as they were ---
export STRATUS_HOME="$TMP/empty"
mkdir -p "$STRATUS_HOME"
: >"$STRATUS_HOME/stratus.db"
run 2 "$STRATUS" queue
has "$ERR" "$STRATUS_HOME/stratus.db"; has "$ERR" "empty"
[ ! -s "$STRATUS_HOME/stratus.db" ] || fail "a zero-length database must not be initialised"
ok "a zero-length database is refused and left empty"

export STRATUS_HOME="$TMP/foreign"
mkdir -p "$STRATUS_HOME"
python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute("create table photos (id integer primary key, path text)"); d.commit()' \
  "$STRATUS_HOME/stratus.db"
chmod 644 "$STRATUS_HOME/stratus.db"
run 2 "$STRATUS" queue
has "$ERR" "$STRATUS_HOME/stratus.db: not a stratus store"; has "$ERR" "move it away"
[ "$(sql "select group_concat(name) from sqlite_master where type = 'table'")" = photos ] ||
  fail "a foreign database must be left as it was: $(sql "select name from sqlite_master")"
[ "$(stat -c %a "$STRATUS_HOME/stratus.db")" = 644 ] || fail "a refused file keeps its mode"
ok "a foreign SQLite database is refused and left as it was"

export STRATUS_HOME="$TMP/stale-wal"
mkdir -p "$STRATUS_HOME"
echo "not a real wal" >"$STRATUS_HOME/stratus.db-wal"
run 2 "$STRATUS" queue
has "$ERR" "stratus.db-wal"
[ ! -e "$STRATUS_HOME/stratus.db" ] || fail "no database may be created beside a stale WAL"
ok "a write-ahead log left without its database is refused"
