#!/usr/bin/env bash
# test_catalog_import.sh - `stratus catalog import` as a user runs it: the
# SkyPilot reference data imports to exactly the committed catalog/offers.csv,
# the known defects are corrected, a GCP host+GPU price adds up, an existing
# directory is not overwritten without --force, and malformed input fails
# with file:line and a non-zero exit.
#
# Environment: STRATUS (the binary), SOURCE_DIR (repository root),
# SHARED_DATA (../shared/data; the test is skipped when it is absent).
set -euo pipefail

: "${STRATUS:?set STRATUS to the stratus binary}"
: "${SOURCE_DIR:?set SOURCE_DIR to the repository root}"
SHARED_DATA=${SHARED_DATA:-$SOURCE_DIR/../shared/data}
raw=$SHARED_DATA/catalog/raw
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
grep -q "bad/gcp/vms.csv:3: column 'Price': 'n/a' is not a number" "$tmp/err" ||
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
