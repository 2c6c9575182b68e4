#!/usr/bin/env bash
# slurm-down.sh - stop what scripts/slurm-up.sh started, by PID only: in each
# cluster directory the slurmrestd, slurmctld and slurmd daemons, then every
# job process they left (slurmstepd and its children), then the private
# munged.  SIGTERM first, SIGKILL after a short wait: a slurmd whose
# controller is gone ignores SIGTERM for minutes (../shared/notes/slurm-local.md).
#
#   slurm-down.sh [--purge]          everything under $SLURM_DIR (default
#                                    /tmp/stratus-slurm); --purge then deletes it
#   slurm-down.sh --cluster DIR      one cluster directory only (slurm-up.sh
#                                    uses it to restart a broken cluster)
set -uo pipefail

SLURM_DIR=${SLURM_DIR:-/tmp/stratus-slurm}
purge=0 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) purge=1; shift ;;
    --cluster) only=$2; shift 2 ;;
    *) echo "usage: slurm-down.sh [--purge] | --cluster DIR" >&2; exit 2 ;;
  esac
done

# stop_pids GRACE PID...: SIGTERM, wait up to GRACE seconds, then SIGKILL.
stop_pids() {
  local grace=$1 p left i
  shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null
  for i in $(seq 1 $((grace * 10))); do
    left=()
    for p in "$@"; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
    [ ${#left[@]} -eq 0 ] && return 0
    sleep 0.1
  done
  kill -KILL "${left[@]}" 2>/dev/null
  true
}

pid_of() { [ -s "$1" ] && cat "$1"; }

# Processes that belong to cluster DIR although no pid file names them: job
# step daemons (slurmstepd) keep sockets open in DIR/spool, and every job
# process inherits SLURM_CONF=DIR/slurm.conf in its environment.
strays() {
  local d=$1 p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    if ls -l "/proc/$p/fd" 2>/dev/null | grep -qF -- "$d/spool/" ||
       grep -qzxF -- "SLURM_CONF=$d/slurm.conf" "/proc/$p/environ" 2>/dev/null; then
      echo "$p"
    fi
  done
}

stop_cluster() {
  local d=${1%/} f pids=()
  [ -f "$d/slurm.conf" ] || return 0
  stop_pids 2 $(pid_of "$d/run/slurmrestd.pid")
  stop_pids 5 $(pid_of "$d/run/slurmctld.pid")
  for f in "$d"/run/slurmd-*.pid; do
    [ -e "$f" ] && pids+=("$(cat "$f")")
  done
  stop_pids 1 "${pids[@]}"
  # Twice: a step daemon killed first may leave children behind briefly.
  stop_pids 1 $(strays "$d")
  stop_pids 1 $(strays "$d")
  rm -f "$d"/run/*.pid
  echo "slurm-down: stopped $(basename "$d")"
}

if [ -n "$only" ]; then
  stop_cluster "$only"
  exit 0
fi
[ -d "$SLURM_DIR" ] || exit 0
for d in "$SLURM_DIR"/*/; do
  stop_cluster "$d"
done
if [ -s "$SLURM_DIR/munge/munged.pid" ]; then
  stop_pids 2 "$(cat "$SLURM_DIR/munge/munged.pid")"
  rm -f "$SLURM_DIR/munge/munged.pid"
fi
[ "$purge" -eq 1 ] && rm -rf "$SLURM_DIR"
true
