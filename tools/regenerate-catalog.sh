#!/usr/bin/env bash
# Regenerate the bundled catalog (catalog/*.csv) from the shared reference data.
#
#   tools/regenerate-catalog.sh            # uses $STRATUS or build*/stratus
#
# 1. offers.csv: `stratus catalog import --from skypilot` on SkyPilot's full
#    catalog files (shared/data/catalog/full: every CPU and accelerator row of
#    gcp, azure, oci, lambda, nebius; AWS as two extracts, vms-accelerators.csv
#    and vms-cpu-general.csv, which the importer reads as one table), with the
#    annotations in catalog/src/.
# 2. regions, latency, latency model, egress, preemption:
#    tools/build_network_catalog.py.
# 3. throughput.csv: tools/build_throughput.py checks catalog/src/throughput.csv
#    against catalog/src/accelerators.csv and copies it (docs/throughput.md).
# All three steps are deterministic: running this twice changes nothing.  See
# catalog/SOURCE.md for what each step does.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_DATA:-$root/../shared/data}

if [ ! -d "$shared/catalog/full" ]; then
  echo "regenerate-catalog: no reference data at $shared (set SHARED_DATA)" >&2
  exit 2
fi
shared=$(cd "$shared" && pwd)
stratus=${STRATUS:-}
if [ -z "$stratus" ]; then
  for b in "$root"/build*/stratus; do
    if [ -x "$b" ]; then stratus=$b; break; fi
  done
fi
if [ -z "$stratus" ] || [ ! -x "$stratus" ]; then
  echo "regenerate-catalog: no stratus binary; build it or set STRATUS=path/to/stratus" >&2
  exit 2
fi

echo "== offers.csv ($stratus)"
"$stratus" catalog import --from skypilot "$shared/catalog/full" \
  --out "$root/catalog" --annotations "$root/catalog/src" --force
echo "== regions and network"
python3 "$root/tools/build_network_catalog.py" --data "$shared" --catalog "$root/catalog"
echo "== throughput"
python3 "$root/tools/build_throughput.py" --src "$root/catalog/src" --catalog "$root/catalog"
