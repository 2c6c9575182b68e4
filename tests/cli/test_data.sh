#!/usr/bin/env bash
# Data gravity end to end (docs/data.md): a server on the local clouds runs a
# job away from its data and `stratus data ls` shows the replica, where it
# came from and what it cost; a job on the same named dataset in that region
# moves nothing.  In the simulator: the replicas a run made add up to its
# egress and storage, shared datasets move less data, the bound stays below,
# and `data ls --store` reads a kept store.  Bad input is refused.
. "$(dirname "$0")/lib.sh"
use_home
cp "$SOURCE_DIR/catalog/storage.csv" "$STRATUS_CATALOG/" # keeping replicas is billed (cost, data ls)
SERVER_PID=
trap '[ -z "$SERVER_PID" ] || kill -9 "$SERVER_PID" 2>/dev/null; stop_home; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
EX="$SOURCE_DIR/examples"
LOG="$TMP/server.log"
: >"$LOG"
local_server_conf
start_server

# --- a job away from its data makes a replica; the next job uses it ---
for n in 1 2; do
  cat >"$TMP/d$n.yaml" <<'YAML'
name: prep
resources: {cloud: gcp, region: us-central1, accelerators: A100-80GB:8}
stratus:
  data: {location: azure/eastus, size_gb: 200, dataset: corpus}
run: echo done
YAML
done
run 0 "$STRATUS" launch "$TMP/d1.yaml" --detach
J1=$(sed -n 's/.*job \([0-9]*\).*/\1/p' <<<"$OUT$ERR" | head -n 1)
[ -n "$J1" ] || fail "no job id in: $OUT $ERR"
wait_state "$J1" SUCCEEDED 60
run 0 "$STRATUS" data ls
has "$OUT" "corpus"
has "$OUT" "azure/eastus"
has "$OUT" "gcp/us-central1"
has "$OUT" "from azure/eastus by way of oci/us-ashburn-1" # the relay, as its event says
has "$OUT" "(the replicas kept now and what they cost; --all adds the deleted ones and what they cost)"
run 0 "$STRATUS" data ls --all
hasnt "$OUT" "--all adds"
run 0 "$STRATUS" data ls --json
[ "$(json 'len(j) == 1 and j[0]["dataset"] == "corpus" and j[0]["home"] == {"cloud": "azure", "region": "eastus"}')" = True ] ||
  fail "one dataset, at home in azure/eastus: $OUT"
[ "$(json 'len(j[0]["replicas"]) == 1 and j[0]["replicas"][0]["region"] == "us-central1"')" = True ] ||
  fail "one replica in us-central1: $OUT"
[ "$(json 'j[0]["replicas"][0]["via"]')" = "oci/us-ashburn-1" ] || fail "the replica's relay: $OUT"
EG=$(json 'j[0]["egress_usd"]')
# Azure's internet egress is $0.087/GB, but the interconnect to OCI Ashburn is
# free and OCI's egress $0.0085/GB: the data goes by way of OCI (docs/data.md)
python3 -c "import sys; e=float('$EG'); sys.exit(0 if abs(e - 200 * 0.0085) < 1e-6 else 1)" ||
  fail "the replica cost 200 GB x \$0.0085/GB (relayed through oci/us-ashburn-1), not $EG"
[ "$(job_field "$J1" 'round(j["attempts_detail"][-1]["egress"], 6)')" = "$(python3 -c "print(round(200 * 0.0085, 6))")" ] ||
  fail "the attempt that made it paid the egress: $("$STRATUS" status "$J1" --json)"
run 0 "$STRATUS" events "$J1"
has "$OUT" "copied to gcp/us-central1 from azure/eastus by way of oci/us-ashburn-1: \$1.70"
ok "data: a job away from its data makes one replica, relayed the cheapest way, shown by data ls"

# --- a running job's cost so far takes in the data move it paid ---
cat >"$TMP/runner.yaml" <<'YAML'
name: runner
resources: {cloud: gcp, region: us-central1, accelerators: A100-80GB:8}
stratus:
  data: {location: azure/eastus, size_gb: 100}
run: sleep 600
YAML
run 0 "$STRATUS" launch "$TMP/runner.yaml" --detach
JR=$(sed -n 's/.*job \([0-9]*\).*/\1/p' <<<"$OUT$ERR" | head -n 1)
[ -n "$JR" ] || fail "no job id in: $OUT $ERR"
wait_state "$JR" RUNNING 60
poll 30 eval '[ "$(job_field "$JR" "j[\"attempts_detail\"][-1][\"egress\"] > 0")" = True ]' ||
  fail "the running attempt paid no egress: $("$STRATUS" status "$JR" --json)"
run 0 "$STRATUS" cost --by job --json
[ "$(json '[r for r in j["rows"] if r["key"] == "'"$JR"'"][0]["egress_usd"] > 0.84')" = True ] ||
  fail "cost: the running job's egress (100 GB x \$0.0085): $OUT"
[ "$(json 'all(r["compute_usd"] >= 0 and r["usd"] >= r["egress_usd"] for r in j["rows"] + [j["total"]])')" = True ] ||
  fail "cost: compute is never negative, and a row's cost holds its egress: $OUT"
# the table's money columns add up: COST = COMPUTE + EGRESS + STORAGE +
# COMMITMENTS on every row (helper-103: compute was in --json only)
run 0 "$STRATUS" cost --by job
python3 - "$OUT" <<'PY' || fail "cost: the columns do not add up: $OUT"
import re, sys
lines = sys.argv[1].splitlines()
assert lines[0].split()[1:6] == ["COST", "COMPUTE", "EGRESS", "STORAGE", "COMMITMENTS"], lines[0]
rows = 0
for l in lines[1:]:
    m = [float(x.replace("$", "").replace(",", "")) for x in re.findall(r"-?\$[\d,]+\.\d\d", l)]
    if l.startswith("(") or len(m) < 5:
        continue
    assert abs(m[0] - sum(m[1:5])) < 0.015, l
    rows += 1
assert rows >= 2, rows  # a job's row and the total
PY
run 0 "$STRATUS" cost --by job --month "$(date -u +%Y-%m)" --json
[ "$(json 'all(r["compute_usd"] >= 0 and r["usd"] >= r["egress_usd"] for r in j["rows"] + [j["total"]])')" = True ] ||
  fail "cost --month: compute is never negative: $OUT"
run 0 "$STRATUS" status --json
[ "$(json '[x for x in j if x["id"] == '"$JR"'][0]["cost_so_far"] >= 0.85')" = True ] ||
  fail "status: the running job's cost so far holds its egress: $OUT"
run 0 "$STRATUS" status
grep -E "^ *$JR  " <<<"$OUT" | grep -qv ' \$0\.00 ' || fail "status lists the running job at \$0.00: $OUT"
run 0 "$STRATUS" status "$JR"
has "$OUT" "(data move \$0.85)"
run 0 "$STRATUS" cancel "$JR"
wait_state "$JR" CANCELLED 30
run 0 "$STRATUS" cost --by job --json
[ "$(json '[r for r in j["rows"] if r["key"] == "'"$J1"'"][0]["storage_usd"] > 0')" = True ] ||
  fail "cost: keeping the replica job $J1 made is in its row: $OUT"
[ "$(json 'abs(j["total"]["usd"] - j["total"]["compute_usd"] - j["total"]["egress_usd"] - j["total"]["storage_usd"]) < 1e-9')" = True ] ||
  fail "cost: compute, egress and storage add up to the total: $OUT"
COST_ST=$(json 'j["total"]["storage_usd"]')
run 0 "$STRATUS" data ls --all --json
python3 -c "import sys; c=float('$COST_ST'); d=float('$(json 'sum(d["storage_usd"] for d in j)')'); sys.exit(0 if 0 < c <= d + 1e-9 else 1)" ||
  fail "cost's storage ($COST_ST) is what data ls counted by then: $OUT"
run 0 "$STRATUS" cost
has "$OUT" "STORAGE"
ok "data: a running job's cost so far (status, cost, cost --month) holds the data move it paid"

# `plan` prices a shared dataset's new replica as the controller does: kept
# for the run (1 h assumed) and the dataset's time to live (7 days)
run 0 "$STRATUS" plan "$TMP/d1.yaml" --offline --catalog "$SOURCE_DIR/catalog" --json --top 1
python3 - "$OUT" "$SOURCE_DIR/catalog/storage.csv" <<'PY' || fail "plan's data cost: $OUT"
import csv, json, sys
j = json.loads(sys.argv[1])
c = (j[0] if isinstance(j, list) else j)["candidates"][0]
gcp = float([r for r in csv.DictReader(open(sys.argv[2])) if r["cloud"] == "gcp"][0]["price_per_gb_month"])
want = 200 * 0.0085 + 200 * gcp * (1 + 7 * 24) / 730
assert abs(c["expected_cost"] - c["hourly_cost"] - want) < 1e-3, (c, want)
# the move and the keeping apart (egress was both once)
assert abs(c["breakdown"]["egress"] - 200 * 0.0085) < 1e-3, c
assert abs(c["breakdown"]["storage"] - 200 * gcp * (1 + 7 * 24) / 730) < 1e-3, c
# and where from: the relay is named
assert c["breakdown"]["data_from"] == "azure/eastus", c
assert c["breakdown"]["data_via"] == ["oci/us-ashburn-1"], c
PY
run 0 "$STRATUS" plan "$TMP/d1.yaml" --offline --catalog "$SOURCE_DIR/catalog" --top 1
has "$OUT" "#1: from azure/eastus by way of oci/us-ashburn-1"
ok "plan: a shared dataset's relay and the replica's keeping priced as the controller does"

# a bad policy sent to the server is named by its file in the message
printf 'rules:\n  - spot: allow\n    patience: soon\n' >"$TMP/bad-pol.yaml"
for verb in plan launch; do
  run 2 "$STRATUS" $verb "$TMP/d1.yaml" --policy "$TMP/bad-pol.yaml"
  has "$ERR" "bad-pol.yaml:3:15: patience is how late a job may become waiting"
done
ok "policy: the server's message names the policy file (plan and launch)"

run 0 "$STRATUS" launch "$TMP/d2.yaml" --detach
J2=$(sed -n 's/.*job \([0-9]*\).*/\1/p' <<<"$OUT$ERR" | head -n 1)
wait_state "$J2" SUCCEEDED 60
[ "$(job_field "$J2" 'j["attempts_detail"][-1]["egress"]')" = "0.0" ] ||
  fail "the second job on the dataset moves nothing: $("$STRATUS" status "$J2" --json)"
run 0 "$STRATUS" data ls --json
[ "$(json 'len(j[0]["replicas"]) == 1')" = True ] || fail "still one replica: $OUT"
ok "data: a later job on the same dataset in that region pays no egress"
# plan, from the server, starts from the live replica, as the controller did
run 0 "$STRATUS" plan "$TMP/d2.yaml" --json --top 1
python3 - "$OUT" <<'PY' || fail "the server's plan must move nothing to the replica's region: $OUT"
import json, sys
j = json.loads(sys.argv[1])
c = (j[0] if isinstance(j, list) else j)["candidates"][0]
assert c["region"] == "us-central1", c
assert c["breakdown"]["egress"] == 0 and c["breakdown"].get("data_from") in (None, "gcp/us-central1"), c
PY

run 1 "$STRATUS" data ls --dataset nothing
has "$ERR" "no dataset 'nothing'"
run 2 "$STRATUS" data ls --store "$TMP/nosuch.db" # a mistyped path: said, not made
has "$ERR" "no store at $TMP/nosuch.db"
[ ! -e "$TMP/nosuch.db" ] || fail "data ls --store made a store at a mistyped path"
run 2 "$STRATUS" data ls --store "$TMP" # a directory (--keep-stores DIR): said so
has "$ERR" "$TMP is a directory: give --store the store file in it"
printf 'name: x\nresources: {accelerators: H100:8}\nstratus:\n  data: {location: azure/eastus, size_gb: 1, dataset: "a b"}\nrun: x\n' >"$TMP/bad.yaml"
run 2 "$STRATUS" launch "$TMP/bad.yaml" --detach
has "$ERR" "bad.yaml:4"
has "$ERR" "stratus.data.dataset"
# corpus is known at home in azure/eastus, 200 GB: another home or size
# under its name is refused, with where (the spec's data line) and what to do
printf 'name: y\nresources: {accelerators: H100:8}\nstratus:\n  data: {location: gcp/us-central1, size_gb: 5000, dataset: corpus}\nrun: x\n' >"$TMP/other.yaml"
run 2 "$STRATUS" launch "$TMP/other.yaml" --detach
has "$ERR" "other.yaml:4"
has "$ERR" "dataset 'corpus' is known with its home in azure/eastus (200 GB)"
has "$ERR" "name the new data differently"
run 2 "$STRATUS" plan "$TMP/other.yaml" # its plan would price corpus's copies: refused alike
has "$ERR" "dataset 'corpus' is known with its home in azure/eastus (200 GB)"
sed -i 's|gcp/us-central1, size_gb: 5000|azure/eastus, size_gb: 201|' "$TMP/other.yaml"
run 2 "$STRATUS" launch "$TMP/other.yaml" --detach
has "$ERR" "this spec says azure/eastus (201 GB)"
# a typo in a known dataset's location is a typo, not new data
sed 's|azure/eastus, size_gb: 201|azure/east-us, size_gb: 200|' "$TMP/other.yaml" >"$TMP/typo.yaml"
for verb in launch plan; do
  run 2 "$STRATUS" $verb "$TMP/typo.yaml"
  has "$ERR" "typo.yaml:4"
  has "$ERR" "'azure/east-us' is not a region in the catalog; did you mean 'eastus'?"
  hasnt "$ERR" "name the new data differently"
done
printf 'name: s\nresources: {accelerators: H100:8}\nstratus:\n  data: {location: gcp/us-central1, size_gb: 5000, dataset: corpus}\nservice: {readiness_probe: /health, replicas: 1}\nrun: x\n' >"$TMP/svc.yaml"
run 2 "$STRATUS" serve up "$TMP/svc.yaml" # a service's replicas are held to it too
has "$ERR" "svc.yaml:4"
has "$ERR" "dataset 'corpus' is known with its home in azure/eastus (200 GB)"
# a pipeline's stages, which the store knows nothing of yet, must agree
cat >"$TMP/pipe.yaml" <<'YAML'
name: p
---
name: s1
resources: {accelerators: A100-80GB:8}
stratus: {data: {location: azure/eastus, size_gb: 200, dataset: fresh}}
run: x
---
name: s2
resources: {accelerators: A100-80GB:8}
stratus: {data: {location: gcp/us-central1, size_gb: 999, dataset: fresh}}
run: x
YAML
run 2 "$STRATUS" launch "$TMP/pipe.yaml" --detach
has "$ERR" "stage 's1' gives dataset 'fresh' its home in azure/eastus (200 GB); stage 's2' says gcp/us-central1 (999 GB)"
run 2 "$STRATUS" plan "$TMP/pipe.yaml" # its plan is refused alike
has "$ERR" "stage 's1' gives dataset 'fresh' its home in azure/eastus (200 GB); stage 's2' says gcp/us-central1 (999 GB)"
# a dataset's home is known from its first submit, not its first placement:
# a conflicting spec is refused while the job that named it still waits (here
# the second stage of a serial pipeline, held behind a first that sleeps)
cat >"$TMP/held.yaml" <<'YAML'
name: h
---
name: first
resources: {cloud: gcp, region: us-central1, accelerators: A100-80GB:8}
run: sleep 3600
---
name: second
resources: {accelerators: A100-80GB:8}
stratus: {data: {location: azure/eastus, size_gb: 50, dataset: later}}
run: x
YAML
run 0 "$STRATUS" launch "$TMP/held.yaml" --detach
G=$(sed -n 's/.*group \([0-9]*\).*/\1/p' <<<"$OUT$ERR" | head -n 1)
[ -n "$G" ] || G=$(sed -n 's/.*job \([0-9]*\).*/\1/p' <<<"$OUT$ERR" | head -n 1)
[ -n "$G" ] || fail "no group id in: $OUT $ERR"
run 0 "$STRATUS" data ls --dataset later --json
[ "$(json 'len(j) == 1 and j[0]["home"] == {"cloud": "azure", "region": "eastus"} and j[0]["replicas"] == []')" = True ] ||
  fail "'later' is known at its home from the submit, with no replica: $OUT"
printf 'name: z\nresources: {accelerators: H100:8}\nstratus:\n  data: {location: gcp/us-central1, size_gb: 50, dataset: later}\nrun: x\n' >"$TMP/later.yaml"
run 2 "$STRATUS" launch "$TMP/later.yaml" --detach
has "$ERR" "later.yaml:4"
has "$ERR" "dataset 'later' has its home in azure/eastus (50 GB), as job "
has "$ERR" "gave it before any job ran on it"
has "$ERR" "if that spec is the wrong one, \`stratus cancel "
has "$ERR" "and the name is free once nothing waits on it"
[ "$(job_field "$G" 'j["state"]')" != SUCCEEDED ] || fail "the pipeline's first stage ended early"
# cancelled before any job ran on it, the home is forgotten: the name is free
run 0 "$STRATUS" cancel "$G"
_forgotten() { ! "$STRATUS" data ls --dataset later >/dev/null 2>&1; }
poll 30 _forgotten || fail "'later' still known after its only job was cancelled: $("$STRATUS" data ls)"
run 0 "$STRATUS" plan "$TMP/later.yaml" --top 1
run 0 "$STRATUS" data ls --all --json
[ "$(json '[(d["home"], d["home_forgotten_at"] > 0) for d in j if d["dataset"] == "later"] == [({"cloud": "azure", "region": "eastus"}, True)]')" = True ] ||
  fail "data ls --all keeps the forgotten home, marked: $OUT"
run 0 "$STRATUS" data ls --all --dataset later
has "$OUT" "azure/eastus (forgotten)"
# a service with no replica yet records its home at serve up
printf 'name: s0\nresources: {accelerators: H100:8}\nstratus:\n  data: {location: azure/eastus, size_gb: 10, dataset: svcd}\nservice:\n  readiness_probe: /health\n  replica_policy: {min_replicas: 0, max_replicas: 1}\nrun: x\n' >"$TMP/svc0.yaml"
run 0 "$STRATUS" serve up "$TMP/svc0.yaml" --open
printf 'name: c\nresources: {accelerators: H100:8}\nstratus:\n  data: {location: gcp/us-central1, size_gb: 99, dataset: svcd}\nrun: x\n' >"$TMP/svcd.yaml"
run 2 "$STRATUS" launch "$TMP/svcd.yaml" --detach
has "$ERR" "dataset 'svcd' has its home in azure/eastus (10 GB), as service 's0' gave it"
has "$ERR" "\`stratus serve down s0\`"
# a job on it cancelled before it ran does not free a home a live service holds
sed 's|dataset: later|dataset: svcd|; s|size_gb: 50|size_gb: 10|' "$TMP/held.yaml" >"$TMP/held2.yaml"
run 0 "$STRATUS" launch "$TMP/held2.yaml" --detach
H1=$(sed -n "s/^  stage 1 'first': job \([0-9]*\)$/\1/p" <<<"$OUT")
H2=$(sed -n "s/^  stage 2 'second': job \([0-9]*\)$/\1/p" <<<"$OUT")
[ -n "$H1" ] && [ -n "$H2" ] || fail "no stage ids in: $OUT"
run 0 "$STRATUS" cancel "$H1"
wait_state "$H2" CANCELLED 30
run 2 "$STRATUS" launch "$TMP/svcd.yaml" --detach
has "$ERR" "dataset 'svcd' has its home in azure/eastus (10 GB)"
# once the service is down, with no job ever run on it, its home is forgotten
run 0 "$STRATUS" serve down s0
_svc_forgotten() { ! "$STRATUS" data ls --dataset svcd >/dev/null 2>&1; }
poll 30 _svc_forgotten || fail "'svcd' still known after its service went down: $("$STRATUS" data ls)"
run 0 "$STRATUS" serve status s0 --json
has "$OUT" '"DOWN"'
run 0 "$STRATUS" plan "$TMP/svcd.yaml" --top 1
# an update may move a home nothing ran on yet, which only its service
# holds; one that names other data frees the old name at once
sed 's|name: s0|name: s1|; s|dataset: svcd|dataset: upd|' "$TMP/svc0.yaml" >"$TMP/s1.yaml"
sed 's|location: azure/eastus|location: gcp/us-central1|' "$TMP/s1.yaml" >"$TMP/s1b.yaml"
sed 's|dataset: upd|dataset: upd2|' "$TMP/s1.yaml" >"$TMP/s1c.yaml"
run 0 "$STRATUS" serve up "$TMP/s1.yaml" --open
run 0 "$STRATUS" serve update s1 "$TMP/s1b.yaml"
run 0 "$STRATUS" data ls --dataset upd --json
[ "$(json 'j[0]["home"] == {"cloud": "gcp", "region": "us-central1"}')" = True ] ||
  fail "the update moved the home of 'upd' to gcp/us-central1: $OUT"
run 0 "$STRATUS" serve update s1 "$TMP/s1c.yaml"
run 1 "$STRATUS" data ls --dataset upd
run 0 "$STRATUS" data ls --dataset upd2
run 0 "$STRATUS" serve down s1
run 2 "$STRATUS" data
has "$ERR" "usage: stratus data ls"
ok "data: unknown datasets, bad names and a known dataset's name with another home or size are refused with what to do"

# --- the simulator: the same code, accounted ---
awk 'BEGIN {
  srand(9); print "submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s,checkpoint_s,data_location,data_gb,spot_ok,priority,dataset"
  for (i = 0; i < 200; i++) {
    g = rand() < 0.6 ? 1 : 8; d = int(1800 + rand() * 6 * 3600)
    ds = "set" (i % 5)
    printf "%d,j%d,lab,batch,%s,%d,%d,,1800,azure/eastus,%d,,,%s\n", i * 900, i, (g >= 8 ? "H100" : "A100-80GB"), g, d, 300, ds
  }
}' >"$TMP/shared.csv"
cut -d, -f1-13 "$TMP/shared.csv" >"$TMP/own.csv"
for w in shared own; do
  mkdir -p "$TMP/keep-$w"
  run 0 "$STRATUS" simulate --catalog "$SOURCE_DIR/catalog" --workload "$TMP/$w.csv" --fleet "$EX/sim/fleet.csv" \
    --spot "$EX/sim/spot-skypilot.csv" --org-policy "$EX/policy.yaml" \
    --policies stratus,spot-else-ondemand,offline-bound --keep-stores "$TMP/keep-$w" --json
  echo "$OUT" >"$TMP/$w.json"
  [ "$(json 'all(r["cost"] >= j[2]["cost"] - 1e-6 for r in j)')" = True ] || fail "$w: the bound is below every policy: $OUT"
  [ "$(json 'abs(sum(j[0]["cost_split"].values()) - j[0]["cost"]) < 1e-6 * j[0]["cost"]')" = True ] ||
    fail "$w: the cost split adds up: $OUT"
  run 0 "$STRATUS" data ls --all --json --store "$TMP/keep-$w/stratus.db"
  echo "$OUT" >"$TMP/$w-data.json"
done
python3 - "$TMP" <<'PY' || fail "simulated replicas do not match the run's egress"
import json, sys
t = sys.argv[1]
for w in ("shared", "own"):
    run = json.load(open(f"{t}/{w}.json"))[0]
    ds = json.load(open(f"{t}/{w}-data.json"))
    eg = sum(d["egress_usd"] for d in ds)
    assert abs(eg - run["cost_split"]["egress"]) < 1e-6 * max(1, eg), (w, eg, run["cost_split"])
    for d in ds:
        for r in d["replicas"]:
            assert r["expired_at"] > 0 or not d["dataset"].startswith("job:"), (w, d)
    if w == "shared":
        assert len(ds) <= 5 and all(not d["dataset"].startswith("job:") for d in ds), ds
        # a region has one copy at a time (a copy made again after the TTL
        # deleted one is a copy of its own, after it)
        spans = {}
        for d in ds:
            for r in d["replicas"]:
                spans.setdefault((d["dataset"], r["cloud"], r["region"]), []).append(
                    (r["created_at"], r["expired_at"] or float("inf")))
        for k, v in spans.items():
            v.sort()
            for a, b in zip(v, v[1:]):
                assert a[1] <= b[0], ("a dataset copied twice to one region at once", k, v)
sh, own = (json.load(open(f"{t}/{w}.json"))[0]["cost_split"]["egress"] for w in ("shared", "own"))
assert sh < own, (sh, own)
print("shared egress %.0f < own %.0f" % (sh, own))
PY
ok "simulate: replicas account for the run's egress, shared datasets move less, the bound stays below"

# a dataset is one set of data in a workload too: line 3 (set1's first row)
# gives set1 another home, so set1's next row (line 8) is refused, naming it
awk -F, -v OFS=, 'NR == 3 {$10 = "gcp/us-central1"} {print}' "$TMP/shared.csv" >"$TMP/clash.csv"
run 2 "$STRATUS" simulate --catalog "$SOURCE_DIR/catalog" --workload "$TMP/clash.csv" --fleet "$EX/sim/fleet.csv" --policies stratus
has "$ERR" "clash.csv:8: dataset 'set1' is at gcp/us-central1 (300 GB) on line 3, at azure/eastus (300 GB) here"
ok "simulate: a workload row giving a dataset another home is an error at its line"

run 2 "$STRATUS" data rm imagenet
has "$ERR" "stratus data: unknown subcommand 'rm' (there is ls)"
run 2 "$STRATUS" data ls --dataset
has "$ERR" "stratus data ls: --dataset needs a value"
run 2 "$STRATUS" data ls --bogus
has "$ERR" "stratus data ls: unknown option '--bogus'"
ok "data: an unknown subcommand or option, or one without its value, is said"
echo "# $checks checks"
