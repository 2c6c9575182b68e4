#!/usr/bin/env bash
# convert-traces.sh OUTDIR - convert the shared public traces into the
# simulator's formats (docs/traces.md), for `stratus simulate` and bench/.
#
# Derived traces are not committed when they are large (the ITP workload is
# ~4 MB): run this instead.  Deterministic: the same inputs and seed give the
# same bytes.  Environment: STRATUS (default build/stratus), SHARED_DATA
# (default ../shared/data), SEED (default 1), HORIZON for the spot traces
# (default 90d), SINCE for the GCP prices (default 2023-06-01).
# examples/sim/spot-skypilot.csv and examples/sim/prices-gcp.csv are its output
# with these defaults (tests/cli/test_trace_cli.sh checks that): after a change
# to a converter, run it and copy those two files back.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: tools/convert-traces.sh OUTDIR}
STRATUS=${STRATUS:-$here/build/stratus}
SHARED_DATA=${SHARED_DATA:-$here/../shared/data}
SEED=${SEED:-1}
HORIZON=${HORIZON:-90d}
SINCE=${SINCE:-2023-06-01}
tr=$SHARED_DATA/traces
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
echo "== GCP GPU VM prices -> $out/prices-gcp.csv"
"$STRATUS" trace convert --from gcp-prices \
  "$tr/spot-price-gcp-gpu-vms-2022-2024/gcp_gpu_vm_prices_2022-02_to_2024-12.csv.xz" \
  --since "$SINCE" --out "$out/prices-gcp.csv"
