#!/usr/bin/env bash
# slurm-up.sh - two real Slurm 22.05 clusters on this machine, for Stratus'
# tests, benchmarks and demos: `azure-eastus` and `oci-ashburn`, 4 nodes x 8
# fake GPUs each, on 127.0.0.1 only.  Idempotent: clusters already up are
# left running.
#
#   SLURM_DIR=/tmp/stratus-slurm   everything lives here (state, logs, pids,
#                                  tokens) and nowhere else
#   SLURM_PORT_BASE=16800          ports used: BASE .. BASE+39
#   SLURM_JOB_USER=root            the user the tokens (and so the jobs) run as
#   SLURM_PENDING_TIMEOUT=30s      written into the clusters file, as is
#   SLURM_POLL_INTERVAL=1s         (see docs/slurm.md)
#
# Exit status: 0 up; 3 the packages cannot be installed (tests skip then);
# 1 anything else.
# Writes $SLURM_DIR/clusters.yaml, the clusters file for STRATUS_DRIVER=slurm
# (docs/slurm.md); prints its path last.  scripts/slurm-down.sh stops it all.
#
# Layout of $SLURM_DIR:
#   munge/               a private munged (socket, key, pid, log): two
#                        directories never share one, so stopping one set of
#                        clusters cannot break another
#   <cluster>/           slurm.conf, gres.conf, jwt.key, token, nvidia0..7
#                        (the fake GPUs: symlinks to /dev/null), state/,
#                        spool/<node>/, log/, run/ (pid files)
#   clusters.yaml
#
# How it is run (facts in ../shared/notes/slurm-local.md): one slurmctld and
# four `slurmd -N <node>` per cluster (multiple-slurmd build), daemonized
# with pid files; one slurmrestd per cluster with JWT, as the unprivileged
# user stratus-rest (it refuses to run as root), loading only the job API.
set -euo pipefail

SLURM_DIR=${SLURM_DIR:-/tmp/stratus-slurm}
BASE=${SLURM_PORT_BASE:-16800}
JOB_USER=${SLURM_JOB_USER:-root}
REST_USER=stratus-rest
HOST=$(hostname -s)
PKGS=(munge slurmctld slurmd slurm-client slurmrestd slurm-wlm-jwt-plugin)
# name cloud region zone instance_type node-prefix
CLUSTERS=(
  "azure-eastus azure eastus - Standard_ND96isr_H100_v5 az"
  "oci-ashburn oci us-ashburn-1 US-ASHBURN-AD-1 BM.GPU.H100.8 oc"
)
NODES=4
GPUS=8

die() { echo "slurm-up: $*" >&2; exit 1; }
cannot_install() { echo "slurm-up: $*" >&2; exit 3; }
log() { echo "slurm-up: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it starts slurmd and munged)"
case "$SLURM_DIR" in /*) ;; *) die "SLURM_DIR must be an absolute path" ;; esac

install_packages() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || cannot_install "no apt-get to install ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # One install for everything; update the package lists only when needed.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 &&
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    cannot_install "apt-get cannot install ${missing[*]}"
}

# The emulator build replaces slurmd/slurmctld through alternatives and
# cannot run here (see the notes): refuse rather than start broken daemons.
check_not_emulator() {
  if readlink -f /usr/sbin/slurmd | grep -q emulator; then
    die "/usr/sbin/slurmd is the slurm-wlm-emulator build; run: apt-get remove slurm-wlm-emulator"
  fi
}

ensure_rest_user() {
  id -u "$REST_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$REST_USER"
}

# alive PIDFILE: the process named there runs.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_munge() {
  local m=$SLURM_DIR/munge
  alive "$m/munged.pid" && return 0
  mkdir -p "$m"
  [ -s "$m/munge.key" ] || mungekey -c -k "$m/munge.key" >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none
  chown -R munge:munge "$m"
  chmod 0755 "$m"
  chmod 0600 "$m/munge.key"
  # --force: munged distrusts sockets below a world-writable /tmp; this
  # directory is ours and 0755.
  setpriv --reuid=munge --regid=munge --init-groups \
    munged --force --socket="$m/munge.socket" --key-file="$m/munge.key" \
    --pid-file="$m/munged.pid" --log-file="$m/munged.log" --seed-file="$m/munged.seed"
  for _ in $(seq 1 50); do [ -S "$m/munge.socket" ] && return 0; sleep 0.1; done
  die "munged did not start; see $m/munged.log"
}

# write_conf DIR NAME INDEX PREFIX
write_conf() {
  local d=$1 name=$2 i=$3 pre=$4 b=$((BASE + $3 * 20)) g
  cat >"$d/slurm.conf" <<EOF
# Written by scripts/slurm-up.sh: a test cluster of Stratus on 127.0.0.1.
ClusterName=$name
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$b
SlurmdPort=$((b + 10))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=cred_expire=5,socket=$SLURM_DIR/munge/munge.socket
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$d/jwt.key
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd-%n.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd-%n.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SlurmdParameters=config_overrides
ReturnToService=1
SlurmdTimeout=10
KillWait=5
GresTypes=gpu
MinJobAge=600
MaxJobCount=20000
FirstJobId=$(((i + 1) * 100000))
NodeName=${pre}[1-$NODES] NodeHostname=$HOST NodeAddr=127.0.0.1 Port=[$((b + 11))-$((b + 10 + NODES))] CPUs=16 RealMemory=64000 Gres=gpu:$GPUS State=UNKNOWN
PartitionName=gpu Nodes=${pre}[1-$NODES] Default=YES MaxTime=INFINITE State=UP
EOF
  {
    echo "AutoDetect=off"
    echo "NodeName=${pre}[1-$NODES] Name=gpu File=$d/nvidia[0-$((GPUS - 1))]"
  } >"$d/gres.conf"
  for g in $(seq 0 $((GPUS - 1))); do ln -sfn /dev/null "$d/nvidia$g"; done
}

# ping URL TOKEN: slurmrestd answers and slurmctld is up behind it.
rest_ping() {
  curl -sf --max-time 2 -H "X-SLURM-USER-NAME: $JOB_USER" -H "X-SLURM-USER-TOKEN: $2" \
    "$1/slurm/v0.0.38/ping" 2>/dev/null | grep -q '"ping": *"UP"'
}

cluster_up() {
  local d=$1 n
  alive "$d/run/slurmctld.pid" && alive "$d/run/slurmrestd.pid" || return 1
  for n in $(seq 1 $NODES); do alive "$d/run/slurmd-$2$n.pid" || return 1; done
  [ -s "$d/token" ] && rest_ping "$3" "$(cat "$d/token")"
}

# start_cluster NAME INDEX PREFIX
start_cluster() {
  local name=$1 i=$2 pre=$3 d=$SLURM_DIR/$1 b=$((BASE + $2 * 20)) n url tok
  url=http://127.0.0.1:$((b + 1))
  if cluster_up "$d" "$pre" "$url"; then
    log "$name already up"
    return 0
  fi
  [ -d "$d" ] && "$(dirname "$0")/slurm-down.sh" --cluster "$d" >/dev/null 2>&1 || true
  rm -rf "$d"
  mkdir -p "$d/state" "$d/log" "$d/run"
  for n in $(seq 1 $NODES); do mkdir -p "$d/spool/$pre$n"; done
  chmod 0755 "$SLURM_DIR" "$d"
  head -c 32 /dev/urandom >"$d/jwt.key"
  chmod 0600 "$d/jwt.key"
  write_conf "$d" "$name" "$i" "$pre"
  export SLURM_CONF=$d/slurm.conf
  slurmctld -f "$d/slurm.conf"
  for n in $(seq 1 $NODES); do slurmd -f "$d/slurm.conf" -N "$pre$n"; done
  # slurmrestd stays in the foreground; setpriv execs it, so $! is its pid.
  # The log takes stderr; stdout says nothing.
  SLURM_JWT=daemon setpriv --reuid="$REST_USER" --regid="$REST_USER" --init-groups \
    slurmrestd -f "$d/slurm.conf" -a rest_auth/jwt -s openapi/v0.0.38,openapi/v0.0.37 \
    "127.0.0.1:$((b + 1))" </dev/null >"$d/log/slurmrestd.log" 2>&1 &
  echo $! >"$d/run/slurmrestd.pid"
  for _ in $(seq 1 100); do
    tok=$(scontrol token username="$JOB_USER" lifespan=31536000 2>/dev/null | sed -n 's/^SLURM_JWT=//p') &&
      [ -n "$tok" ] && break
    sleep 0.1
  done
  [ -n "${tok:-}" ] || die "$name: slurmctld did not start; see $d/log/slurmctld.log"
  (umask 077 && printf '%s\n' "$tok" >"$d/token")
  unset SLURM_CONF
  wait_ready "$name" "$d" "$url" "$tok" "$pre"
}

# Wait until slurmrestd answers and every node is idle.
wait_ready() {
  local name=$1 d=$2 url=$3 tok=$4 pre=$5 idle
  for _ in $(seq 1 300); do
    if rest_ping "$url" "$tok"; then
      idle=$(SLURM_CONF=$d/slurm.conf sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l)
      [ "$idle" -ge "$NODES" ] && { log "$name up: $NODES nodes idle, slurmrestd at $url"; return 0; }
    fi
    sleep 0.1
  done
  die "$name: not ready after 30 s; see $d/log/"
}

write_clusters_file() {
  local f=$SLURM_DIR/clusters.yaml line name cloud region zone itype pre i=0
  {
    echo "# Stratus clusters file, written by scripts/slurm-up.sh (docs/slurm.md)."
    echo "poll_interval: ${SLURM_POLL_INTERVAL:-1s}"
    echo "pending_timeout: ${SLURM_PENDING_TIMEOUT:-30s}"
    echo "clusters:"
    for line in "${CLUSTERS[@]}"; do
      read -r name cloud region zone itype pre <<<"$line"
      [ "$zone" = - ] && zone=""
      cat <<EOF
  - name: $name
    cloud: $cloud
    region: $region
    zone: "$zone"
    instance_type: $itype
    partition: gpu
    url: http://127.0.0.1:$((BASE + i * 20 + 1))
    user: $JOB_USER
    token_file: $SLURM_DIR/$name/token
EOF
      i=$((i + 1))
    done
  } >"$f.tmp"
  mv "$f.tmp" "$f"
  echo "$f"
}

install_packages
check_not_emulator
ensure_rest_user
mkdir -p "$SLURM_DIR"
chmod 0755 "$SLURM_DIR"
start_munge
i=0
for line in "${CLUSTERS[@]}"; do
  read -r name _ _ _ _ pre <<<"$line"
  start_cluster "$name" "$i" "$pre"
  i=$((i + 1))
done
write_clusters_file
