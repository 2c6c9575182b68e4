#!/bin/bash
# postgres-local.sh - a private PostgreSQL cluster in one directory, for the
# tests, the benches and trying Stratus on PostgreSQL (docs/postgres.md).
#
#   scripts/postgres-local.sh start DIR [--no-fsync]
#       make (first time: initdb) and start a cluster in DIR, listening on
#       127.0.0.1 only, on a free port, and on a unix socket in DIR/sock;
#       create the database "stratus"; print its connection string
#       postgresql://stratus@127.0.0.1:PORT/stratus on stdout.  Already
#       running: print the string again and do nothing else.  Started again
#       after a stop, it keeps its port (when free) and its data.
#   scripts/postgres-local.sh stop DIR
#       stop it by the PID in DIR/data/postmaster.pid (fast shutdown, then
#       immediate, then SIGKILL); not running: nothing to do.
#   scripts/postgres-local.sh url DIR     print the connection string
#
# The cluster runs as an unprivileged user, never as root: run as root, the
# script makes the system user stratus-pg (no home, no shell) if it is
# missing and starts PostgreSQL as that user with setpriv, as slurm-up.sh
# does for slurmrestd; run as another user, PostgreSQL runs as that user.
# DIR must be a directory that user can reach (the script makes DIR and
# gives it to the user; its parent directories must let it through).
#
# Authentication is "trust" on 127.0.0.1 and the socket: anyone on this
# machine may connect as "stratus".  That is for a test cluster on a
# machine you own, not for production (docs/postgres.md says what to set).
#
# --no-fsync (tests only): fsync=off, full_page_writes=off and
# synchronous_commit=off.  A commit then survives the death of a process
# but not of the machine; the cluster is thrown away at the end of the test
# anyway.  The default keeps PostgreSQL's durable settings (what the bench
# measures).
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
PG_USER=${STRATUS_PG_USER:-stratus-pg}
DB=stratus
ROLE=stratus

die() { echo "postgres-local.sh: $*" >&2; exit 1; }
usage() { die "usage: $0 start DIR [--no-fsync] | stop DIR | url DIR"; }

[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
shift 2
NOFSYNC=0
for a in "$@"; do
  case $a in
    --no-fsync) NOFSYNC=1 ;;
    *) usage ;;
  esac
done
[ -x "$PGBIN/postgres" ] || die "PostgreSQL's server is not installed (no $PGBIN/postgres): apt-get install postgresql"
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
DATA=$DIR/data

# as_pg CMD...: run CMD as the cluster's user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups --reset-env -- "$@"
  else
    "$@"
  fi
}

# The postmaster's pid, if it is running.
running_pid() {
  local pid
  [ -f "$DATA/postmaster.pid" ] || return 1
  pid=$(head -n1 "$DATA/postmaster.pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

url() {
  [ -f "$DIR/port" ] || die "$DIR has no cluster (run: $0 start $DIR)"
  echo "postgresql://$ROLE@127.0.0.1:$(cat "$DIR/port")/$DB"
}

ensure_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id "$PG_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
}

# A port nobody listens on now (a race with another process is caught by
# the start, which is then tried again on another port).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  die "no free port found on 127.0.0.1"
}

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  [ "$(id -u)" -eq 0 ] && chown "$PG_USER:" "$DIR"
  as_pg test -w "$DIR" ||
    die "$PG_USER cannot write $DIR: choose a directory whose parents it may pass (e.g. under /tmp, mode 0755)"
  # --no-sync: initdb's own fsyncs, for speed; a cluster that was never
  # started holds nothing yet.
  as_pg "$PGBIN/initdb" -D "$DATA" -U "$ROLE" --auth=trust -E UTF8 --locale=C \
    --no-sync >"$DIR/initdb.log" 2>&1 || die "initdb failed: $(tail -n5 "$DIR/initdb.log")"
  mkdir -p "$DIR/sock"
  [ "$(id -u)" -eq 0 ] && chown "$PG_USER:" "$DIR/sock"
  chmod 0700 "$DIR/sock"
}

start() {
  local pid port opts tries
  mkdir -p "$DIR"
  if pid=$(running_pid); then
    url
    return 0
  fi
  ensure_user
  init_cluster
  for tries in 1 2 3 4 5; do
    # a restart keeps its port (and so its connection string) when it is free
    port=$(cat "$DIR/port" 2>/dev/null || true)
    if [ "$tries" -gt 1 ] || [ -z "$port" ] || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      port=$(free_port)
    fi
    opts="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$DIR/sock"
    opts="$opts -c max_connections=100 -c shared_buffers=64MB"
    [ "$NOFSYNC" -eq 1 ] &&
      opts="$opts -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    # -w: pg_ctl returns once the server accepts connections (or failed).
    if as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$DIR/postgres.log" -w -t 120 -o "$opts" \
        start >"$DIR/pg_ctl.log" 2>&1; then
      echo "$port" >"$DIR/port"
      break
    fi
    grep -q "could not bind\|could not create listen socket" "$DIR/postgres.log" ||
      die "PostgreSQL did not start: $(tail -n5 "$DIR/postgres.log" 2>/dev/null)"
    [ "$tries" -lt 5 ] || die "PostgreSQL did not start: no port could be bound"
  done
  "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U "$ROLE" -d postgres -v ON_ERROR_STOP=1 -qAt \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 ||
    "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U "$ROLE" "$DB" ||
    die "cannot create database $DB"
  url
}

stop() {
  local pid
  pid=$(running_pid) || return 0
  kill -INT "$pid" 2>/dev/null || return 0 # fast shutdown
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    [ "$i" -eq 100 ] && kill -QUIT "$pid" 2>/dev/null # immediate shutdown
    [ "$i" -eq 200 ] && kill -KILL "$pid" 2>/dev/null
    sleep 0.1
  done
  die "PostgreSQL (pid $pid) did not stop"
}

case $CMD in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) usage ;;
esac
