#!/usr/bin/env bash
# SkyPilot service YAMLs, unchanged, brought up with `stratus serve up` on
# the local clouds (issue 12: "the SkyPilot service YAMLs under
# tests/data/skypilot/ plan and run as services").  They listen on FIXED
# ports (`vllm serve ... --port 8000`), so each replica node runs in a
# network namespace of its own with its own address, like a VM, and two
# replicas of one service both listen on 8000.  What the bundled catalog
# cannot place (an accelerator where no offer has it) is refused at `serve
# up` with the planner's reason.  Real binary, server, router and replica
# processes.
#
# Stand-ins: the YAMLs run vllm and ray, which need GPUs and are not
# installable here; a `vllm` and a `ray` script first on PATH stand in for
# them (vllm -> examples/llm-server/server.py on the --port it is given).
. "$(dirname "$0")/lib.sh"
use_home "$SOURCE_DIR/catalog"
D="$SOURCE_DIR/tests/data/skypilot"
cleanup() {
  local c
  for p in $(jobs -p); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  stop_home
  if [ -n "${HOME2:-}" ]; then STRATUS_HOME=$HOME2 stop_home; fi
  # after a failure, nodes killed by stop_home leave their namespaces (the
  # next server's sweep would remove them): remove this home's own now
  for c in $(grep -lsF "$TMP/" /run/stratus/netns/* 2>/dev/null); do
    ip netns del "stratus-${c##*/}" 2>/dev/null
    rm -f "$c"
  done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/bin"
cat >"$TMP/bin/vllm" <<SH
#!/bin/sh
# stand-in: vllm needs GPUs and is not installable here.  \`vllm serve MODEL
# --port N ...\` serves examples/llm-server/server.py on port N, on every
# address (as vllm does), so it is reached at the node's own address.
port=8000 model=m
if [ "\$1" = serve ]; then shift; model=\$1; shift; fi
while [ \$# -gt 0 ]; do
  case \$1 in --port) port=\$2; shift;; --model) model=\$2; shift;; esac
  shift
done
exec python3 -B "$SOURCE_DIR/examples/llm-server/server.py" --host 0.0.0.0 \\
  --model "\$model" --port "\$port" --decode-tps 40
SH
cat >"$TMP/bin/ray" <<'SH'
#!/bin/sh
# stand-in: ray is not installable here.  `ray start --head` returns at once,
# a worker's `ray start --block` stays up until its node is stopped.
case " $* " in *" --block "*) exec sleep 100000;; esac
exit 0
SH
cat >"$TMP/bin/pip" <<'SH'
#!/bin/sh
# stand-in: the YAMLs' setup runs `pip install vllm ray ...`, which needs
# the network and GPUs; the stand-ins above are all a replica needs here.
echo "pip stand-in: not installing $*"
SH
cat >"$TMP/bin/uv" <<'SH'
#!/bin/sh
# stand-in: `uv venv` makes an empty .venv/bin/activate; `uv pip install`
# would need the network.
case $1 in
  venv) mkdir -p .venv/bin && : >.venv/bin/activate;;
  *) echo "uv stand-in: not running $*";;
esac
SH
cat >"$TMP/bin/python" <<'SH'
#!/bin/sh
exec python3 -B "$@"
SH
# `python -m vllm.entrypoints.openai.api_server --model M --port N` and the
# YAMLs' own `python3 -m my_server --port N`: modules that serve the example
# model server on every address
mkdir -p "$TMP/py/vllm/entrypoints/openai"
touch "$TMP/py/vllm/__init__.py" "$TMP/py/vllm/entrypoints/__init__.py" \
  "$TMP/py/vllm/entrypoints/openai/__init__.py"
cat >"$TMP/py/vllm/entrypoints/openai/api_server.py" <<PY
import os, sys
args = sys.argv[1:]
port = args[args.index("--port") + 1] if "--port" in args else "8000"
model = args[args.index("--model") + 1] if "--model" in args else "m"
os.execvp("python3", ["python3", "-B", "$SOURCE_DIR/examples/llm-server/server.py",
                      "--host", "0.0.0.0", "--model", model, "--port", port])
PY
cp "$TMP/py/vllm/entrypoints/openai/api_server.py" "$TMP/py/my_server.py"
chmod +x "$TMP/bin/vllm" "$TMP/bin/ray" "$TMP/bin/pip" "$TMP/bin/uv" "$TMP/bin/python"
export PATH="$TMP/bin:$PATH" PYTHONPATH="$TMP/py"
echo "# vllm, ray, pip, uv and the python modules vllm and my_server are stand-ins here (vllm needs GPUs; none is installable here)"

local_server_conf
st() { # st NAME EXPR: a Python expression over `serve status NAME --json` (j)
  "$STRATUS" serve status "$1" --json | python3 -c "import json,sys; j=json.load(sys.stdin); print($2)"
}
ready() { st "$1" "sum(1 for r in j['replicas'] if r['state'] == 'READY')" 2>/dev/null; }
ready_or_failed() { # ready_or_failed NAME N: fails the test if the service failed
  [ "$(ready "$1")" = "$2" ] && return 0
  [ "$(st "$1" "j['state']" 2>/dev/null)" = FAILED ] && fail "$1 FAILED: $("$STRATUS" serve status "$1")"
  return 1
}
wait_ready() { # wait_ready NAME N
  poll 180 ready_or_failed "$1" "$2" && return 0
  fail "$1: not $2 ready replicas: $("$STRATUS" serve status "$1")"
}
urls() { # urls NAME: the READY replicas' URLs, one a line
  "$STRATUS" serve endpoints "$1" |
    python3 -c "import json,sys; [print(r['url']) for r in json.load(sys.stdin)['replicas'] if r['state'] == 'READY']"
}

# --- every file plans (issue 15: CPU-only offers, A10G and Nebius are in the
# bundled catalog now) ---
for f in "$D"/serve/*.yaml "$D"/vllm_service_set.yaml "$D"/vllm_multinode_service.yaml \
  "$D"/sglang_anyof_spot.yaml "$D"/set_disk_nebius.yaml; do
  run 0 "$STRATUS" plan "$f"; has "$OUT" "infer"
done
run 0 "$STRATUS" plan "$D/serve/http_fixed.yaml"
has "$OUT" "CPU 2+ vCPU"
ok "each SkyPilot service YAML plans (http_fixed onto a CPU-only offer)"

# --- serve up refuses what cannot be placed, with the planner's reason ---
sed 's/^  cpus: 2+$/  cpus: 2+\n  accelerators: V100:1\n  infra: nebius/' \
  "$D/serve/http_fixed.yaml" >"$TMP/http_nowhere.yaml"
run 1 "$STRATUS" serve up "$TMP/http_nowhere.yaml"
has "$ERR" "no feasible placement for 'http_nowhere': V100 is not offered on nebius;"
run 0 "$STRATUS" serve status
hasnt "$OUT" "http_nowhere"
ok "serve up refuses a service no offer can place (V100 on nebius), says where it is offered, leaves nothing up"

if [ "$(id -u)" != 0 ] || ! PATH="$PATH:/usr/sbin:/sbin" command -v ip >/dev/null; then
  run 2 "$STRATUS" serve up "$D/serve/autoscale_qps.yaml"
  has "$ERR" "listen on \$PORT"
  ok "skipped the rest: network namespaces need root and iproute2 (not root, or no ip); serve up says so"
  exit 0
fi

# --- without namespaces (STRATUS_NETNS=off): several replicas on one fixed port are refused ---
HOME2="$TMP/home2"
mkdir -p -m 0700 "$HOME2"
cp "$STRATUS_HOME/server.yaml" "$HOME2/"
STRATUS_HOME=$HOME2 STRATUS_NETNS=off run 2 "$STRATUS" serve up "$D/serve/autoscale_qps.yaml"
has "$ERR" "autoscale_qps.yaml:2: the replicas listen on the fixed port 8000"
has "$ERR" "STRATUS_NETNS=off"
has "$ERR" "listen on \$PORT in the run command"
has "$ERR" "as root"
ok "without network namespaces, serve up of 2+ replicas on a fixed port says what is wrong and what to do"
# ... and one replica runs on loopback at its declared port (unless the
# machine has something on 8081 already: then say so and go on)
if (exec 3<>/dev/tcp/127.0.0.1/8081) 2>/dev/null; then
  echo "# 127.0.0.1:8081 is taken on this machine: the loopback case is not checked"
else
  # its secrets: {HF_TOKEN: null} is the lab's secret HF_TOKEN (docs/secrets.md)
  STRATUS_HOME=$HOME2 STRATUS_NETNS=off run 0 "$STRATUS" secret set HF_TOKEN <<<"hf_test"
  STRATUS_HOME=$HOME2 STRATUS_NETNS=off run 0 "$STRATUS" serve up "$D/vllm_multinode_service.yaml"
  STRATUS_HOME=$HOME2 wait_ready vllm_multinode_service 1
  [ "$(STRATUS_HOME=$HOME2 urls vllm_multinode_service)" = http://127.0.0.1:8081 ] ||
    fail "one replica without namespaces: loopback at 8081: $(STRATUS_HOME=$HOME2 urls vllm_multinode_service)"
  [ -z "$(find "$HOME2/state" -name netns)" ] || fail "no namespace without STRATUS_NETNS"
  STRATUS_HOME=$HOME2 run 0 "$STRATUS" serve down vllm_multinode_service
  # down is asynchronous: its replicas (on 0.0.0.0:8081) stop before the server does
  down2() { [ "$(STRATUS_HOME=$HOME2 st vllm_multinode_service "j['state']" 2>/dev/null)" = DOWN ]; }
  poll 120 down2 || fail "serve down: $(STRATUS_HOME=$HOME2 "$STRATUS" serve status vllm_multinode_service --all)"
  ok "without network namespaces, a one-replica service on a fixed port runs on loopback at that port"
fi
STRATUS_HOME=$HOME2 run 0 "$STRATUS" controller stop

# --- up: every plannable YAML, unchanged ---
# vllm_multinode_service's secrets: {HF_TOKEN: null} is the lab's secret HF_TOKEN
run 0 "$STRATUS" secret set HF_TOKEN <<<"hf_test"
for f in serve/autoscale_qps serve/probe_full serve/qps_per_accelerator serve/post_data_text \
  vllm_multinode_service sglang_anyof_spot; do
  run 0 "$STRATUS" serve up "$D/$f.yaml"
  has "$OUT" "is starting"
done
wait_ready autoscale_qps 2
wait_ready probe_full 3
wait_ready qps_per_accelerator 1
wait_ready vllm_multinode_service 1
for n in post_data_text big-moe-serve; do
  [ "$(st $n "j['target']")" = 0 ] || fail "$n scales to zero: $("$STRATUS" serve status $n)"
  [ "$(st $n "j['state']")" != FAILED ] || fail "$n failed: $("$STRATUS" serve status $n)"
done
ok "serve up of 6 SkyPilot YAMLs: replicas READY (2 + 3 + 1 + a 2-node one); the two with min_replicas 0 wait at 0"

# --- two replicas of one service, both on port 8000, each at its own address ---
mapfile -t A < <(urls autoscale_qps)
[ "${#A[@]}" = 2 ] || fail "2 URLs expected: ${A[*]}"
for u in "${A[@]}"; do
  [[ "$u" =~ ^http://10\.213\.[0-9]+\.[0-9]+:8000$ ]] || fail "a replica of a fixed port answers at its namespace's address: $u"
  curl -sf -m 10 "$u/v1/models" | grep -q "Qwen/Qwen2.5-7B-Instruct" || fail "$u does not serve the model"
done
[ "${A[0]}" != "${A[1]}" ] || fail "two replicas, one address: ${A[*]}"
mapfile -t P < <(urls probe_full)
for u in "${P[@]}"; do [[ "$u" =~ ^http://10\.213\.[0-9]+\.[0-9]+:9000$ ]] || fail "probe_full at $u"; done
[ "$(printf '%s\n' "${P[@]}" | sort -u | wc -l)" = 3 ] || fail "3 distinct addresses: ${P[*]}"
SD=$(state_dir)
nsfiles=$(find "$SD/local" -name netns | wc -l)
[ "$nsfiles" -ge 8 ] || fail "8 nodes in namespaces expected, $nsfiles"
for f in $(find "$SD/local" -name netns); do
  ip netns list | grep -q "^stratus-$(cat "$f") " || fail "namespace stratus-$(cat "$f") of $f is missing"
done
ok "autoscale_qps: both replicas on port 8000 at two namespace addresses; probe_full: 3 on 9000; every node has its namespace"

# --- a declared port, but a run command that reads $PORT: loopback, as before ---
cat >"$TMP/onport.yaml" <<YAML
name: onport
resources:
  accelerators: H100:1
  ports: 8000
run: exec python3 -B $SOURCE_DIR/examples/llm-server/server.py --port \$PORT
service:
  readiness_probe: /health
  replicas: 2
YAML
run 0 "$STRATUS" serve up "$TMP/onport.yaml"
wait_ready onport 2
mapfile -t O < <(urls onport)
for u in "${O[@]}"; do
  [[ "$u" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] && [ "${u##*:}" != 8000 ] ||
    fail "a replica that reads \$PORT gets a free loopback port: ${O[*]}"
done
[ "${O[0]}" != "${O[1]}" ] || fail "two replicas, one port: ${O[*]}"
for f in $(find "$SD/local" -name env); do
  if tr '\0' '\n' <"$f" | grep -qx "STRATUS_SERVICE_PORT=${O[0]##*:}"; then
    [ ! -e "$(dirname "$f")/netns" ] || fail "a replica on \$PORT must not get a namespace"
  fi
done
run 0 "$STRATUS" serve down onport
ok "a spec that declares port 8000 but listens on \$PORT: free loopback ports, no namespace (today's behaviour)"

# --- through a router that follows the server: requests reach all 3 replicas ---
PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$STRATUS_HOME/controller.log" | tail -n 1)
TOKEN=$("$STRATUS" token create --name router --role member 2>/dev/null)
run 0 "$STRATUS" serve keys probe_full --create
KEY=$(tail -n 1 <<<"$OUT")
STRATUS_TOKEN=$TOKEN "$STRATUS" router --api "http://127.0.0.1:$PORT" --service probe_full \
  --listen 127.0.0.1:0 --max-inflight 1 --max-wait 60 --access-log "$TMP/access.log" \
  2>"$TMP/router.log" &
wait_for grep -q "listening on" "$TMP/router.log"
R=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$TMP/router.log" | head -n 1)
v=$("$STRATUS" serve endpoints probe_full | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
wait_for sh -c "curl -sf '$R/-/healthz' | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(j[\"version\"] < $v or j[\"ready_replicas\"] != 3)'"
for i in $(seq 1 9); do
  curl -s -o "$TMP/r$i" -w '%{http_code}' -m 60 -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' \
    -d '{"model": "m", "prompt": "hello", "max_tokens": 20}' "$R/v1/completions" >"$TMP/c$i" &
done
for i in $(seq 1 9); do wait_for test -s "$TMP/c$i"; done
for i in $(seq 1 9); do [ "$(cat "$TMP/c$i")" = 200 ] || fail "request $i: $(cat "$TMP/c$i") $(cat "$TMP/r$i")"; done
curl -sf "$R/-/replicas" >"$TMP/replicas.json" || fail "no /-/replicas"
python3 - "$TMP/replicas.json" <<'PY' || fail "requests must reach all 3 replicas: $(cat "$TMP/replicas.json")"
import json, re, sys
j = json.load(open(sys.argv[1]))
used = [r for r in j["replicas"] if r["requests"] > 0]
assert len(used) == 3, used
assert all(re.match(r"http://10\.213\.\d+\.\d+:9000$", r["url"]) for r in used), used
PY
[ "$(grep -c ' 200 ' "$TMP/access.log")" -ge 9 ] || fail "access log: $(cat "$TMP/access.log")"
ok "9 concurrent requests through \`stratus router --api\` all answered, spread over the 3 replicas on port 9000"

# --- a node killed without warning: its namespace goes, the replica comes back ---
N=$(find "$SD/local" -path "*/node-0/netns" | head -n 1)
ND=$(dirname "$N")
SLOT=$(cat "$N")
kill -9 -- "-$(cat "$ND/pid")"
# freed: its claim no longer names the node (the slot may be taken again at
# once by the replacement, so the name stratus-$SLOT alone says nothing)
claimed() { grep -qxF "$1" "/run/stratus/netns/$2" 2>/dev/null; }
for _ in $(seq 1 300); do claimed "$ND" "$SLOT" || break; nap 0.1; done
claimed "$ND" "$SLOT" && fail "the namespace of a killed node must be removed: $(ip netns list)"
wait_ready autoscale_qps 2
wait_ready probe_full 3
ok "a node killed with SIGKILL: its namespace stratus-$SLOT is removed; the services are whole again"

# --- a crash: the server dies, a node dies meanwhile; the next server removes its namespace ---
SPID=$(cat "$STRATUS_HOME/controller.pid")
kill -9 "$SPID"
N=$(for f in $(find "$SD/local" -path "*/node-0/netns"); do
  [ -e "$(dirname "$f")/exit" ] || { echo "$f"; break; }; done)
ND=$(dirname "$N")
SLOT=$(cat "$N")
kill -9 -- "-$(cat "$ND/pid")"
# (the slots are the machine's: a server of another home that starts now, as
# under ctest -j8, sweeps a dead node's namespace and claim just as well; a
# sweep removes the namespace, then the claim, so the claim is read first)
if claimed "$ND" "$SLOT"; then
  if ! ip netns list | grep -qE "^stratus-$SLOT( |\$)"; then
    for _ in $(seq 1 100); do claimed "$ND" "$SLOT" || break; nap 0.1; done
    ! claimed "$ND" "$SLOT" || fail "stratus-$SLOT is gone but still claimed by $ND"
    echo "# stratus-$SLOT was swept by another home's server before ours restarted"
  fi
else
  echo "# stratus-$SLOT was swept by another home's server before ours restarted"
fi
run 0 "$STRATUS" serve status probe_full
for _ in $(seq 1 300); do claimed "$ND" "$SLOT" || break; nap 0.1; done
claimed "$ND" "$SLOT" && fail "the new server must remove stratus-$SLOT of a node that died"
wait_ready autoscale_qps 2
wait_ready probe_full 3
ok "after a server crash, the namespace of a node that died meanwhile is removed by the next server"

# --- down: every namespace and claim of this home is gone ---
# --- the four the catalog could not place before issue 15, unchanged: a
# CPU-only one (a real `python3 -m http.server`), A10G or L4 spot with an
# on-demand base, a set of five accelerators, and one on Nebius ---
for f in serve/http_fixed serve/spot_fallback vllm_service_set set_disk_nebius; do
  run 0 "$STRATUS" serve up "$D/$f.yaml"
  has "$OUT" "is starting"
done
wait_ready http_fixed 2
wait_ready spot_fallback 3
wait_ready vllm_service_set 2
# set_disk_nebius names no readiness_probe, so the probe is SkyPilot's
# default GET /, which vLLM (and the stand-in) answer with 404: the replica
# runs on Nebius and stays STARTING, as it would under SkyServe
nebius_starting() { [ "$(st set_disk_nebius "sum(1 for r in j['replicas'] if r['job_state'] == 'RUNNING' and r.get('cloud') == 'nebius' and r['state'] == 'STARTING')" 2>/dev/null)" = 1 ]; }
poll 180 nebius_starting
[ "$(st set_disk_nebius "sum(1 for r in j['replicas'] if r['job_state'] == 'RUNNING' and r.get('cloud') == 'nebius')")" = 1 ] ||
  fail "set_disk_nebius: no replica running on nebius: $("$STRATUS" serve status set_disk_nebius)"
for u in $(urls http_fixed); do
  [[ "$u" =~ ^http://10\.213\.[0-9]+\.[0-9]+:8080$ ]] || fail "http_fixed at $u"
  curl -sf -m 10 "$u/" | grep -q "Directory listing" || fail "$u: http.server does not answer"
done
for n in spot_fallback vllm_service_set; do
  for u in $(urls $n); do
    curl -sf -m 10 "$u/v1/models" >/dev/null || fail "$n: $u does not serve"
  done
done
st spot_fallback "sorted(r['mode'] for r in j['replicas'] if r['state'] == 'READY')" >"$TMP/sf"
[ "$(cat "$TMP/sf")" = "['on-demand', 'spot', 'spot']" ] ||
  fail "spot_fallback: one on-demand base + 2 spot expected: $(cat "$TMP/sf"); $("$STRATUS" serve status spot_fallback)"
for n in http_fixed spot_fallback vllm_service_set set_disk_nebius; do run 0 "$STRATUS" serve down $n; done
ok "http_fixed (2 CPU-only replicas of http.server on 8080), spot_fallback (1 on-demand + 2 spot), vllm_service_set (2): READY and answering; set_disk_nebius: running on nebius (its default probe GET / is not served by vLLM), unchanged"

for n in autoscale_qps probe_full qps_per_accelerator post_data_text vllm_multinode_service big-moe-serve; do
  run 0 "$STRATUS" serve down $n
done
left() { # namespaces and claims of this home's nodes still there
  local f
  for f in $(find "$SD/local" -name netns); do
    ip netns list | grep -q "^stratus-$(cat "$f") " && grep -qsF "$(dirname "$f")" "/run/stratus/netns/$(cat "$f")" && echo "$f"
  done
  grep -lsF "$SD/" /run/stratus/netns/* 2>/dev/null
}
for _ in $(seq 1 600); do [ -z "$(left)" ] && break; nap 0.1; done
[ -z "$(left)" ] || fail "serve down must remove the namespaces: $(left); $(ip netns list)"
ip netns list | grep -q "^stratus-" && echo "# note: namespaces of other homes: $(ip netns list | grep '^stratus-' | tr '\n' ' ')"
ok "serve down: every replica stopped, every namespace and veth of this home removed"
