#!/usr/bin/env bash
# The edge-server experiment over the network: `imprecise serve` as its own process (gRPC on loopback,
# restarted per load like the in-process run's fresh Engine), driven by `imprecise loadgen` client
# processes that replay the scenario's streams (the very jobs: sim::plan_jobs at the same load, seed and
# duration), next to the in-process edge_server run of the same policy, loads and duration.
# Writes docs/results/network/: comparison.md (the table), loadgen_summary.json, in_process/results.json,
# network_vs_in_process.png and loadgen_latency.png; every request's record and the server logs go to
# out/network/loadgen_load<L>.json (tens of thousands of requests at load 2). About 3 minutes at the
# defaults. Settings (environment):
#   IMPRECISE_DURATION=10  IMPRECISE_LOADS="0.5 1 2"  IMPRECISE_POLICY=yao-dp  IMPRECISE_CLIENT_PROCESSES=2
#   IMPRECISE_CLIENT_NICE=10  IMPRECISE_IO_NICE=5  IMPRECISE_NETWORK_MARGIN_US=4000  IMPRECISE_OUT=docs/results/network  IMPRECISE_RAW_OUT=out/network  IMPRECISE_START_LEAD_MS=10000  IMPRECISE_BACKEND=(the fastest cpu backend)
#   IMPRECISE_LANES=1  IMPRECISE_CONTROLLER=(none; static, aimd, model-based or sac, with the committed actor)
#   (the server and the in-process run alike)
# Needs the build (cmake --build --preset default --target imprecise_cli edge_server) and the voice and
# LIDAR test sets (scripts/make_test_sets.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${IMPRECISE_DURATION:-10}
loads=${IMPRECISE_LOADS:-0.5 1 2}
policy=${IMPRECISE_POLICY:-yao-dp}
processes=${IMPRECISE_CLIENT_PROCESSES:-2}
out=${IMPRECISE_OUT:-docs/results/network}
raw=${IMPRECISE_RAW_OUT:-out/network}
backend=${IMPRECISE_BACKEND:-}
lanes=${IMPRECISE_LANES:-1}
controller=${IMPRECISE_CONTROLLER:-}
actor=()
[ "$controller" = sac ] && actor=(--actor models/controllers/sac_actor.onnx)
# Taken off each deadline by the server for the way back. It should cover the wire time's p99, which
# loadgen reports (wire_p99_ms): 2-4 ms here at loads 0.5-1 with the clients on the server's cores.
margin=${IMPRECISE_NETWORK_MARGIN_US:-4000}
# The clients stand in for devices that, deployed, run on their own CPUs. Here they share the server's
# cores, so they run below its threads (the server's endpoints at +io_nice, its lanes at 0): they take
# only what is left, as remote devices would take none, yet still get the CPU they need to send on time.
client_nice=${IMPRECISE_CLIENT_NICE:-10}
io_nice=${IMPRECISE_IO_NICE:-5}
bin=build/default/bin
scenario=scenarios/edge_server.json
mkdir -p "$out" "$raw"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" || echo "network_run: the server exited with status $?" >&2
    server_pid=
  fi
}
trap stop_server EXIT

for load in $loads; do
  port=$(free_port)
  # Same engine settings as the in-process run: the policy, 2048 pending jobs, max batch 8 (the models' configs).
  "$bin/imprecise" serve --model-repository model_repository --grpc-port "$port" --http-port -1 --metrics-port -1 \
    --policy "$policy" --max-pending 2048 --network-margin-us "$margin" --io-nice "$io_nice" ${backend:+--backend "$backend"} \
    --lanes "$lanes" ${controller:+--controller "$controller"} "${actor[@]}" >"$raw/serve_load$load.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do  # the models load in a few seconds
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$raw/serve_load$load.log" >&2; exit 1; }
    sleep 0.1
  done
  # Several client processes share one timeline: each sends every N-th request from the same start time.
  # The lead covers loading the test inputs in every process (loadgen refuses a start already past).
  start_at=$(( $(date +%s%3N) + ${IMPRECISE_START_LEAD_MS:-10000} ))
  pids=()
  for k in $(seq 0 $((processes - 1))); do
    nice -n "$client_nice" "$bin/imprecise" loadgen --target "127.0.0.1:$port" --scenario "$scenario" --load "$load" --duration-s "$duration" \
      --clients 2 --shard "$k/$processes" --start-at-ms "$start_at" --out "$raw/loadgen_load${load}_part$k.json" \
      >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  parts=()
  for k in $(seq 0 $((processes - 1))); do parts+=("$raw/loadgen_load${load}_part$k.json"); done
  echo "load $load: $("$bin/imprecise" loadgen --merge "${parts[@]}" --out "$raw/loadgen_load$load.json")"
  rm -f "${parts[@]}"
  stop_server
done

# The in-process run: the same scenario, policy, loads and duration (Engine::submit, no network).
mkdir -p "$out/in_process"
build/default/bin/edge_server --policies "$policy" --loads "${loads// /,}" --duration "$duration" --no-trace \
  ${backend:+--backend "$backend"} --lanes "$lanes" ${controller:+--controllers "$controller"} "${actor[@]}" \
  --out-dir "$out/in_process" >"$out/in_process/table.txt"
files=()
for load in $loads; do files+=("$raw/loadgen_load$load.json"); done
/usr/bin/python3 scripts/plot_loadgen.py --in-process "$out/in_process/results.json" --policy "$policy" --out "$out" "${files[@]}"
echo "wrote $out/comparison.md, $out/network_vs_in_process.png, $out/loadgen_latency.png"
