#!/usr/bin/env bash
# Every SkyPilot-format file at the top of tests/data/skypilot/ plans, onto the
# placement an independent check computes (tests/cli/skypilot_expect.py: a
# hand-written table of what each file asks for, and the cost rule applied to
# the catalog's CSV files).  Both read the same catalog ($STRATUS_CATALOG, else
# the bundled one) and no org policy applies: `--catalog` plans here without a
# server, and $STRATUS_POLICY is unset (a policy would be a constraint the
# check does not model).  Compared: cloud, region, zone, instance type, mode,
# price per node-hour and expected cost.
. "$(dirname "$0")/lib.sh"
unset STRATUS_POLICY STRATUS_API
CAT=${STRATUS_CATALOG:-$SOURCE_DIR/catalog}
DATA=$SOURCE_DIR/tests/data/skypilot
CHECK=$SOURCE_DIR/tests/cli/skypilot_expect.py

# The table covers exactly the files there: a new file needs its row.
ls "$DATA"/*.yaml | xargs -n1 basename | sort >"$TMP/files"
python3 "$CHECK" --list >"$TMP/table" || fail "skypilot_expect.py --list failed"
diff -u "$TMP/table" "$TMP/files" >"$TMP/d" ||
  fail "tests/data/skypilot/*.yaml and skypilot_expect.py's table differ (- table, + files): $(cat "$TMP/d")"
[ "$(wc -l <"$TMP/files")" -eq 16 ] || fail "16 files expected in $DATA, found $(wc -l <"$TMP/files")"
ok "the check's table covers the 16 files"

python3 "$CHECK" --catalog "$CAT" >"$TMP/expect.json" || fail "skypilot_expect.py failed on $CAT"

# compare NAME PLAN_JSON: the plan's first candidate against the check's answer.
compare() {
  python3 - "$1" "$TMP/expect.json" "$2" <<'PY'
import json, sys
name, expect_path, plan_path = sys.argv[1:]
want = json.load(open(expect_path))[name]
plan = json.load(open(plan_path))
if want is None:
    sys.exit(f"the check finds no feasible placement for {name} in the catalog, "
             "yet Stratus planned it (a check or catalog defect)")
got = plan["candidates"][0]
diffs = []
for k in ("cloud", "region", "zone", "instance_type", "mode"):
    if got.get(k) != want[k]:
        diffs.append(f"  {k}: stratus {got.get(k)!r}, check {want[k]!r}")
for k in ("price_hour", "expected_cost"):
    if abs(float(got.get(k, -1)) - want[k]) > 1.5e-4:
        diffs.append(f"  {k}: stratus {got.get(k)}, check {want[k]:.6f}")
if diffs:
    alts = "; ".join(f"{c['cloud']}/{c['region']}/{c['zone']} {c['instance_type']} "
                     f"{c['mode']} {c['expected_cost']}" for c in plan["candidates"][:3])
    sys.exit(f"{name}: placement differs from the check (alternative "
             f"{want['alternative']} of the table):\n" + "\n".join(diffs) +
             f"\n  stratus's top 3: {alts}")
print(f"{got['cloud']}/{got['region']}/{got['zone']} {got['instance_type']} "
      f"{got['mode']} ${got['price_hour']}/node-h")
PY
}

bad=0
while read -r f; do
  "$STRATUS" plan --catalog "$CAT" --json "$DATA/$f" >"$TMP/plan.json" 2>"$TMP/err"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: $f does not plan (exit $rc): $(grep -m1 '^stratus: ' "$TMP/err" || head -n1 "$TMP/err")" >&2
    bad=$((bad + 1))
    continue
  fi
  if where=$(compare "$f" "$TMP/plan.json" 2>"$TMP/cmp"); then
    ok "$f: $where"
  else
    echo "FAIL: $(cat "$TMP/cmp")" >&2
    bad=$((bad + 1))
  fi
done <"$TMP/files"
[ "$bad" -eq 0 ] || fail "$bad of 16 files did not plan onto the checked placement"
echo "all 16 files plan onto the placement the independent check computes ($checks checks)"
