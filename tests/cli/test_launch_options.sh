#!/usr/bin/env bash
# Black-box test of issue 15's launch options on the local clouds: a CPU-only
# spec plans onto a CPU offer and runs; local file_mounts are copied into the
# node's work directory (a file under ~/..., a directory under /...);
# resources.ports reaches the job as STRATUS_PORTS; what the local driver
# cannot honour (image_id docker:..., disk_tier, a bucket) is said in the
# node's log; a missing local source fails the job with a clear reason.
. "$(dirname "$0")/lib.sh"
use_home "$SOURCE_DIR/tests/data/catalog-cpu"

mkdir -p "$TMP/proj/datadir/sub"
echo "the key" >"$TMP/proj/key.txt"
echo "data file" >"$TMP/proj/datadir/sub/a.txt"
cat >"$TMP/proj/prep.yaml" <<'YAML'
name: prep
resources:
  cpus: 4
  memory: 16
  ports: [8080, 9000-9001]
  image_id: docker:ubuntu:22.04
  disk_tier: best
file_mounts:
  ~/cfg/key: ./key.txt
  /data: ./datadir
  /bucket:
    source: s3://my-bucket/x
    mode: MOUNT
run: |
  echo "key=$(cat cfg/key) data=$(cat data/sub/a.txt) ports=$STRATUS_PORTS at $STRATUS_CLOUD"
YAML
id=$(launch_detached "$TMP/proj/prep.yaml")
wait_state "$id" SUCCEEDED 60
run 0 "$STRATUS" status "$id" --json
has "$OUT" '"instance_type": "n2-standard-4"'
run 0 "$STRATUS" logs "$id"
has "$OUT" "key=the key data=data file ports=8080,9000-9001 at gcp"
has "$OUT" "image_id docker:ubuntu:22.04 is not run in a container by the local driver"
has "$OUT" "disk_tier best has no meaning on the local driver"
has "$OUT" "bucket s3://my-bucket/x is not mounted by the local driver"
ok "CPU spec placed on a CPU offer; file_mounts copied, ports in the env, the rest said in the log"

cat >"$TMP/proj/missing.yaml" <<'YAML'
name: missing
resources: {cpus: 4, memory: 16}
file_mounts:
  /inputs: ./no-such-dir
run: echo never
YAML
id=$(launch_detached "$TMP/proj/missing.yaml")
wait_state "$id" FAILED 60
run 0 "$STRATUS" events "$id"
has "$OUT" "file_mounts /inputs: local source './no-such-dir'"
has "$OUT" "does not exist"
ok "a missing local file_mounts source fails the job with the reason"
