#!/usr/bin/env bash
# test_help.sh - what a new user tries first: `stratus --help`, `CMD --help`
# on every listed command (usage on stdout, exit 0, nothing run), a
# misspelled command (a suggestion, exit 2) and the global options.
. "$(dirname "$0")/lib.sh"

# --help must never touch a home: point it at one that does not exist.
export STRATUS_HOME="$TMP/home" STRATUS_NO_AUTOSTART=1
unset STRATUS_API STRATUS_TOKEN_FILE

run 0 "$STRATUS" --help
has "$OUT" "usage: stratus"
[ -z "$ERR" ] || fail "stratus --help wrote to stderr: $ERR"
cmds=$(awk '/^commands:/{on=1; next} on && /^$/{exit} on {print $1}' <<<"$OUT")
n=$(wc -w <<<"$cmds")
[ "$n" -ge 14 ] || fail "expected the command list in stratus --help, got $n: $cmds"
for c in launch status cancel cost logs simulate; do
  grep -qx "$c" <<<"$cmds" || fail "'$c' missing from stratus --help: $cmds"
done
ok "stratus --help lists $n commands on stdout"
run 0 "$STRATUS" help
has "$OUT" "commands:"
ok "stratus help = stratus --help"

for c in $cmds; do
  for h in --help -h; do
    run 0 "$STRATUS" "$c" "$h"
    has "$OUT" "usage: stratus $c"
    [ -z "$ERR" ] || fail "stratus $c $h wrote to stderr: $ERR"
  done
  # anywhere among the arguments, after ones that would otherwise run something
  run 0 "$STRATUS" "$c" start 1 --json --help
  has "$OUT" "usage: stratus $c"
done
ok "every listed command answers --help and -h with its usage on stdout, exit 0"
run 0 "$STRATUS" help cost
has "$OUT" "usage: stratus cost"
ok "stratus help CMD = stratus CMD --help"
[ ! -e "$STRATUS_HOME" ] || fail "--help touched the home: $(ls -A "$STRATUS_HOME")"
ok "--help ran nothing (no home, no controller)"

# Usage errors keep going to stderr with exit 2.
run 2 "$STRATUS" launch
has "$ERR" "usage: stratus launch"
[ -z "$OUT" ] || fail "a usage error wrote to stdout: $OUT"
run 2 "$STRATUS"
has "$ERR" "usage: stratus"
ok "usage errors: stderr, exit 2"

# Misspelled commands.
for pair in lauch:launch stauts:status cancle:cancel simulat:simulate offer:offers \
            evnets:events stat:status; do
  run 2 "$STRATUS" "${pair%%:*}" 1
  has "$ERR" "stratus: unknown command '${pair%%:*}' (did you mean ${pair#*:}?)"
done
run 2 "$STRATUS" xyzzy
has "$ERR" "unknown command 'xyzzy'"
hasnt "$ERR" "did you mean"
has "$ERR" "stratus --help"
run 2 "$STRATUS" help lauch
has "$ERR" "did you mean launch?"
ok "an unknown command suggests the nearest one, exit 2"

# Global options come before the command.
run 0 "$STRATUS" --api http://127.0.0.1:9 --token-file /dev/null offers --help
has "$OUT" "usage: stratus offers"
run 0 "$STRATUS" --api=http://127.0.0.1:9 --token-file=/dev/null status -h
has "$OUT" "usage: stratus status"
run 0 "$STRATUS" --api http://127.0.0.1:9 --help
has "$OUT" "--api URL"
run 2 "$STRATUS" --api
has "$ERR" "--api needs a URL"
run 2 "$STRATUS" --api --help
has "$ERR" "--api needs a URL"
run 2 "$STRATUS" --token-file= status
has "$ERR" "--token-file needs a FILE"
run 2 "$STRATUS" --bogus status
has "$ERR" "unknown option '--bogus'"
# ... and reach the client: a server nobody runs, a token file nobody wrote.
"$STRATUS" --api http://127.0.0.1:9 policy show >"$TMP/out" 2>"$TMP/err" &&
  fail "policy show against a dead --api succeeded: $(cat "$TMP/out")"
has "$(cat "$TMP/err")" "http://127.0.0.1:9"
"$STRATUS" --token-file "$TMP/no-token" --api http://127.0.0.1:9 policy show >"$TMP/out" 2>"$TMP/err" &&
  fail "policy show with a missing --token-file succeeded: $(cat "$TMP/out")"
has "$(cat "$TMP/err")" "$TMP/no-token"
ok "--api and --token-file are taken before the command; a missing value is exit 2"

# tools/convert-traces.sh, as the README runs it: its defaults, and clear
# errors when what it needs is not where it looks.
conv="$SOURCE_DIR/tools/convert-traces.sh"
run 0 "$conv" --help
has "$OUT" "SHARED_DATA"
run 2 "$conv"
has "$ERR" "usage: tools/convert-traces.sh OUTDIR"
run 2 env SHARED_DATA="$TMP/nowhere" STRATUS="$STRATUS" "$conv" "$TMP/traces"
has "$ERR" "no shared traces at $TMP/nowhere/traces: set SHARED_DATA"
run 2 env SHARED_DATA="$TMP/nowhere" STRATUS="$TMP/no-stratus" "$conv" "$TMP/traces"
has "$ERR" "no stratus binary at $TMP/no-stratus"
# The default is ../shared/data beside the repository: a copy of the script in
# a repository at $TMP/repo looks in $TMP/shared/data.
mkdir -p "$TMP/repo/tools" "$TMP/repo/build" "$TMP/shared/data/traces"
cp "$conv" "$TMP/repo/tools/"
ln -s "$STRATUS" "$TMP/repo/build/stratus"
run 2 env -u SHARED_DATA -u STRATUS "$TMP/repo/tools/convert-traces.sh" "$TMP/traces"
has "$ERR" "$TMP/shared/data/traces/gpu-training-msft-itp-2021 is missing"
[ ! -e "$TMP/traces" ] || fail "convert-traces.sh made its output folder before failing"
ok "tools/convert-traces.sh: defaults beside the repository, clear errors, exit 2"

echo "all $checks checks passed"
