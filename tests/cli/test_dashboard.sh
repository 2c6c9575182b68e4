#!/usr/bin/env bash
# The web dashboard in a real browser (docs/dashboard.md): a server with a
# TCP listener runs jobs of two teams on the local clouds, one of them
# preempted and recovered, one pipeline stage queued; headless Chromium loads
# /ui/ with a viewer token in the URL's fragment, and the DOM it dumps must
# list the jobs and the service's replica with their placements, mark the regions in use on the map,
# chart spend with data and draw the attempt timeline with the preemption.
# Then the static files (types, ETag, 304), the login link of `stratus
# dashboard` (one use, an HttpOnly SameSite=Strict cookie good for GETs
# only, never logged), a server without a TCP listener, and, once teams
# exist (`stratus team`), a member of one team who sees that team's jobs only.
# The screenshot is kept under $PWD/test-output/test_dashboard/ (the build
# directory under ctest) and its path printed.
. "$(dirname "$0")/lib.sh"
use_home
SERVER_PID=
trap '[ -z "$SERVER_PID" ] || kill -9 "$SERVER_PID" 2>/dev/null; stop_home; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
command -v chromium >/dev/null || fail "chromium is not installed: run scripts/install-deps.sh"
SOCK="$STRATUS_HOME/stratus.sock"
LOG="$TMP/server.log"
OUTDIR="${STRATUS_TEST_OUT:-$PWD/test-output}/test_dashboard"
mkdir -p "$OUTDIR"
: >"$LOG"
local_server_conf


# get PATH [CURL ARGS...]: GET over TCP; CODE, OUT (body) and HDR (headers).
get() {
  local p=$1; shift
  CODE=$(curl -s -D "$TMP/hdr" -o "$TMP/body" -w '%{http_code}' --max-time 60 "$@" "$BASE$p")
  OUT=$(cat "$TMP/body"); HDR=$(tr -d '\r' <"$TMP/hdr")
}
expect() { [ "$CODE" = "$1" ] || fail "$2: HTTP $CODE, expected $1: ${OUT:0:2000}"; }
# owner GET PATH: the API over the UNIX socket; OUT.
owner() { OUT=$(curl -s --max-time 60 --unix-socket "$SOCK" "http://localhost$1"); }

# browse NAME URL CHECK: load URL in headless Chromium (a fresh profile each
# time) until its DOM passes CHECK (a grep -E pattern), at most 5 loads;
# the DOM is left in $TMP/NAME.html and in DOM.  URL "link": a new login
# link of `stratus dashboard` for each load (a link works once).
browse() {
  local name=$1 url=$2 check=$3 i
  for i in 1 2 3 4 5; do
    [ "$2" != link ] || url=$("$STRATUS" dashboard 2>/dev/null) || fail "stratus dashboard failed"
    rm -rf "$TMP/chrome-$name"
    timeout 120 chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
      --user-data-dir="$TMP/chrome-$name" --enable-logging=stderr --v=0 \
      --virtual-time-budget=8000 --dump-dom "$url" \
      >"$TMP/$name.html" 2>"$TMP/$name.err"
    DOM=$(cat "$TMP/$name.html")
    grep -qE -- "$check" <<<"$DOM" && return 0
  done
  fail "the page at ${url%%#*} never showed /$check/; its status line: $(grep -o 'id="status"[^<]*' <<<"$DOM"); chromium: $(tail -n 5 "$TMP/$name.err")"
}
# in_dom PATTERN: the last DOM holds PATTERN (grep -E).
in_dom() { grep -qE -- "$1" <<<"$DOM" || fail "expected /$1/ in the page; jobs: $(grep -oE '<tr data-job[^>]*>' <<<"$DOM" | head -n 20)"; }
# placement_of JOB: "cloud/region" of its current attempt.
placement_of() {
  owner "/v1/jobs/$1"
  json 'j["placement"]["cloud"] + "/" + j["placement"]["region"]'
}

start_server
BASE="http://127.0.0.1:$PORT"

# --- work of two teams: research trains on H100 (preempted once), product
# runs a batch on A10 and a service of one replica, and a pipeline's second
# stage waits in the queue ---
cat >"$TMP/pretrain.yaml" <<'YAML'
name: pretrain
resources:
  accelerators: H100:8
run: sleep 600
stratus:
  team: research
YAML
cat >"$TMP/embed.yaml" <<'YAML'
name: embed-batch
resources:
  accelerators: A10:4
run: sleep 600
stratus:
  team: product
YAML
cat >"$TMP/pipe.yaml" <<'YAML'
name: eval-pipe
---
name: prep
resources:
  accelerators: A100-80GB:8
run: sleep 600
stratus:
  team: research
---
name: score
resources:
  accelerators: A100-80GB:8
run: echo scored
stratus:
  team: research
YAML
cat >"$TMP/chat.yaml" <<YAML
name: chat
resources:
  accelerators: H100:8
  use_spot: true
run: exec python3 -B $SOURCE_DIR/examples/llm-server/server.py --port \$PORT --model toy --decode-tps 200
service:
  readiness_probe: {path: /health, initial_delay_seconds: 60}
  replicas: 1
stratus:
  team: product
YAML
R=$(launch_detached "$TMP/pretrain.yaml")
P=$(launch_detached "$TMP/embed.yaml")
"$STRATUS" launch "$TMP/pipe.yaml" --detach >"$TMP/pipe.out" 2>&1 || fail "pipeline: $(cat "$TMP/pipe.out")"
wait_state "$R" RUNNING
wait_state "$P" RUNNING
Q=$((P + 2)) # the pipeline's second stage
wait_state "$((P + 1))" RUNNING
[ "$(job_field "$Q" 'j["state"]')" = PENDING ] || fail "the second stage should wait: $("$STRATUS" status)"
run 0 "$STRATUS" serve up "$TMP/chat.yaml"
svc_ready() { [ "$("$STRATUS" serve status chat --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = READY ]; }
wait_for svc_ready
run 0 "$STRATUS" local preempt --job "$R"
recovered() { [ "$(job_field "$R" 'j["attempts"]')" = 2 ] && [ "$(job_field "$R" 'j["state"]')" = RUNNING ]; }
wait_for recovered
RWHERE=$(placement_of "$R"); PWHERE=$(placement_of "$P")
spent() { owner "/v1/cost/series?by=team"; [ "$(json 'j["total"] > 0 and len(j["series"]) == 2')" = True ]; }
wait_for spent
owner /v1/services
SWHERE=$(json 'j["services"][0]["replicas"][0]["cloud"] + "/" + j["services"][0]["replicas"][0]["region"]')
ok "jobs of research ($RWHERE, preempted once) and product ($PWHERE) run, product's service too ($SWHERE); a stage waits; spend is accounted"

# --- the API the page reads ---
get /v1/regions
expect 401 "regions without a token"
api_tok=$("$STRATUS" token create --name dash-viewer --role viewer 2>/dev/null) || fail "token create"
get /v1/regions -H "Authorization: Bearer $api_tok"
expect 200 "regions as a viewer"
[ "$(json 'sorted(r["cloud"] + "/" + r["region"] for r in j["regions"] if r["lat"] != 0) == sorted(set(r["cloud"] + "/" + r["region"] for r in j["regions"]))')" = True ] ||
  fail "every region needs coordinates: $OUT"
has "$OUT" '"region":"us-central1"'
get "/v1/cost/series?by=cloud&step=5" -H "Authorization: Bearer $api_tok"
expect 200 "cost series"
[ "$(json 'j["step"] == 5 and len(j["t"]) == len(j["series"][0]["usd"]) and abs(sum(s["total"] for s in j["series"]) - j["total"]) < 1e-9')" = True ] ||
  fail "the series do not add up: $OUT"
get "/v1/cost/series?by=zone" -H "Authorization: Bearer $api_tok"
expect 400 "cost series by zone"
has "$OUT" "takes cloud or team"
get "/v1/cost/series?step=1&since=1" -H "Authorization: Bearer $api_tok"
expect 400 "a million buckets"
has "$OUT" "larger step"
ok "GET /v1/regions (viewer) has coordinates; /v1/cost/series adds up and refuses bad queries"

# --- the page in a browser, with the viewer token in the fragment ---
browse viewer "$BASE/ui/#token=$api_tok&job=$R" "data-job=\"$R\".*data-placement=\"$RWHERE\""
in_dom 'data-ready="1"'
! grep -E "CONSOLE.*(Uncaught|Content Security Policy|Refused)" "$TMP/viewer.err" ||
  fail "the page's console has errors (above)"
in_dom "<tr data-job=\"$R\" data-team=\"research\" data-state=\"RUNNING\" data-placement=\"$RWHERE\""
in_dom "<tr data-job=\"$P\" data-team=\"product\" data-state=\"RUNNING\" data-placement=\"$PWHERE\""
in_dom 'data-team-group="research"'; in_dom 'data-team-group="product"'
in_dom "<tr data-service=\"chat\" data-team=\"product\""
in_dom "<div data-replica=\"[0-9]+\" data-placement=\"$SWHERE\">"
ok "the page lists the jobs of both teams and the service's replica with their placements"
in_dom "<circle [^>]*data-region=\"$RWHERE\""
in_dom "<circle [^>]*data-region=\"$PWHERE\"[^>]*data-gpus=\"4\""
nmarks=$(grep -oE '<circle [^>]*data-region="' <<<"$DOM" | wc -l)
in_dom '<path id="land" d="M'
ok "the map marks the regions in use ($nmarks markers) over the world's land"
total=$(grep -oE '<section id="spend"[^>]*data-total="[0-9.]+"' <<<"$DOM" | sed 's/.*data-total="//; s/"$//')
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$total" || fail "no spend charted: $total"
in_dom "<tr data-series=\"${RWHERE%%/*}\" data-total=\"[0-9.]+\""
in_dom 'class="u-wrap"|<canvas'
ok "the spend chart has data (\$$total in all) and a series per cloud"
in_dom "data-queued=\"$Q\""
in_dom 'waiting for stage 1'
ok "the queue shows the waiting stage and why"
in_dom '<section id="detail" class="card wide" data-job="'"$R"'"'
in_dom '<rect [^>]*data-attempt="1" data-end="preempted"'
in_dom '<rect [^>]*data-attempt="2" data-end="none"'
in_dom 'data-mark="preempted"'
in_dom 'data-event="preempt-notice"|data-event="state"'
ok "the job's timeline shows attempt 1 preempted and attempt 2 running"
rm -rf "$TMP/chrome-shot"
timeout 120 chromium --headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
  --user-data-dir="$TMP/chrome-shot" --virtual-time-budget=8000 --window-size=1400,1000 \
  --screenshot="$OUTDIR/dashboard.png" "$BASE/ui/#token=$api_tok&job=$R" >/dev/null 2>"$TMP/shot.err" ||
  fail "screenshot: $(tail -n 5 "$TMP/shot.err")"
[ -s "$OUTDIR/dashboard.png" ] || fail "no screenshot at $OUTDIR/dashboard.png"
ok "screenshot: $OUTDIR/dashboard.png"

# --- an ended job: hidden unless "show ended" (#ended=1), which reads the
# active jobs and the newest page of all, newest first ---
printf 'name: quick\nresources:\n  accelerators: A10:4\nrun: echo done\nstratus:\n  team: product\n' >"$TMP/quick.yaml"
D=$(launch_detached "$TMP/quick.yaml")
wait_state "$D" SUCCEEDED
browse ended "$BASE/ui/#token=$api_tok&ended=1" "data-job=\"$D\""
in_dom "<tr data-job=\"$D\" data-team=\"product\" data-state=\"SUCCEEDED\""
in_dom "<tr data-job=\"$R\" data-team=\"research\" data-state=\"RUNNING\""
! grep -q 'data-ended-more' <<<"$DOM" || fail "a store of a few jobs has no more ended ones to mention"
browse active "$BASE/ui/#token=$api_tok" "data-job=\"$R\""
! grep -qE "<tr data-job=\"$D\"" <<<"$DOM" || fail "the ended job $D is shown without 'show ended'"
ok "'show ended' (#ended=1) lists the ended job $D beside the running ones; without it, it is not shown"

# --- the static files ---
get /
expect 302 "/"
has "$HDR" "Location: /ui/"
get /ui/app.js
expect 200 "app.js"
has "$HDR" "Content-Type: text/javascript"
has "$HDR" "Cache-Control: no-cache"
etag=$(sed -n 's/^ETag: //p' <<<"$HDR")
[ -n "$etag" ] || fail "no ETag: $HDR"
get /ui/app.js -H "If-None-Match: $etag"
expect 304 "app.js again with its ETag"
get /ui/
expect 200 "index"
has "$HDR" "Content-Type: text/html"
has "$HDR" "Content-Security-Policy: default-src 'self'"
get /ui/vendor/uplot/LICENSE
expect 200 "uPlot's licence"
has "$OUT" "MIT"
get /ui/nosuch.js
expect 404 "a file the dashboard has not"
get /ui/../server.secret --path-as-is
[ "$CODE" = 404 ] || [ "$CODE" = 400 ] || fail "a path out of /ui/: HTTP $CODE"
size=0
for f in "" app.js style.css vendor/uplot/uPlot.iife.min.js vendor/uplot/uPlot.min.css \
  vendor/topojson-client/topojson-client.min.js vendor/world-atlas/land-110m.json; do
  get "/ui/$f"; expect 200 "/ui/$f"; size=$((size + ${#OUT}))
done
[ "$size" -lt 300000 ] || fail "the page weighs $size bytes, over 300 KB"
ok "static files: types, ETag and 304, CSP, 404 for the unknown; the page is $size bytes"

# --- the login link of `stratus dashboard` ---
run 0 "$STRATUS" dashboard
link=$OUT
case "$link" in "$BASE/ui/login?code=lc_"*) ;; *) fail "not a login link on $BASE: $link";; esac
has "$ERR" "within 60 s"
code=${link##*code=}
get "/ui/login?code=$code"
expect 303 "the login link"
has "$HDR" "Location: /ui/"
cookie=$(sed -n 's/^Set-Cookie: //p' <<<"$HDR")
has "$cookie" "HttpOnly"; has "$cookie" "SameSite=Strict"; has "$cookie" "Path=/"
session=${cookie%%;*}
get "/ui/login?code=$code"
expect 401 "the same link again"
has "$OUT" "used already"
get /v1/jobs -H "Cookie: $session"
expect 200 "the API with the session cookie"
has "$OUT" '"pretrain"'
get /v1/tokens -H "Cookie: other=1; $session"
expect 200 "an admin read with the session cookie"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "Cookie: $session" \
  --data-binary '{"name": "csrf", "role": "admin"}' "$BASE/v1/tokens")
[ "$CODE" = 401 ] || fail "a POST with the session cookie must not be admitted: HTTP $CODE $(cat "$TMP/body")"
get /v1/jobs -H "Cookie: stratus_session=ss_nosuchsession"
expect 401 "a made-up session"
get /ui/logout -H "Cookie: $session"
expect 303 "logging out"
has "$HDR" "Set-Cookie: stratus_session=; Path=/; Max-Age=0"
get /v1/jobs -H "Cookie: $session"
expect 401 "the session after logging out"
! grep -qF -- "$code" "$LOG" || fail "the login code is in the server's log"
! grep -qF -- "${session#*=}" "$LOG" || fail "the session is in the server's log"
browse link link "data-job=\"$P\""
in_dom 'signed in by link'
ok "stratus dashboard: a one-time link, an HttpOnly SameSite=Strict cookie for GETs only, ended by /ui/logout, never logged; a browser follows it"

# --- a server without a TCP listener says how to add one ---
(
  export STRATUS_HOME="$TMP/home2"
  mkdir -p -m 0700 "$STRATUS_HOME"
  "$STRATUS" dashboard >"$TMP/notcp.out" 2>"$TMP/notcp.err"; echo $? >"$TMP/notcp.rc"
  "$STRATUS" controller stop >/dev/null 2>&1
)
[ "$(cat "$TMP/notcp.rc")" != 0 ] || fail "stratus dashboard without a TCP listener succeeded: $(cat "$TMP/notcp.out")"
has "$(cat "$TMP/notcp.err")" "no TCP listener"
has "$(cat "$TMP/notcp.err")" "tcp: 127.0.0.1:8080"
ok "without a TCP listener, stratus dashboard says what to add to server.yaml"

# --- a remote server's user: told where to go, and no server started here ---
mkdir -p -m 0700 "$TMP/home3"
run 2 env STRATUS_HOME="$TMP/home3" STRATUS_API="$BASE" STRATUS_TOKEN="$api_tok" "$STRATUS" dashboard
has "$ERR" "run it there without --api (STRATUS_API), or open $BASE/ui/ and sign in with your token"
[ ! -e "$TMP/home3/stratus.sock" ] && [ ! -e "$TMP/home3/stratus.db" ] ||
  fail "stratus dashboard with --api started a server in the client's home: $(ls "$TMP/home3")"
ok "stratus dashboard with --api refuses, says where to go, and starts nothing"

# --- team isolation in the browser, once teams exist ---
"$STRATUS" team --help >/dev/null 2>&1 || fail "stratus team --help failed"
{
  run 0 "$STRATUS" team create research
  run 0 "$STRATUS" team add research alice --role member
  run 0 "$STRATUS" team set-quota research --gpus H100=16 --budget 1000 --limit soft
  alice=$("$STRATUS" token create alice-tok --user alice --role member 2>/dev/null) ||
    fail "token create alice-tok --user alice"
  browse alice "$BASE/ui/#token=$alice" "data-job=\"$R\""
  in_dom "<tr data-job=\"$R\" data-team=\"research\""
  ! grep -qE "<tr data-job=\"$P\"" <<<"$DOM" || fail "alice (research) sees product's job $P"
  ! grep -qE 'data-team-group="product"' <<<"$DOM" || fail "alice sees the product team"
  ! grep -qE "data-region=\"$PWHERE\"" <<<"$DOM" || fail "alice sees product's region on the map"
  in_dom 'data-team-card="research"'
  in_dom 'data-quota="research/H100" data-used="[0-9]+" data-gpus="16"'
  in_dom 'data-spend="research"'
  ! grep -qE 'data-team-card="product"' <<<"$DOM" || fail "alice sees a product team card"
  # the API a page at a time: pages of one of research's jobs each (never
  # an empty page, never a "next" naming product's job), together
  # research's jobs and no other
  after=0; seen=""; pages=0
  while :; do
    get "/v1/jobs?limit=1&after=$after" -H "Authorization: Bearer $alice"
    expect 200 "a page of jobs as alice"
    [ "$(json 'len(j["jobs"]) == 1 and (j["next"] is None or j["next"] == j["jobs"][-1]["id"])')" = True ] ||
      fail "a page of one as alice must hold one of her jobs, and next its id: $OUT"
    seen="$seen$(json '" ".join(str(x["id"]) + ":" + x["team"] for x in j["jobs"])') "
    after=$(json 'j["next"] or 0')
    pages=$((pages + 1)); [ "$pages" -lt 100 ] || fail "paging never ends: $OUT"
    [ "$after" != 0 ] || break
  done
  has "$seen" "$R:research"; has "$seen" "$Q:research"
  hasnt "$seen" ":product"
  get "/v1/jobs" -H "Authorization: Bearer $alice"
  [ "$(json '" ".join(str(x["id"]) for x in j["jobs"])')" = "$(tr ' ' '\n' <<<"$seen" | sed -n 's/:.*//p' | tr '\n' ' ' | sed 's/ $//')" ] ||
    fail "alice's pages ($seen) are not her whole list: $OUT"
  rm -rf "$TMP/chrome-shot2"
  timeout 120 chromium --headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --user-data-dir="$TMP/chrome-shot2" --virtual-time-budget=8000 --window-size=1400,1300 \
    --screenshot="$OUTDIR/dashboard-team.png" "$BASE/ui/#token=$alice" >/dev/null 2>"$TMP/shot2.err" ||
    fail "screenshot: $(tail -n 5 "$TMP/shot2.err")"
  ok "a member of research sees research's jobs only, and its team's quota use and spend (screenshot: $OUTDIR/dashboard-team.png)"
}
# --- the server stops cleanly (under ASan: no leak from sessions or replies) ---
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"; rc=$?
SERVER_PID=
[ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM: $(tail -n 30 "$LOG")"
! grep -qE "Sanitizer|runtime error" "$LOG" || fail "the sanitizers found something: $(grep -A 30 -E "Sanitizer|runtime error" "$LOG" | head -n 60)"
ok "the server stops cleanly on SIGTERM"
echo "screenshot: $OUTDIR/dashboard.png"
