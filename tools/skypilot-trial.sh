#!/usr/bin/env bash
# skypilot-trial.sh DIR [STRATUS] [--offline] - plan every SkyPilot task YAML
# in DIR as a new user would, and say which plan and which do not.
#
# For each *.yaml / *.yml file in DIR (sorted by name) it runs
# `stratus plan FILE` and prints one line:
#
#   PLANS  file  (docs: N)  the top placement (location, instance, mode, $/h)
#   FAILS  file  (docs: N)  the first error line
#
# then "N of M plan".  Multi-document files (SkyPilot pipelines and job groups)
# are given to `stratus plan` as they are: whatever it offers for them is what
# a user gets.  A new user has no policy and no server: the script runs with a
# fresh temporary $STRATUS_HOME, without $STRATUS_POLICY, $STRATUS_API or
# $STRATUS_TOKEN_FILE, so the first command starts the user's own server (as
# `stratus plan` does for anyone), and stops that server at the end.  With
# --offline the files are planned in this process instead (no server).
#
# STRATUS defaults to $STRATUS, else build/stratus beside this script.
# Exit status: 0 when every file plans, 1 when some do not, 2 on a usage error.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "skypilot-trial.sh: $*" >&2; exit 2; }

offline=0
args=()
for a in "$@"; do
  case "$a" in
    -h|--help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    --offline) offline=1 ;;
    *) args+=("$a") ;;
  esac
done
[ "${#args[@]}" -ge 1 ] || die "usage: tools/skypilot-trial.sh DIR [STRATUS] [--offline]"
dir=${args[0]}
stratus=${args[1]:-${STRATUS:-$here/build/stratus}}
[ -d "$dir" ] || die "$dir is not a directory"
[ -x "$stratus" ] || die "$stratus is not an executable (build it, or name it as the second argument)"
stratus=$(cd "$(dirname "$stratus")" && pwd)/$(basename "$stratus")

home=$(mktemp -d "${TMPDIR:-/tmp}/skypilot-trial.XXXXXX")
out=$home/out
err=$home/err
cleanup() {
  if [ "$offline" = 0 ] && [ -e "$home/home/controller.pid" ]; then
    STRATUS_HOME=$home/home STRATUS_NO_AUTOSTART=1 "$stratus" controller stop >/dev/null 2>&1
  fi
  rm -rf "$home"
}
trap cleanup EXIT
mkdir -m 700 "$home/home"
unset STRATUS_POLICY STRATUS_API STRATUS_TOKEN_FILE STRATUS_NO_AUTOSTART
export STRATUS_HOME=$home/home

# The number of YAML documents in a file: '---' lines separate them, and a
# leading '---' opens the first one.
ndocs() {
  awk 'BEGIN { n = 0; body = 0 }
       /^---[ \t]*$/ { if (body) n++; body = 0; next }
       /^[ \t]*(#.*)?$/ { next }
       { body = 1 }
       END { if (body) n++; print n }' "$1"
}

# The first line that says what went wrong: a "stratus: ..." line, else the
# first stderr line that is not a warning, else the first one at all.
first_error() {
  local line
  line=$(grep -m1 '^stratus: ' "$err")
  [ -n "$line" ] || line=$(grep -m1 -v ': warning: ' "$err")
  [ -n "$line" ] || line=$(head -n1 "$err")
  [ -n "$line" ] || line="(exit status $1, no message)"
  printf '%s' "${line#stratus: }"
}

# The top-ranked placement of each plan in the output (rank-1 rows).
top_rows() {
  awk '$1 == "1" && NF >= 4 { printf "%s%s %s %s $%s/node-h", sep, $2, $3, $4, $5; sep = " | " }' "$out"
}

total=0
ok=0
mode=(plan)
[ "$offline" = 1 ] && mode=(plan --offline)
shopt -s nullglob
mapfile -t files < <(printf '%s\n' "$dir"/*.yaml "$dir"/*.yml | LC_ALL=C sort)
for f in "${files[@]}"; do
  [ -n "$f" ] || continue
  total=$((total + 1))
  name=$(basename "$f")
  docs=$(ndocs "$f")
  timeout 120 "$stratus" "${mode[@]}" "$f" >"$out" 2>"$err"
  rc=$?
  if [ "$rc" = 0 ]; then
    ok=$((ok + 1))
    printf 'PLANS  %-40s (docs: %s)  %s\n' "$name" "$docs" "$(top_rows)"
  else
    printf 'FAILS  %-40s (docs: %s)  %s\n' "$name" "$docs" "$(first_error "$rc")"
  fi
done
[ "$total" -gt 0 ] || die "no *.yaml or *.yml file in $dir"
echo "$ok of $total plan"
[ "$ok" = "$total" ]
