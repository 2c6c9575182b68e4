#!/usr/bin/env bash
# convert-traces.sh OUTDIR - convert the shared public traces into the
# simulator's formats (docs/traces.md), for `stratus simulate` and bench/.
#
# Derived traces are not committed when they are large (the ITP workload is
# ~4 MB): run this instead.  Deterministic: the same inputs and seed give the
# same bytes.  Environment: STRATUS (default build/stratus), SHARED_DATA
# (default ../shared/data beside the repository: the folder holding traces/),
# SEED (default 1), HORIZON for the spot traces
# (default 90d), SINCE for the GCP prices (default 2023-06-01).
# examples/sim/spot-skypilot.csv, examples/sim/spot-serve.csv and examples/sim/prices-gcp.csv are its output
# with these defaults (tests/cli/test_trace_cli.sh checks that): after a change
# to a converter, run it and copy those files back.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "convert-traces.sh: $*" >&2; exit 2; }
case "${1:-}" in
  -h|--help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  "") die "usage: tools/convert-traces.sh OUTDIR (the folder the CSV files go to)" ;;
esac
out=$1
STRATUS=${STRATUS:-$here/build/stratus}
# The shared data sits beside the repository (../shared/data) in the lab's
# setup; resolved here so that messages name a real path.
SHARED_DATA=${SHARED_DATA:-$(cd "$here/.." && pwd)/shared/data}
SEED=${SEED:-1}
HORIZON=${HORIZON:-90d}
SINCE=${SINCE:-2023-06-01}
tr=$SHARED_DATA/traces

[ -x "$STRATUS" ] || die "no stratus binary at $STRATUS: build it first
  (./scripts/quickstart.sh builds build/stratus), or set STRATUS=/path/to/stratus"
[ -d "$tr" ] || die "no shared traces at $tr: set SHARED_DATA to the folder
  that holds traces/ (the lab's copy is ../shared/data beside the repository;
  docs/traces.md lists the public sources)"
for d in gpu-training-msft-itp-2021 gpu-cluster-alibaba-openb-2023 spot-availability-skypilot \
         spot-price-gcp-gpu-vms-2022-2024; do
  [ -e "$tr/$d" ] || die "$tr/$d is missing: the shared data is incomplete (docs/traces.md)"
done
mkdir -p "$out"

echo "== ITP (Microsoft, 6 clusters) -> $out/itp-workload.csv"
"$STRATUS" trace convert --from itp "$tr/gpu-training-msft-itp-2021" --seed "$SEED" \
  --out "$out/itp-workload.csv"
echo "== Alibaba openb pod list -> $out/alibaba-workload.csv"
"$STRATUS" trace convert --from alibaba "$tr/gpu-cluster-alibaba-openb-2023/openb_pod_list_default.csv" \
  --seed "$SEED" --out "$out/alibaba-workload.csv"
echo "== SkyPilot spot traces -> $out/spot-skypilot.csv"
"$STRATUS" trace convert --from skypilot-spot "$tr/spot-availability-skypilot" \
  --mapping "$here/examples/sim/spot-mapping.csv" --horizon "$HORIZON" --out "$out/spot-skypilot.csv"
echo "== SkyPilot spot traces on the H100 zones (the serving study) -> $out/spot-serve.csv"
"$STRATUS" trace convert --from skypilot-spot "$tr/spot-availability-skypilot" \
  --mapping "$here/examples/sim/spot-mapping-serve.csv" --horizon "$HORIZON" --out "$out/spot-serve.csv"
echo "== GCP GPU VM prices -> $out/prices-gcp.csv"
"$STRATUS" trace convert --from gcp-prices \
  "$tr/spot-price-gcp-gpu-vms-2022-2024/gcp_gpu_vm_prices_2022-02_to_2024-12.csv.xz" \
  --since "$SINCE" --out "$out/prices-gcp.csv"
