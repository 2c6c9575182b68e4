#!/usr/bin/env bash
# API keys of a service's endpoint (`stratus serve keys`), seen from a
# client of a router that follows the server: a second key works through
# the router next to the first; once the first is revoked (and the router
# has the set of that moment) it gets 401 while the second still works;
# the last key goes only with --force, and the endpoint is then open.  The
# listing never shows a key.  Real server (TCP, tokens), real router, a real
# model server replica.
. "$(dirname "$0")/lib.sh"
use_home
SERVER="$SOURCE_DIR/examples/llm-server/server.py"
local_server_conf
cat >"$TMP/chat.yaml" <<YAML
name: chat
resources:
  accelerators: H100:8
run: exec python3 -B $SERVER --port \$PORT --decode-tps 500
service:
  readiness_probe:
    path: /health
    initial_delay_seconds: 60
  replicas: 1
YAML
cleanup() {
  for p in $(jobs -p); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  stop_home
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

# --- errors a user can make ---
run 2 "$STRATUS" serve keys
has "$ERR" "stratus serve keys NAME --revoke ID [--force]"
run 2 "$STRATUS" serve keys chat --create --revoke 1
has "$ERR" "usage: stratus serve up"
run 1 "$STRATUS" serve keys nosuch
has "$ERR" "no service 'nosuch'"
ok "serve keys: usage errors (exit 2), an unknown service (exit 1)"

# --- a service with its first key, and a second one ---
run 0 "$STRATUS" serve up "$TMP/chat.yaml"
KEY1=$(tail -n 1 <<<"$OUT")
[[ "$KEY1" =~ ^sk_[A-Za-z0-9_-]{43}$ ]] || fail "serve up must print the key: $OUT"
run 0 "$STRATUS" serve keys chat --create
KEY2=$(tail -n 1 <<<"$OUT")
[[ "$KEY2" =~ ^sk_[A-Za-z0-9_-]{43}$ ]] || fail "--create must print the new key last: $OUT"
has "$OUT" "key 2 of service chat"
[ "$KEY1" != "$KEY2" ] || fail "two keys alike"
run 0 "$STRATUS" serve keys chat
has "$OUT" "${KEY1:0:11}..."
has "$OUT" "${KEY2:0:11}..."
hasnt "$OUT" "$KEY1"
hasnt "$OUT" "$KEY2"
hasnt "$OUT" "$(printf %s "$KEY2" | sha256sum | cut -d' ' -f1)"
run 0 "$STRATUS" serve keys chat --json
[ "$(json "[k['id'] for k in j['keys']]")" = "[1, 2]" ] || fail "keys 1 and 2 expected: $OUT"
ok "serve up's key is 1, --create prints key 2 once; the listing shows ids and prefixes, no key"

# --- a router following the server ---
one_ready() { [ "$(status_json "sum(1 for r in j['replicas'] if r['state'] == 'READY')" 2>/dev/null)" = 1 ]; }
poll 120 one_ready
[ "$(status_json "sum(1 for r in j['replicas'] if r['state'] == 'READY')")" = 1 ] ||
  fail "no ready replica: $("$STRATUS" serve status chat)"
PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$STRATUS_HOME/controller.log" | tail -n 1)
TOKEN=$("$STRATUS" token create --name router --role member 2>/dev/null)
STRATUS_TOKEN=$TOKEN "$STRATUS" router --api "http://127.0.0.1:$PORT" --service chat \
  --listen 127.0.0.1:0 2>"$TMP/router.log" &
wait_for grep -q "listening on" "$TMP/router.log"
R=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$TMP/router.log" | head -n 1)
wait_for sh -c "curl -sf '$R/-/healthz' | grep -q '\"ready_replicas\":1'"
code() { # code [KEY]: the status of a request through the router
  curl -s -o /dev/null -w '%{http_code}' -m 30 ${1:+-H "Authorization: Bearer $1"} "$R/v1/models"
}
# wait_router: until the router has the set the server publishes now
wait_router() {
  local v
  v=$("$STRATUS" serve endpoints chat | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
  wait_for sh -c "curl -sf '$R/-/healthz' | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"version\"] < $v)'"
}
wait_router
[ "$(code "$KEY1")" = 200 ] || fail "key 1 through the router: $(code "$KEY1")"
[ "$(code "$KEY2")" = 200 ] || fail "key 2 through the router: $(code "$KEY2")"
[ "$(code)" = 401 ] || fail "no key through the router: $(code)"
[ "$(code sk_wrong)" = 401 ] || fail "a wrong key through the router: $(code sk_wrong)"
ok "through the router both keys work; none or a wrong one gets 401"

# --- revoke key 1: the router refuses it as soon as it has the new set ---
run 0 "$STRATUS" serve keys chat --revoke 1
has "$OUT" "key 1 revoked; 1 left"
wait_router
[ "$(code "$KEY1")" = 401 ] || fail "a revoked key must get 401: $(code "$KEY1")"
[ "$(code "$KEY2")" = 200 ] || fail "key 2 must still work: $(code "$KEY2")"
run 0 "$STRATUS" serve keys chat
hasnt "$OUT" "${KEY1:0:11}..."
run 0 "$STRATUS" serve keys chat --all
has "$OUT" "${KEY1:0:11}..."
run 1 "$STRATUS" serve keys chat --revoke 1
has "$ERR" "no live key 1"
ok "key 1 revoked: 401 through the router, key 2 still 200; --all lists it as revoked"

# --- the last key: only with --force, and the endpoint is then open ---
run 2 "$STRATUS" serve keys chat --revoke 2
has "$ERR" "the last key of service 'chat'"
has "$ERR" "--force"
[ "$(code "$KEY2")" = 200 ] || fail "a refused revoke must leave key 2 working"
run 0 "$STRATUS" serve keys chat --revoke 2 --force
has "$OUT" "the endpoint is open"
wait_router
[ "$(code)" = 200 ] || fail "an open endpoint needs no key: $(code)"
run 0 "$STRATUS" serve keys chat
has "$OUT" "service chat is open"
ok "the last key goes only with --force; the endpoint is then open"

# --- a key for an open service: it needs one again ---
run 0 "$STRATUS" serve keys chat --create
has "$ERR" "from now on its routers require one"
has "$OUT" "key 3 of service chat"
KEY3=$(tail -n 1 <<<"$OUT")
wait_router
[ "$(code)" = 401 ] || fail "with a key again, none must get 401: $(code)"
[ "$(code "$KEY3")" = 200 ] || fail "key 3 through the router: $(code "$KEY3")"
ok "an open service given a key needs it again (key 3; ids are not reused)"
