#!/usr/bin/env bash
# Teams (docs/teams.md) through a real server, its API and the CLI: users'
# tokens see and act on their own teams' work only (another team's job,
# events, logs and services are 404); a quota makes a job wait with a reason
# naming it and admits it when room frees; in a cohort a team borrows the
# other's unused quota and the owner reclaims it (the borrower's job is
# stopped and recovers); a hard budget stops admission; cost by team for a
# month with budgets.
. "$(dirname "$0")/lib.sh"
use_home
SERVER_PID=
trap '[ -z "$SERVER_PID" ] || kill -9 "$SERVER_PID" 2>/dev/null; stop_home; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
SOCK="$STRATUS_HOME/stratus.sock"
LOG="$TMP/server.log"
: >"$LOG"
cat >"$STRATUS_HOME/server.yaml" <<'YAML'
listen:
  - unix: stratus.sock
  - tcp: 127.0.0.1:0
drivers:
  - name: local
    driver: local
    locations: ["*"]
    timing: {backoff_base: 0.2s, relaunch_overhead: 1s, poll: 200ms, wait_retry: 0.5s}
YAML
# plenty of room: quotas, not capacity, are what is tested
printf 'capacity:\n  default: 16\n' >"$STRATUS_HOME/local.yaml"

start_server
API="http://127.0.0.1:$PORT"

# as(TOKEN) CMD...: the CLI over TCP with a token
as() { local t=$1; shift; STRATUS_API=$API STRATUS_TOKEN=$t "$STRATUS" "$@"; }
# fails CMD...: CMD must exit non-zero (OUT, ERR as run keeps them)
fails() {
  "$@" >"$TMP/out" 2>"$TMP/err" && fail "'$*' succeeded; expected a refusal: $(cat "$TMP/out")"
  OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
}
api() { # api TOKEN METHOD PATH [BODY]: CODE and OUT
  local args=(-s -o "$TMP/body" -w '%{http_code}' -X "$2" --max-time 60 -H "Authorization: Bearer $1")
  [ -z "${4-}" ] || args+=(--data-binary "$4" -H 'Content-Type: application/json')
  CODE=$(curl "${args[@]}" "$API$3"); OUT=$(cat "$TMP/body")
}

# --- teams, members, tokens (the owner on the socket is the server admin) ---
run 0 "$STRATUS" team create research --cohort lab
run 0 "$STRATUS" team create product --cohort lab --weight 2
run 0 "$STRATUS" team set-quota research --gpus H100=8
run 0 "$STRATUS" team set-quota product --gpus H100=8
run 0 "$STRATUS" team add research alice --role admin
run 0 "$STRATUS" team add product bob
run 2 "$STRATUS" team set-quota research --gpus H100=lots
has "$ERR" "--gpus"
fails "$STRATUS" team add nosuch carol
has "$ERR" "no team 'nosuch'"
A=$("$STRATUS" token create alice-tok --user alice --role admin 2>/dev/null)
B=$("$STRATUS" token create bob-tok --user bob --role member 2>/dev/null)
[ -n "$A" ] && [ -n "$B" ] || fail "tokens not made"
run 0 as "$A" whoami
has "$OUT" "user alice"
has "$OUT" "research"
hasnt "$OUT" "product"
run 0 as "$A" team ls
has "$OUT" "team research"
hasnt "$OUT" "team product"
ok "teams, members and users' tokens; whoami and team ls show a user its own teams only"
# the socket's owner acts as a token's user when it sends the token
run 0 env STRATUS_TOKEN="$B" "$STRATUS" whoami
has "$OUT" "user bob"
hasnt "$OUT" "research"
run 2 env STRATUS_TOKEN="$B" "$STRATUS" team create nope
run 2 env STRATUS_TOKEN=not-a-token "$STRATUS" whoami
has "$ERR" "the token is not valid"
run 0 "$STRATUS" whoami
has "$OUT" "owner"
ok "on the home's socket STRATUS_TOKEN acts as its user (a bad one is refused); without one, the owner"

# a user's admin token is admin in its team only
fails as "$A" token list
has "$ERR" "server admin"
run 0 as "$A" team add research dave --role viewer
fails as "$A" team add product dave
has "$ERR" "no team 'product'"
ok "a team admin manages its team's members, not the server nor another team"

# --- isolation of jobs, events, logs, cancel, services ---
cat >"$TMP/r1.yaml" <<'Y'
name: r-small
resources: {accelerators: "H100:1"}
run: echo research-says-hi; sleep 600
Y
run 0 as "$A" launch "$TMP/r1.yaml" --detach
R1=$(sed -n 's/^job \([0-9]*\) submitted$/\1/p' <<<"$OUT")
[ -n "$R1" ] || fail "no job id: $OUT"
wait_for sh -c "STRATUS_API=$API STRATUS_TOKEN=$A $STRATUS status $R1 --json | grep -q '\"RUNNING\"'"
[ "$(job_field "$R1" 'j["team"]')" = research ] || fail "alice's only team was not given to her job"
api "$B" GET "/v1/jobs/$R1"; [ "$CODE" = 404 ] || fail "bob read research's job: $CODE $OUT"
api "$B" GET "/v1/jobs/$R1/events"; [ "$CODE" = 404 ] || fail "bob read its events: $CODE"
api "$B" GET "/v1/jobs/$R1/logs"; [ "$CODE" = 404 ] || fail "bob read its logs: $CODE"
api "$B" POST "/v1/jobs/$R1/cancel"; [ "$CODE" = 404 ] || fail "bob cancelled it: $CODE"
api "$B" GET "/v1/jobs/999999"; [ "$CODE" = 404 ] || fail "an unknown job: $CODE"
api "$B" GET "/v1/jobs"
[ "$(json 'len(j["jobs"])')" = 0 ] || fail "bob lists research's jobs: $OUT"
fails as "$B" status "$R1"
fails as "$B" logs "$R1"
fails as "$B" cancel "$R1"
run 0 as "$A" status "$R1"
has "$OUT" "RUNNING"
api "$B" GET "/v1/cost?by=team"
hasnt "$OUT" research
cat >"$TMP/p-other.yaml" <<'Y'
name: p-sneaky
stratus: {team: research}
resources: {accelerators: "H100:1"}
run: true
Y
fails as "$B" launch "$TMP/p-other.yaml" --detach
has "$ERR" "may not submit work for team 'research'"
# a team that does not exist: said at the spec's line (helper-103)
sed 's/{team: research}/{team: reserch}/' "$TMP/p-other.yaml" >"$TMP/p-typo.yaml"
run 2 "$STRATUS" launch "$TMP/p-typo.yaml" --detach
has "$ERR" "$TMP/p-typo.yaml:2:17: stratus.team: no team is called 'reserch'"
# a dataset's home that research's waiting job holds: bob is refused without
# learning of the job; alice is told which job and how to free it
cat >"$TMP/rd.yaml" <<'Y'
name: rd
---
name: first
resources: {accelerators: "A10:4"}
run: sleep 600
---
name: second
resources: {accelerators: "A10:4"}
stratus: {data: {location: azure/eastus, size_gb: 5, dataset: rdata}}
run: x
Y
printf 'name: pd\nresources: {accelerators: "A10:4"}\nstratus:\n  data: {location: gcp/us-central1, size_gb: 5, dataset: rdata}\nrun: x\n' >"$TMP/pd.yaml"
run 0 as "$A" launch "$TMP/rd.yaml" --detach
RD=$(sed -n 's/.*group \([0-9]*\).*/\1/p' <<<"$OUT$ERR" | head -n 1)
[ -n "$RD" ] || fail "no group id: $OUT $ERR"
fails as "$B" launch "$TMP/pd.yaml" --detach
has "$ERR" "as a job or service of another team gave it"
hasnt "$ERR" "stratus cancel"
fails as "$A" launch "$TMP/pd.yaml" --detach
has "$ERR" "gave it before any job ran on it"
has "$ERR" "\`stratus cancel "
run 0 as "$A" cancel "$RD"
ok "another team's job, events, logs, cancel and cost are invisible (404) through the API and the CLI; submitting for it is refused; a dataset home it holds is refused without naming it"

# --- quota: research's 8 H100 are in use -> the next job waits, naming the quota ---
cat >"$TMP/r8.yaml" <<'Y'
name: r-big
resources: {accelerators: "H100:8"}
run: sleep 600
Y
run 0 as "$A" launch "$TMP/r8.yaml" --detach
R8=$(sed -n 's/^job \([0-9]*\) submitted$/\1/p' <<<"$OUT")
# 1 + 8 > 8 for research alone, but the cohort (16) lends: it runs, borrowed
wait_for sh -c "$STRATUS status $R8 --json | grep -q '\"RUNNING\"'"
ok "over its own quota, research borrows from the cohort lab (9/8 H100, cohort 9/16)"
cat >"$TMP/b8.yaml" <<'Y'
name: p-big
resources: {accelerators: "H100:8"}
run: sleep 600
Y
run 0 as "$B" launch "$TMP/b8.yaml" --detach
P8=$(sed -n 's/^job \([0-9]*\) submitted$/\1/p' <<<"$OUT")
# product asks for its own 8: the cohort has 7 left, research borrowed 1:
# research's lowest-priority newest job is reclaimed, then product runs
wait_for sh -c "$STRATUS status $P8 --json | grep -q '\"RUNNING\"'"
run 0 "$STRATUS" events "$P8"
has "$OUT" "reclaim"
EVR=$("$STRATUS" events "$R8"; "$STRATUS" events "$R1")
has "$EVR" "reclaimed: team research borrowed"
ok "product reclaims its quota: research's borrowed job is stopped (displaced, to recover) and product's job runs"
# the reclaimed research job now waits: research's quota and the cohort are full
wait_for sh -c "$STRATUS queue 2>/dev/null | grep -q 'waiting: team research uses'"
run 0 "$STRATUS" queue
has "$OUT" "waiting: team research uses"
ok "research's reclaimed job waits with a reason naming its quota: $(grep -o 'waiting: team research uses[^|]*' <<<"$OUT" | head -1)"
# plan, from the server, names the quota a launch would go over: every
# place of r-big is H100, which research's quota and the cohort's cover
run 0 as "$A" plan "$TMP/r8.yaml" --top 2
has "$ERR" "  1  over quota: team research uses"
has "$ERR" "  2  over quota: team research uses"
hasnt "$ERR" "has room:"
has "$ERR" "none of these has room now"
A_ERR=$ERR
run 0 as "$B" plan "$TMP/r8.yaml" --top 1 # the plan is for the asker's team
has "$ERR" "  1  over quota: team product uses 8/8 H100 (needs 8)"
ok "plan says which places are over the asking team's quota: $(grep -m1 'over quota' <<<"$A_ERR")"
# a spec without a team is planned (and launched) for the asker's one team,
# and the policy's rules for that team govern it
printf 'version: 1\nrules:\n  - name: product-azure\n    match: {team: product}\n    allow: [azure]\n  - name: anything\n    match: {}\n' >"$TMP/team-policy.yaml"
run 0 "$STRATUS" policy set "$TMP/team-policy.yaml"
run 0 as "$B" plan "$TMP/r8.yaml" --top 1
has "$OUT" "policy: rule 'product-azure'"
run 0 as "$A" plan "$TMP/r8.yaml" --top 1
has "$OUT" "policy: rule 'anything'"
# a user in two teams: the plan says a launch needs the team
run 0 "$STRATUS" team add research carol
run 0 "$STRATUS" team add product carol
C=$("$STRATUS" token create carol-tok --user carol --role member 2>/dev/null)
run 0 as "$C" plan "$TMP/r8.yaml" --top 1
has "$ERR" "'carol' is in 2 teams: a launch needs the team"
run 0 "$STRATUS" team remove research carol
run 0 "$STRATUS" team remove product carol
run 0 "$STRATUS" policy clear
ok "the policy's team rules govern the plan of a spec whose team is the asker's; a user in two teams is told a launch needs one"
# --- /metrics: each team's quotas and their use, its spend, its fair share ---
M=$(curl -s --unix-socket "$SOCK" http://x/metrics)
has "$M" 'stratus_team_quota_gpus{team="research",accelerator="H100",cloud=""} 8'
has "$M" 'stratus_team_quota_used_gpus{team="product",accelerator="H100",cloud=""} 8'
has "$M" 'stratus_team_fair_share{team="research"}'
has "$M" 'stratus_team_month_spend_usd{team="product"}'
if command -v promtool >/dev/null; then
  if ! promtool check metrics <<<"$M" >"$TMP/promtool.out" 2>&1; then
    fail "promtool finds the exposition wrong: $(cat "$TMP/promtool.out")"
  fi
fi
ok "/metrics has each team's quotas, their use, its month's spend and its fair-share factor"

# product's job ends: room frees, the waiting research job is admitted
run 0 "$STRATUS" cancel "$P8"
wait_for sh -c "$STRATUS status $R8 --json | grep -q '\"RUNNING\"' || $STRATUS status $R1 --json | grep -q '\"RUNNING\"'"
ok "when product's job ends, research's waiting job is admitted"

# --- services belong to a team too ---
cat >"$TMP/svc.yaml" <<'Y'
name: r-svc
resources: {accelerators: "H100:1"}
service: {readiness_probe: /, replicas: 1}
run: exec python3 -m http.server $PORT
Y
run 0 as "$A" serve up "$TMP/svc.yaml" --open
api "$B" GET /v1/services/r-svc; [ "$CODE" = 404 ] || fail "bob sees research's service: $CODE"
api "$B" DELETE /v1/services/r-svc; [ "$CODE" = 404 ] || fail "bob took research's service down: $CODE"
api "$B" GET /v1/services
hasnt "$OUT" r-svc
api "$A" GET /v1/services/r-svc; [ "$CODE" = 200 ] || fail "alice cannot see her service: $CODE"
# an update keeps its team: a spec naming another team would put the
# replicas under that team's quota and rules, out of its members' sight
sed 's/^name: r-svc$/name: r-svc\nstratus: {team: product}/' "$TMP/svc.yaml" >"$TMP/svc-product.yaml"
run 2 as "$A" serve update r-svc "$TMP/svc-product.yaml"
has "$ERR" "the spec names team 'product', but service 'r-svc' is team 'research's (a service keeps its team"
sed 's/^name: r-svc$/name: r-svc\nstratus: {team: research}/' "$TMP/svc.yaml" >"$TMP/svc-research.yaml"
run 0 as "$A" serve update r-svc "$TMP/svc-research.yaml"
run 0 as "$A" serve down r-svc
ok "a service is its team's: invisible to another team's token (404); an update keeps its team"

# --- a hard budget stops admission ---
run 0 "$STRATUS" team set-quota product --budget 0.0001 --limit hard
cat >"$TMP/b1.yaml" <<'Y'
name: p-small
resources: {accelerators: "H100:1"}
run: sleep 600
Y
run 0 as "$B" launch "$TMP/b1.yaml" --detach
PB=$(sed -n 's/^job \([0-9]*\) submitted$/\1/p' <<<"$OUT")
wait_for sh -c "$STRATUS status $PB --json | grep -q 'budget for'"
run 0 "$STRATUS" status "$PB" --json
has "$OUT" "waiting: team product spent"
has "$OUT" "(hard limit)"
ok "a team past its hard monthly budget: new work waits, naming the budget"
run 0 "$STRATUS" cost --by team --month "$(date -u +%Y-%m)"
has "$OUT" "FORECAST"
has "$OUT" product
# past its budget already: said so, not "by month end" (helper-103)
grep -Eq "^product .* over budget$" <<<"$OUT" || fail "product is over its budget now: $OUT"
run 0 "$STRATUS" cost --by team --month "$(date -u +%Y-%m)" --json
[ "$(json '[r for r in j["rows"] if r["key"]=="product"][0]["budget_limit"]')" = hard ] || fail "no budget in the month's report: $OUT"
# what the budget counts (not storage) and what is left add up to the budget
[ "$(json '[abs(r["budget_spend_usd"] + r["remaining_usd"] - r["budget_usd"]) < 1e-9 and r["budget_spend_usd"] == r["usd"] - r["storage_usd"] for r in j["rows"] if r["key"]=="product"][0]')" = True ] ||
  fail "budget spend + left must be the budget: $OUT"
# a month in which no team spent anything: each team with a budget is
# listed, all of its budget left (helper-103: the table was empty)
run 0 "$STRATUS" cost --by team --month 2020-01 --json
[ "$(json '[(r["key"], r["usd"], r["remaining_usd"] == r["budget_usd"]) for r in j["rows"] if r["key"] == "product"]')" = "[('product', 0.0, True)]" ] ||
  fail "a team with a budget and no spend in the month: $OUT"
run 0 "$STRATUS" cost --by team --month 2020-01
has "$OUT" "product"
run 2 "$STRATUS" cost --month 2026-13x
ok "cost --by team --month: spend, budget and forecast per team (a team that spent nothing too)"

echo "$checks checks passed"
