#!/usr/bin/env bash
# Quick start, command 1 (the main job): installs what is missing, builds, generates the voice and LIDAR
# test sets if absent or stale (16-52 s), tunes the baselines' parameters on the calibration split, then serves the vision, LIDAR and voice models together in real time
# per policy and load (10 s each, the README table's settings), next to the simulator on the very same jobs: the table on stdout; results.json,
# results.csv, PNG plots and a Chrome trace (yao-dp at load 2) in out/edge_server/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
# Everything (library, CLI build/default/bin/imprecise, examples, benchmarks), not only edge_server.
cmake --build --preset default -j "$(nproc)"
scripts/make_test_sets.sh
# The baselines' own parameters (early-exit threshold T, fixed depth K), tuned in the simulator on the
# calibration split at load 2, never on the test split the table reports (about 30 s).
tuned=$(scripts/tune_baselines.sh scenarios/edge_server.json 2 out/tuning 2>/dev/null)
threshold=${tuned%%,*} fixed=${tuned##*,}
[ "$fixed" = edf-fixed:1 ] && fixed=  # the same as edf-mandatory (every model's mandatory depth is 1)
echo "baselines tuned on the calibration split: $threshold ${fixed:-(edf-fixed:1 = edf-mandatory)}"
out=out/edge_server
build/default/bin/edge_server --out-dir "$out" --duration "${IMPRECISE_DURATION:-10}" \
  --loads "${IMPRECISE_LOADS:-0.5,1,2,3}" \
  --policies "${IMPRECISE_POLICIES:-yao-dp,density,edf-full,edf-mandatory,$threshold${fixed:+,$fixed},fifo-full}" \
  --trace-policy yao-dp --trace-load 2 "$@"
/usr/bin/python3 scripts/plot_edge_server.py "$out/results.csv" "$out"
echo "plots: $out/edge_accuracy_vs_load.png $out/edge_streams.png"
trace=$out/trace_yao-dp_load2.json  # written only when load 2 is among the loads
if [ -f "$trace" ]; then echo "trace (open in https://ui.perfetto.dev): $trace"; fi
