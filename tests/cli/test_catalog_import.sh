#!/usr/bin/env bash
# test_catalog_import.sh - `stratus catalog import` as a user runs it: SkyPilot's
# full catalog files (shared/data/catalog/full) import to exactly the committed
# catalog/offers.csv, with CPU offers, every cloud (AWS from two extract files),
# the known defects corrected, GCP host+GPU prices added up (A2 and N1 hosts),
# GPU host VMs never listed as CPU offers, every offer region in regions.csv;
# an existing directory is not overwritten without --force, and malformed input
# fails with file:line and a non-zero exit.
#
# Environment: STRATUS (the binary), SOURCE_DIR (repository root),
# SHARED_DATA (../shared/data; the test is skipped when it is absent).
set -euo pipefail

: "${STRATUS:?set STRATUS to the stratus binary}"
: "${SOURCE_DIR:?set SOURCE_DIR to the repository root}"
SHARED_DATA=${SHARED_DATA:-$SOURCE_DIR/../shared/data}
raw=$SHARED_DATA/catalog/full
annot=$SOURCE_DIR/catalog/src

if [ ! -d "$raw" ]; then
  echo "SKIP: no reference data at $raw (SHARED_DATA is only present in development and CI)"
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stratus-import-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# 1. The import reproduces the committed catalog byte for byte.
"$STRATUS" catalog import --from skypilot "$raw" --out "$tmp/out" --annotations "$annot" \
  >"$tmp/report" || fail "import exited with $?: $(cat "$tmp/report")"
cmp -s "$tmp/out/offers.csv" "$SOURCE_DIR/catalog/offers.csv" ||
  fail "imported offers.csv differs from catalog/offers.csv (run tools/regenerate-catalog.sh?):
$(diff "$tmp/out/offers.csv" "$SOURCE_DIR/catalog/offers.csv" | head -20)"
grep -q '^dropped: ' "$tmp/report" || fail "the report has no drop counts: $(cat "$tmp/report")"

# 2. Azure ND96isr_H100_v5 has 8 H100s (upstream says 12).
counts=$(awk -F, '$4 == "Standard_ND96isr_H100_v5" { print $6 }' "$tmp/out/offers.csv" | sort -u)
[ -n "$counts" ] || fail "no Standard_ND96isr_H100_v5 offers"
[ "$counts" = "8" ] || fail "Standard_ND96isr_H100_v5 has accelerators_per_node '$counts', want 8"

# 3. GCP a2-highgpu-1g in asia-northeast1-a: host 0.94803 + A100x1 1.70586 = 2.65389;
#    spot 0.41783 + 1.2307 = 1.64853 (upstream raw rows, added by hand).
row=$(awk -F, '$3 == "asia-northeast1-a" && $4 == "a2-highgpu-1g"' "$tmp/out/offers.csv")
[ -n "$row" ] || fail "no a2-highgpu-1g offer in asia-northeast1-a"
price=$(echo "$row" | cut -d, -f12)
spot=$(echo "$row" | cut -d, -f13)
[ "$price" = "2.65389" ] || fail "a2-highgpu-1g asia-northeast1-a price_hour $price, want 2.65389"
[ "$spot" = "1.64853" ] || fail "a2-highgpu-1g asia-northeast1-a spot_price_hour $spot, want 1.64853"

out=$tmp/out/offers.csv

# 3b. Every cloud, with CPU offers (accelerator empty, count empty) and GPU offers.
for c in aws azure gcp lambda nebius oci; do
  n=$(awk -F, -v c="$c" '$1 == c && $5 == ""' "$out" | wc -l)
  g=$(awk -F, -v c="$c" '$1 == c && $5 != ""' "$out" | wc -l)
  [ "$n" -gt 0 ] && [ "$g" -gt 0 ] || fail "cloud $c: $n CPU offers and $g accelerator offers, want both > 0"
done
bad=$(awk -F, 'NR > 1 && $5 == "" && ($6 != "" || $8 == "" || $9 == "")' "$out" | head -3)
[ -z "$bad" ] || fail "CPU offers must have no accelerator count and a vcpus/memory shape: $bad"
# AWS is read from two files: its accelerator rows and its CPU families.
grep -q "aws/vms-accelerators.csv: 2274 rows" "$tmp/report" &&
  grep -q "aws/vms-cpu-general.csv: 4177 rows" "$tmp/report" ||
  fail "the report does not list both AWS files: $(grep '^read' "$tmp/report")"
# m6i.large in use1-az1 (a CPU row of vms-cpu-general.csv: 2.0, 8.0, 0.096, 0.039700)
row=$(awk -F, '$1 == "aws" && $3 == "use1-az1" && $4 == "m6i.large"' "$out")
[ "$row" = "aws,us-east-1,use1-az1,m6i.large,,,,2,8,,,0.096,0.0397" ] ||
  fail "aws m6i.large use1-az1: got '$row'"

# 3c. GCP GPU hosts (A2/A3/A4/G2) are never CPU offers; N1 types are, and also
#     carry T4 (n1-highmem-8 + T4 x1 = host + GPU row of the same zone).
hosts=$(awk -F, '$1 == "gcp" && $5 == "" && $4 ~ /^(a2|a3|a4|g2)-/' "$out" | head -3)
[ -z "$hosts" ] || fail "GPU host VMs listed as CPU offers: $hosts"
cpu=$(awk -F, '$1 == "gcp" && $3 == "us-central1-a" && $4 == "n1-highmem-8" && $5 == "" { print $12 }' "$out")
t4=$(awk -F, '$1 == "gcp" && $3 == "us-central1-a" && $4 == "n1-highmem-8" && $5 == "T4" { print $6, $12 }' "$out")
gpu=$(awk -F, '$7 == "us-central1" && $8 == "us-central1-a" && $4 == "T4" && $5 == "1" { print $9 }' \
  "$raw/gcp/vms.csv")
[ -n "$cpu" ] && [ -n "$gpu" ] || fail "no n1-highmem-8 CPU offer or T4 row in us-central1-a"
want=$(awk -v a="$cpu" -v b="$gpu" 'BEGIN { printf "1 %.6g", a + b }')
[ "$t4" = "$want" ] || fail "n1-highmem-8 + T4 in us-central1-a: '$t4', want '$want' (host $cpu + GPU $gpu)"

# 3d. Corrections and what is left out: AWS's RTX PRO Server 6000 is RTXPRO6000;
#     fractional GPUs are offers of a share of one GPU (g6f.large: 1/8 of an L4,
#     with 1/8 of its memory; Azure NV4as_v4: 1/8 of an MI25 after the
#     correction of upstream's 1); the Azure GPU VMs that upstream lists
#     without a GPU are not offers (neither GPU nor CPU).
grep -q '^aws,[^,]*,[^,]*,g7e\.[^,]*,RTXPRO6000,' "$out" || fail "no g7e offer named RTXPRO6000"
! grep -q 'RTX PRO Server 6000' "$out" || fail "AWS's accelerator name was not corrected"
grep -Eq '^aws,[^,]*,[^,]*,g6f\.large,L4,0\.125,3,' "$out" || fail "g6f.large is not an offer of 1/8 of an L4 (3 GiB)"
grep -Eq '^azure,[^,]*,[^,]*,Standard_NV4as_v4,Radeon MI25,0\.125,' "$out" ||
  fail "NV4as_v4 is not an offer of 1/8 of an MI25"
! grep -Eq '^aws,[^,]*,[^,]*,g6f\.[^,]*,L4,1,' "$out" || fail "a g6f size became a whole L4"
! grep -Eq '^azure,[^,]*,[^,]*,(Standard_NC(8|16|32)ads_A10_v4|Standard_NP[0-9]+s|Standard_NG[0-9a-z]+_V620_v1),' \
  "$out" || fail "an Azure GPU/FPGA VM without a named accelerator became an offer"
! grep -q $'\r' "$out" || fail "a carriage return (CRLF input) leaked into offers.csv"

# 3e. One offer per (cloud, region, zone, instance type, accelerator), and every
#     offer region is in the committed regions.csv.
dups=$(cut -d, -f1-5 "$out" | sort | uniq -d | head -3)
[ -z "$dups" ] || fail "duplicate offers: $dups"
missing=$(awk -F, 'NR == FNR { have[$1 "/" $2] = 1; next }
  FNR > 1 && !(($1 "/" $2) in have) { print $1 "/" $2 }' \
  "$SOURCE_DIR/catalog/regions.csv" "$out" | sort -u | head -5)
[ -z "$missing" ] || fail "offer regions missing from catalog/regions.csv: $missing"

# 3f. tools/build_network_catalog.py refuses an offers.csv naming a region it has
#     no coordinates for (so importer and region table cannot drift apart).
mkdir -p "$tmp/net"
cp -r "$annot" "$tmp/net/src"
{ head -1 "$out"; echo "lambda,nowhere-9,,gpu_1x_a10,A10,1,24,30,200,,,1,"; } >"$tmp/net/offers.csv"
if python3 "$SOURCE_DIR/tools/build_network_catalog.py" --data "$SHARED_DATA" \
  --catalog "$tmp/net" >"$tmp/net.out" 2>&1; then
  fail "build_network_catalog.py accepted an offer region without coordinates"
fi
grep -q "lambda/nowhere-9" "$tmp/net.out" || fail "no missing-region message: $(cat "$tmp/net.out")"

# 4. An existing directory with files is not overwritten without --force.
if "$STRATUS" catalog import --from skypilot "$raw" --out "$tmp/out" --annotations "$annot" \
  >/dev/null 2>"$tmp/err"; then
  fail "import into a non-empty directory succeeded without --force"
fi
grep -q -- "--force" "$tmp/err" || fail "refusal does not mention --force: $(cat "$tmp/err")"
"$STRATUS" catalog import --from skypilot "$raw" --out "$tmp/out" --annotations "$annot" \
  --force >/dev/null || fail "import with --force failed"

# 5. Malformed input: a non-numeric price fails with file:line, exit 2, no output.
mkdir -p "$tmp/bad/gcp"
awk -F, 'BEGIN { OFS = "," } NR == 3 { $9 = "n/a" } { print }' "$raw/gcp/vms.csv" \
  >"$tmp/bad/gcp/vms.csv"
set +e
"$STRATUS" catalog import --from skypilot "$tmp/bad" --out "$tmp/badout" --annotations "$annot" \
  >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "malformed input exited with $rc, want 2"
grep -qE "bad/gcp/vms.csv:3:[0-9]+: column 'Price': 'n/a' is not a number" "$tmp/err" ||
  fail "no file:line error for malformed input: $(cat "$tmp/err")"
[ ! -e "$tmp/badout/offers.csv" ] || fail "a failed import left an offers.csv behind"

# 6. Usage errors and help.
"$STRATUS" catalog import --help | grep -q -- "--from skypilot" || fail "import --help"
"$STRATUS" catalog --help | grep -q "import" || fail "catalog --help"
set +e
"$STRATUS" catalog import --from excel "$raw" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "unknown --from exited with $rc, want 2"
grep -q "unknown format 'excel'" "$tmp/err" || fail "unknown format message: $(cat "$tmp/err")"

echo "PASS"
