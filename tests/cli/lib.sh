# lib.sh - shared by the black-box tests: run the real binary, check what a
# user sees.  Each check prints one line; the script exits non-zero on the
# first failure, with what was expected and what came.
set -uo pipefail
: "${STRATUS:?STRATUS must name the stratus binary}"
: "${SOURCE_DIR:?SOURCE_DIR must name the repository}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
checks=0

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

# run EXPECTED_STATUS CMD...: runs CMD, keeps stdout in $OUT, stderr in $ERR.
run() {
  local want=$1; shift
  "$@" >"$TMP/out" 2>"$TMP/err"; local got=$?
  OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $ERR; stdout: ${OUT:0:2000}"
}
has() { grep -qF -- "$2" <<<"$1" || fail "expected '$2' in: ${1:0:3000}"; }
hasnt() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect '$2' in: ${1:0:3000}"; }
# json EXPR: evaluate a Python expression over the JSON in $OUT (as j).
json() { python3 -c "import json,sys; j=json.load(sys.stdin); r=($1); print(r)" <<<"$OUT"; }
