#!/usr/bin/env bash
# libcurl is loaded only when a command speaks HTTP (src/util/lazycurl.c),
# libpq only when a store is PostgreSQL (src/util/lazypq.c), GLPK only when
# a lower bound is solved (src/util/lazyglpk.c), OpenSSL and libevent_openssl
# only by the server (src/util/lazyssl.c): the binary links none of them, a
# server without OpenSSL says so and does not start, an offline command works on a machine without them, a command that
# needs the server says libcurl is missing (and starts nothing), one that
# opens a PostgreSQL store says libpq is missing, a simulation with the bound
# says GLPK is missing (the policies alone run), and with them present the
# client works and libpq is reached.
. "$(dirname "$0")/lib.sh"
use_home
NOCURL=$TMP/no/libcurl.so.4   # STRATUS_LIBCURL: play a machine without libcurl
NOPQ=$TMP/no/libpq.so.5        # STRATUS_LIBPQ: ... without libpq
NOGLPK=$TMP/no/libglpk.so.40   # STRATUS_LIBGLPK: ... without GLPK
NOSSL=$TMP/no/libevent_openssl-2.1.so.7 # STRATUS_LIBSSL: ... without OpenSSL

if command -v ldd >/dev/null; then
  hasnt "$(ldd "$STRATUS")" "libcurl"
  hasnt "$(ldd "$STRATUS")" "libpq"
  hasnt "$(ldd "$STRATUS")" "libglpk"
  hasnt "$(ldd "$STRATUS")" "libssl"
  hasnt "$(ldd "$STRATUS")" "libcrypto"
  hasnt "$(ldd "$STRATUS")" "libevent_openssl"
  ok "the binary links none of libcurl, libpq, GLPK and OpenSSL"
fi

printf 'name: t\nresources:\n  accelerators: H100:8\nrun: ./train.sh\n' >"$TMP/t.yaml"
STRATUS_LIBCURL=$NOCURL STRATUS_LIBSSL=$NOSSL run 0 "$STRATUS" plan "$TMP/t.yaml" --catalog "$STRATUS_CATALOG"
has "$OUT" "H100"
STRATUS_LIBCURL=$NOCURL STRATUS_LIBPQ=$NOPQ run 0 "$STRATUS" offers --offline --accelerator H100
has "$OUT" "H100:8"
ok "offline plan and offers run without libcurl, libpq or OpenSSL"

# port 1 of loopback: nothing listens, so libpq's own refusal shows it was loaded
PG=postgresql://nobody@127.0.0.1:1/stratus
STRATUS_LIBPQ=$NOPQ run 3 "$STRATUS" data ls --store "$PG"
has "$ERR" "a PostgreSQL store needs libpq, which cannot be loaded"
has "$ERR" "$NOPQ"
has "$ERR" "install libpq5"
run 2 "$STRATUS" data ls --store "$PG"
has "$ERR" "cannot connect to PostgreSQL"
hasnt "$ERR" "needs libpq"
ok "a PostgreSQL store says libpq is missing; with libpq the connection is tried"

W=$SOURCE_DIR/tests/data/trace/workload-alternatives.csv
F=$SOURCE_DIR/examples/sim/fleet.csv
STRATUS_LIBGLPK=$NOGLPK run 3 "$STRATUS" simulate --workload "$W" --fleet "$F" --catalog "$SOURCE_DIR/catalog" \
  --policies stratus,offline-bound
has "$ERR" "a lower bound (a linear program) needs GLPK, which cannot be loaded"
has "$ERR" "install libglpk40"
hasnt "$OUT" "stratus "
STRATUS_LIBGLPK=$NOGLPK run 0 "$STRATUS" simulate --workload "$W" --fleet "$F" --catalog "$SOURCE_DIR/catalog"
has "$ERR" "warning: a lower bound (a linear program) needs GLPK"
has "$ERR" "the table has no lower bound"
has "$OUT" "spot-else-ondemand"
hasnt "$OUT" "offline-bound"
run 0 "$STRATUS" simulate --workload "$W" --fleet "$F" --catalog "$SOURCE_DIR/catalog"
has "$OUT" "offline-bound"
hasnt "$ERR" "warning"
ok "without GLPK a simulation asked for the bound says so; by default the policies run, with a warning; with GLPK the bound is there"

STRATUS_LIBSSL=$NOSSL run 3 "$STRATUS" queue
has "$ERR" "the server (TLS, tokens, secrets) needs OpenSSL and libevent_openssl, which cannot be loaded"
has "$ERR" "install libssl3"
[ ! -e "$STRATUS_HOME/stratus.sock" ] || fail "no server may start without OpenSSL"
ok "a server without OpenSSL says so and does not start"

STRATUS_LIBCURL=$NOCURL run 3 "$STRATUS" queue
has "$ERR" "speaking HTTP needs libcurl, which cannot be loaded"
has "$ERR" "$NOCURL"
[ ! -e "$STRATUS_HOME/stratus.sock" ] || fail "no server may start without libcurl"
ok "a command that needs the server says libcurl is missing"

run 0 "$STRATUS" queue
has "$OUT" "ID  NAME"
ok "with libcurl the client starts and uses the server"
