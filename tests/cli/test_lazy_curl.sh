#!/usr/bin/env bash
# libcurl is loaded only when a command speaks HTTP (src/util/lazycurl.c):
# the binary does not link it, an offline command works on a machine
# without it, a command that needs the server says libcurl is missing (and
# starts nothing), and with libcurl present the client works.
. "$(dirname "$0")/lib.sh"
use_home
NOCURL=$TMP/no/libcurl.so.4   # STRATUS_LIBCURL: play a machine without libcurl

if command -v ldd >/dev/null; then
  hasnt "$(ldd "$STRATUS")" "libcurl"
  ok "the binary does not link libcurl"
fi

printf 'name: t\nresources:\n  accelerators: H100:8\nrun: ./train.sh\n' >"$TMP/t.yaml"
STRATUS_LIBCURL=$NOCURL run 0 "$STRATUS" plan "$TMP/t.yaml" --catalog "$STRATUS_CATALOG"
has "$OUT" "H100"
STRATUS_LIBCURL=$NOCURL run 0 "$STRATUS" offers --offline --accelerator H100
has "$OUT" "H100:8"
ok "offline plan and offers run without libcurl"

STRATUS_LIBCURL=$NOCURL run 3 "$STRATUS" queue
has "$ERR" "speaking HTTP needs libcurl, which cannot be loaded"
has "$ERR" "$NOCURL"
[ ! -e "$STRATUS_HOME/stratus.sock" ] || fail "no server may start without libcurl"
ok "a command that needs the server says libcurl is missing"

run 0 "$STRATUS" queue
has "$OUT" "ID  NAME"
ok "with libcurl the client starts and uses the server"
