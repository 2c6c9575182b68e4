#!/usr/bin/env bash
# Black-box tests of committed capacity: simulate and keep the stores, ask
# `stratus advise commitments` what to commit to from the azure-ondemand
# run's usage, simulate again with that commitments file, and check that the
# runs use the committed nodes (never more at once than committed), that each
# run and the bound pay the same fixed cost, shown apart in the cost split;
# then bad input.
. "$(dirname "$0")/lib.sh"
EX="$SOURCE_DIR/examples"

small_workload "$TMP/w.csv" # 300 jobs over two days (lib.sh)
SIM=("$STRATUS" simulate --workload "$TMP/w.csv" --fleet "$EX/sim/fleet.csv" --org-policy "$EX/policy.yaml")

run 0 "${SIM[@]}" --policies azure-ondemand,stratus --keep-stores "$TMP/st1" --json
[ "$(json 'all(r["cost_split"]["commitments"] == 0 for r in j)')" = True ] ||
  fail "no commitments, no commitment cost: $OUT"
ok "simulate without commitments: the cost split's commitments are 0"

run 0 "$STRATUS" advise commitments --store "$TMP/st1/azure-ondemand.db" --json --out "$TMP/c.csv"
echo "$OUT" >"$TMP/advice.json"
[ "$(json 'j["hours"] > 40')" = True ] || fail "two days of usage expected: $OUT"
[ "$(json '[(r["term"], round(r["discount"], 2)) for r in j["recommendations"] if r["instance_type"] == "Standard_ND96isr_H100_v5"]')" = \
  "[('1y', 0.32), ('3y', 0.72)]" ] || fail "ND H100 v5 at Azure's two published levels: $OUT"
[ "$(json 'all(abs(r["break_even_utilisation"] - (1 - r["discount"])) < 1e-9 for r in j["recommendations"])')" = True ] ||
  fail "break-even utilisation is 1 - discount: $OUT"
[ "$(json 'all(r["nodes"] == 0 or r["utilisation"] >= r["break_even_utilisation"] for r in j["recommendations"])')" = True ] ||
  fail "committed nodes are used at least at break-even: $OUT"
[ "$(json 'all(r["saving_per_month"] >= 0 and (r["nodes"] > 0) == (r["saving_per_month"] > 0) for r in j["recommendations"])')" = True ] ||
  fail "a recommendation saves money exactly when it commits nodes: $OUT"
[ "$(json '[r for r in j["recommendations"] if r["term"] == "3y"][0]["nodes"] >= [r for r in j["recommendations"] if r["term"] == "1y"][0]["nodes"]')" = True ] ||
  fail "a deeper discount never commits fewer nodes: $OUT"
has "$ERR" "commitments (1y, starting 2024-01-01) to $TMP/c.csv"
has "$(head -1 "$TMP/c.csv")" "cloud,region,zone,instance_type,nodes,term,start,discount"
has "$(cat "$TMP/c.csv")" "azure,eastus,,Standard_ND96isr_H100_v5,"
ND=$(awk -F, '$4 == "Standard_ND96isr_H100_v5" {print $5}' "$TMP/c.csv")
[ "${ND:-0}" -ge 1 ] || fail "some ND H100 v5 nodes to commit: $(cat "$TMP/c.csv")"
ok "advise: nodes per offer at each published level, break-even = 1 - discount, the 1y file"

run 0 "$STRATUS" advise commitments --store "$TMP/st1/azure-ondemand.db"
has "$OUT" "BREAK"
has "$OUT" "azure/eastus Standard_ND96isr_H100_v5"
# where the levels come from, and a short window, said under the table
# (helper-103)
has "$OUT" "DISC azure 1y 32% (reserved VM instance) is an assumption (no published level: docs/commitments.md): ask azure for the lab's rate (--discount)."
has "$OUT" "DISC azure 3y 72% (reserved VM instance) is the published \"up to\" level, an upper bound"
has "$OUT" "The usage seen covers "
run 0 "$STRATUS" advise commitments --store "$TMP/st1/azure-ondemand.db" --discount 50% --term 3y
hasnt "$OUT" "DISC azure" # the lab's own rate: nothing to say of it
run 0 "$STRATUS" advise commitments --store "$TMP/st1/azure-ondemand.db" --discount 50% --term 3y --json
[ "$(json 'all(r["term"] == "3y" and r["discount"] == 0.5 for r in j["recommendations"])')" = True ] ||
  fail "--discount replaces the levels: $OUT"
ok "advise: the table, and --discount with --term"

# Backfill counts only the spot work the org rule lets run where the offer
# is: with the lab's policy the stratus run's spot H100 work fills part of
# the ND H100 v5 commitment; with one that keeps every job on aws, none.
ND3='[r for r in j["recommendations"] if r["instance_type"] == "Standard_ND96isr_H100_v5" and r["term"] == "3y"][0]'
run 0 "$STRATUS" advise commitments --store "$TMP/st1/stratus.db" --json --org-policy "$EX/policy.yaml"
[ "$(json "$ND3[\"backfill_utilisation\"] > 0 and $ND3[\"backfill_price_hour\"] > 0")" = True ] ||
  fail "the lab's policy lets spot H100 work backfill Azure: $OUT"
LAB=$(json "$ND3[\"nodes\"]")
printf 'rules:\n  - name: aws-only\n    allow: [aws]\n' >"$TMP/aws-only.yaml"
run 0 "$STRATUS" advise commitments --store "$TMP/st1/stratus.db" --json --org-policy "$TMP/aws-only.yaml"
[ "$(json "$ND3[\"backfill_utilisation\"] == 0 and $ND3[\"backfill_price_hour\"] == 0 and $ND3[\"nodes\"] < $LAB")" = True ] ||
  fail "work the policy keeps on aws backfills no Azure commitment, so fewer nodes than $LAB: $OUT"
ok "advise: backfill only from spot work its org rule allows on the offer"

run 0 "${SIM[@]}" --commitments "$TMP/c.csv" --keep-stores "$TMP/st2" --json \
  --policies stratus,azure-ondemand,spot-else-ondemand,offline-bound
[ "$(json 'len(set(round(r["cost_split"]["commitments"] if not r["lower_bound"] else r["commitments"], 6) for r in j)) == 1 and j[0]["cost_split"]["commitments"] > 0')" = True ] ||
  fail "every run and the bound pay the same commitments: $OUT"
[ "$(json 'all(abs(sum(r["cost_split"].values()) - r["cost"]) < 1e-6 * r["cost"] for r in j if not r["lower_bound"])')" = True ] ||
  fail "the cost split adds up to the cost: $OUT"
[ "$(json 'all(r["cost"] >= j[3]["cost"] - 1e-6 for r in j)')" = True ] || fail "the bound stays below every run: $OUT"
ok "simulate --commitments: the fixed cost apart, the same for every run and the bound"
echo "$OUT" >"$TMP/sim2.json"
[ "$(json 'len(set(round(r["commitment_use"]["node_hours"], 6) for r in j)) == 1')" = True ] ||
  fail "every run and the bound hold the same committed node-hours: $OUT"
[ "$(json 'all(0 < r["commitment_use"]["used_node_hours"] <= r["commitment_use"]["node_hours"] + 1e-9 and abs(r["commitment_use"]["utilisation"] * r["commitment_use"]["node_hours"] - r["commitment_use"]["used_node_hours"]) < 1e-6 for r in j)')" = True ] ||
  fail "commitment use: some, at most what is committed: $OUT"

# The runs used the committed nodes, never more at once than committed, at no
# marginal cost.
python3 - "$TMP/st2" "$ND" <<'PY' || fail "committed attempts"
import json, sqlite3, sys
d, nd = sys.argv[1], int(sys.argv[2])
for pol in ("stratus", "azure-ondemand", "spot-else-ondemand"):
    db = sqlite3.connect(f"{d}/{pol}.db")
    rows = db.execute("select launched_at, ended_at, nodes, cost, egress from attempts "
                      "where mode = 2 and instance_type = 'Standard_ND96isr_H100_v5'").fetchall()
    assert rows, f"{pol}: no attempt on the committed ND H100 v5 nodes"
    ev = sorted([(a, n) for a, e, n, c, g in rows] + [(e, -n) for a, e, n, c, g in rows],
                key=lambda x: (x[0], x[1]))
    cur = top = 0
    for _, n in ev:
        cur += n
        top = max(top, cur)
    assert top <= nd, f"{pol}: {top} committed nodes at once, {nd} committed"
    assert all(abs(c - g) < 1e-9 for a, e, n, c, g in rows), f"{pol}: committed compute is prepaid"
    # the committed nodes at work include at least the committed attempts' own runs
    own = db.execute("select sum(nodes * (ended_at - running_at)) / 3600.0 from attempts "
                     "where mode = 2 and running_at > 0").fetchone()[0]
    use = [r for r in json.load(open(f"{d}/../sim2.json")) if r["policy"] == pol][0]["commitment_use"]
    assert own <= use["used_node_hours"] + 1e-6, f"{pol}: {own} committed node-hours ran, {use} said"
PY
ok "simulate --commitments: every policy uses the committed nodes, never more than committed"

run 0 "${SIM[@]}" --commitments "$TMP/c.csv" --policies azure-ondemand,offline-bound
has "$OUT" "COMMITMENTS"
has "$OUT" "COST SPLIT"
has "$OUT" "COMMIT-USE"
ok "simulate --commitments: the table's cost split"

# Bad input.
printf 'cloud,region,zone,instance_type,nodes,term,start,discount\nazure,eastus,,Standard_ND96isr_H100_v5,2,1y,2024-01-01,2.5\n' >"$TMP/bad.csv"
run 2 "${SIM[@]}" --commitments "$TMP/bad.csv" --policies stratus
has "$ERR" "bad.csv:2:56: column 'discount': '2.5' is not a fraction in [0, 1)"
printf 'cloud,region,zone,instance_type,nodes,start,discount\nazure,eastus,,ND_H100,2,2024-01-01,0.3\n' >"$TMP/bad2.csv"
run 2 "${SIM[@]}" --commitments "$TMP/bad2.csv" --policies stratus
has "$ERR" "bad2.csv:2:15: no offer ND_H100 in azure/eastus to commit to"
run 2 "${SIM[@]}" --commitments "$TMP/none.csv" --policies stratus
has "$ERR" "none.csv"
# a header and no rows is no commitments, said so (a study meant to have some)
printf 'cloud,region,zone,instance_type,nodes,term,start,discount\n' >"$TMP/empty.csv"
run 0 "${SIM[@]}" --commitments "$TMP/empty.csv" --policies azure-ondemand
has "$ERR" "warning: $TMP/empty.csv has no commitments (a header and no rows)"
hasnt "$OUT" "COMMIT-USE"
# commitments the study cannot use are charged all the same: said, by line
printf 'cloud,region,zone,instance_type,nodes,term,start,discount\nazure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-06-01,0.3\nazure,eastus,,Standard_ND96isr_H100_v5,100000,1y,2024-01-01,0.3\nazure,eastus,,Standard_ND96isr_H100_v5,1,1y,2024-01-01,0.3\n' >"$TMP/unused.csv"
run 0 "${SIM[@]}" --commitments "$TMP/unused.csv" --policies azure-ondemand
has "$ERR" "warning: $TMP/unused.csv:2: this commitment is never in force while the workload runs (trace time 0 is 2024-01-01T00:00:00Z"
has "$ERR" "warning: $TMP/unused.csv:3: 100000 nodes committed of azure/eastus Standard_ND96isr_H100_v5, but the fleet has"
has "$ERR" "the rest cannot run, and are charged"
hasnt "$ERR" "unused.csv:4"
ok "simulate --commitments warns of a commitment never in force or beyond the fleet (file:line)"
run 2 "$STRATUS" simulate --service "$EX/serve-llm.yaml" --requests "$TMP/w.csv" --commitments "$TMP/c.csv"
has "$ERR" "simulate --service takes no --commitments"
run 2 "$STRATUS" advise commitments --store "$TMP/nothing.db"
has "$ERR" "no store at $TMP/nothing.db"
run 2 "$STRATUS" advise commitments --store "$TMP/st1/stratus.db" --discount 1.2
has "$ERR" "--discount takes a fraction in [0, 1)"
run 2 "$STRATUS" advise commitments --store "$TMP/st1/stratus.db" --term 2w
has "$ERR" "--term takes a term like 1y"
run 2 "$STRATUS" advise commitments --store "$TMP/st1/stratus.db" --term 2y --out "$TMP/none.csv"
has "$ERR" "no cloud publishes a discount for a 2y term"
[ ! -e "$TMP/none.csv" ] || fail "a term with no level wrote a file"
run 2 "$STRATUS" advise commitments --store "$TMP/st1/stratus.db" --org-policy "$TMP/nope.yaml"
has "$ERR" "nope.yaml: cannot open"
printf 'rules:\n  - name: x\n    allow: [nowhere]\n' >"$TMP/bad-policy.yaml"
run 2 "$STRATUS" advise commitments --store "$TMP/st1/stratus.db" --org-policy "$TMP/bad-policy.yaml"
has "$ERR" "bad-policy.yaml:3:13: unknown cloud 'nowhere'"
run 2 "$STRATUS" advise reservations
has "$ERR" "advise what?"
# usage only on a cloud that publishes no level (OCI): the message names it
printf 'rules:\n  - name: oci-only\n    allow: [oci]\n' >"$TMP/oci.yaml"
run 0 "$STRATUS" simulate --workload "$TMP/w.csv" --fleet "$EX/sim/fleet.csv" --org-policy "$TMP/oci.yaml" \
  --policies cheapest-ondemand --keep-stores "$TMP/st-oci"
run 2 "$STRATUS" advise commitments --store "$TMP/st-oci/cheapest-ondemand.db"
has "$ERR" "no discount level is published for the clouds the on-demand usage was on (oci;"
run 2 "$STRATUS" advise commitments --store "$TMP/st1/azure-ondemand.db" --out "$TMP/no/such/dir/c.csv"
has "$ERR" "cannot write --out $TMP/no/such/dir/c.csv: No such file or directory"
[ -z "$OUT" ] || fail "an --out that cannot be written is said before the table: $OUT"
ok "bad input: file:line:col for the commitments file, and the advisor's options"

# --- a server whose catalog has commitments: plan shows the committed nodes
# free now, and full once a job holds them ---
cp -r "$SOURCE_DIR/tests/data/catalog-mini" "$TMP/ccat"
printf 'cloud,region,zone,instance_type,count,start,end,price_hour\nazure,eastus,,Standard_ND96isr_H100_v5,1,2026-01-01,2036-01-01,60.00\n' \
  >"$TMP/ccat/commitments.csv"
use_home "$TMP/ccat"
printf 'name: gang\nresources: {accelerators: H100:8, cloud: azure, use_spot: false}\nrun: sleep 600\n' >"$TMP/gang.yaml"
run 0 "$STRATUS" plan "$TMP/gang.yaml"
has "$OUT" "committed"
has "$ERR" "  1  has room: the first in order"
hasnt "$ERR" "runs no drivers"
id=$(launch_detached "$TMP/gang.yaml")
wait_state "$id" RUNNING 60
[ "$(job_field "$id" 'j["placement"]["mode"]')" = committed ] || fail "the job runs on the committed node: $("$STRATUS" status "$id")"
run 0 "$STRATUS" plan "$TMP/gang.yaml"
has "$ERR" "  1  full: 0 free, 1 needed"
# a launch's preview says so too, and where the job would go now (it quoted
# the committed node's \$0.00 and the job then paid on demand: helper-103)
id2=$(launch_detached "$TMP/gang.yaml")
OUT=$(cat "$TMP/launch.out")
grep -Eq "^  best azure/eastus 1 x Standard_ND96isr_H100_v5 committed, .*\(full now: 0 of the 1 node free\)$" <<<"$OUT" ||
  fail "launch's preview of a full commitment: $OUT"
grep -Eq "^  (then|first with room now:) .* on-demand, " <<<"$OUT" || fail "launch's preview: where it goes now: $OUT"
run 0 "$STRATUS" cancel "$id2"
run 0 "$STRATUS" cancel "$id"
wait_state "$id" CANCELLED 30
ok "plan on a server with commitments: the committed nodes free now, then full while a job holds them"

# --- the cost report counts the commitment's fee, used or not: 1 node at
# $60/node-h over March 2026's 744 hours is $44,640 ---
run 0 "$STRATUS" cost --month 2026-03 --json
[ "$(json '[(r["key"], round(r["commitment_usd"], 6), round(r["usd"], 6)) for r in j["rows"]], round(j["total"]["usd"], 6)')" = \
  "([('azure', 44640.0, 44640.0)], 44640.0)" ] || fail "March's fee in azure's row and the total: $OUT"
run 0 "$STRATUS" cost --by team --month 2026-03
grep -Eq '^\(commitments\) +\$44,640\.00 ' <<<"$OUT" || fail "by team, the fee on a line of its own: $OUT"
grep -Eq '^total +\$44,640\.00 ' <<<"$OUT" || fail "by team, the fee in the total: $OUT"
run 0 "$STRATUS" cost
has "$OUT" "COMMITMENTS"
[ "$(awk '$1 == "azure" { gsub(/[$,]/, "", $6); print ($6 > 44640) }' <<<"$OUT")" = 1 ] ||
  fail "all time, azure's row holds the fee since January: $OUT"
ok "cost: a commitment's fee by the hour, in its cloud's row, by team on a line of its own"

# --- commitments.csv is read when the server starts: a larger one after a
# restart; a fee in the millions keeps the table's columns in line; one
# with no start is counted from the server's first job, not from 1970 ---
"$STRATUS" controller stop >/dev/null 2>&1 || true
printf 'cloud,region,zone,instance_type,nodes,start,end,price_hour\nazure,eastus,,Standard_ND96isr_H100_v5,4,2026-01-01,2036-01-01,500.00\nazure,eastus,,Standard_ND96isr_H100_v5,1,,,1.00\n' \
  >"$TMP/ccat/commitments.csv"
run 0 "$STRATUS" cost --json
first=$(python3 -c "import json,sys; print(min(r['submitted_at'] for r in json.load(sys.stdin)))" \
  < <("$STRATUS" status --json))
[ "$(json '[(c["line"], c["start"] is None, round(c["counted_from"]) == round('"$first"')) for c in j["commitments"]]')" = \
  "[(2, False, False), (3, True, True)]" ] || fail "the start-less commitment counted from the first job ($first): $OUT"
# what of the fees is from before the server's first job: 4 nodes at $500 an
# hour from 2026-01-01 for the first row, none for the start-less one
[ "$(json '[round(c["usd_before_first_job"] / (2000 * ('"$first"' - 1767225600) / 3600), 6) for c in j["commitments"]] + [round(j["commitments"][0]["first_job_at"]) == round('"$first"')]')" =   "[1.0, 0.0, True]" ] || fail "the fees from before the first job ($first): $OUT"
run 0 "$STRATUS" cost
grep -Eq "^\(\\\$[0-9,]+\.[0-9]{2} of COMMITMENTS is from before this server's first job, 20[0-9-]+ [0-9:]+ UTC: commitments.csv's start says since when each is counted\)$" <<<"$OUT" ||
  fail "cost: no note of the fees from before the first job: $OUT"
for args in "" "--by team" "--by team --month 2026-03" "--by job"; do
  run 0 "$STRATUS" cost $args
  python3 - "$OUT" <<'PY' || fail "cost $args: the money columns are not in line: $OUT"
import sys
lines = [l for l in sys.argv[1].splitlines() if l and not l.startswith("(STOPPED") and not l.startswith("(COMMITMENTS")]
table = lines[:lines.index(next(l for l in lines if l.startswith("total"))) + 1]
for col in ("COST", "COMMITMENTS"):
    end = table[0].index(col) + len(col)
    assert all(l[end - 1] != " " and (len(l) == end or l[end] == " ") for l in table), (col, table)
PY
done
has "$OUT" "\$"
ok "cost: commitments.csv read at the server's start; columns in line past \$1,000,000; no start: from the first job"
