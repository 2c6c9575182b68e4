#!/usr/bin/env bash
# A toy multi-node trainer that behaves like a real one where Stratus cares:
# every node steps in lockstep, rank 0 writes a checkpoint every --ckpt-every
# steps to $STRATUS_CHECKPOINT_DIR and resumes from the latest one, and on a
# preemption notice (SIGTERM) it checkpoints at once and exits.
#
#   trainer.sh [--steps N] [--ckpt-every K] [--step-time SECONDS]
#
# Files in $STRATUS_CHECKPOINT_DIR (carried to the next attempt by Stratus):
#   step     the last checkpointed step (written atomically)
#   ledger   one line per step computed, across attempts: a step computed
#            twice was work lost to a preemption
set -u
steps=1000 every=50 step_time=0.01
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --ckpt-every) every=$2; shift 2 ;;
    --step-time) step_time=$2; shift 2 ;;
    *) echo "trainer: unknown option $1" >&2; exit 2 ;;
  esac
done
rank=${STRATUS_NODE_RANK:-0} nodes=${STRATUS_NUM_NODES:-1}
dir=${STRATUS_CHECKPOINT_DIR:-./checkpoints}
mkdir -p "$dir"

step=0
[ -f "$dir/step" ] && step=$(cat "$dir/step")
start=$step

checkpoint() {
  [ "$rank" = 0 ] || return 0
  echo "$step" >"$dir/step.tmp" && mv "$dir/step.tmp" "$dir/step"
}
on_term() {
  echo "rank $rank: preemption notice at step $step: checkpointing and exiting"
  checkpoint
  exit 143
}
trap on_term TERM

echo "rank $rank/$nodes on ${STRATUS_CLOUD:-?}/${STRATUS_REGION:-?} (spot=${STRATUS_SPOT:-?}, attempt ${STRATUS_ATTEMPT:-?}): steps $start..$steps"
while [ "$step" -lt "$steps" ]; do
  sleep "$step_time" &
  wait $!                         # a bare sleep would delay the TERM trap
  # the ledger's line before the step counts: a notice handled between
  # the two (bash runs the trap after the command it came in) then
  # checkpoints a step the ledger has, not one it lacks
  [ "$rank" = 0 ] && echo "$((step + 1))" >>"$dir/ledger"
  step=$((step + 1))
  if [ $((step % every)) -eq 0 ]; then
    checkpoint
    [ "$rank" = 0 ] && echo "step $step/$steps (checkpoint)"
  fi
done
checkpoint
echo "rank $rank: done at step $step (resumed from $start)"
