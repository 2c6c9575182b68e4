#!/usr/bin/env bash
# bench_store_pg.sh - committed job transitions per second on PostgreSQL
# against SQLite on this machine: the same workload (bench_store.c: update a
# job's row and append its event, 1 and 100 transitions per commit), both
# numbers and their ratio.  PostgreSQL is a private cluster started with
# scripts/postgres-local.sh in a temporary directory with its durable
# settings (fsync on, synchronous_commit on: each commit is flushed to disk;
# SQLite's WAL with synchronous=NORMAL does not fsync at commit, see
# sqlite.c), and --no-fsync for PostgreSQL without flushes (what SQLite's
# setting compares to for process crashes); it is stopped by PID at exit.
#
# usage: bench/bench_store_pg.sh [BUILD_DIR] [TRANSITIONS]   (defaults: build, 5000)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
N=${2:-5000}
BENCH=$BUILD/bench_store
[ -x "$BENCH" ] || { echo "bench_store_pg.sh: build $BENCH first (cmake --build $BUILD)" >&2; exit 1; }
PGDIR=$(mktemp -d /tmp/stratus-pgbench.XXXXXX)
chmod 0755 "$PGDIR"
trap '"$SRC/scripts/postgres-local.sh" stop "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$PGDIR"' EXIT

for mode in durable no-fsync; do
  "$SRC/scripts/postgres-local.sh" stop "$PGDIR" >/dev/null
  rm -rf "$PGDIR/data"
  if [ $mode = durable ]; then
    URL=$("$SRC/scripts/postgres-local.sh" start "$PGDIR")
  else
    URL=$("$SRC/scripts/postgres-local.sh" start "$PGDIR" --no-fsync)
  fi
  echo "== PostgreSQL $mode ($("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/postgres" --version))"
  "$BENCH" --transitions "$N" --pg "$URL"
  echo
done
