#!/usr/bin/env bash
# The simulated policy sweep: installs what is missing, builds, prints the tables; CSV + PNG plots in
# out/sweep/ (the main job is scripts/run.sh). Scenario: $IMPRECISE_SCENARIO, default the multi-model
# edge scenario with parametric jobs (no networks run); scenarios/edge_server.json sweeps the three
# trained models (their measured profiles and per-sample replays, the edge-server experiment's workload).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target imprecise_cli
exec build/default/bin/imprecise sweep --scenario "${IMPRECISE_SCENARIO:-scenarios/edge_multi_model.json}" \
  --policies "${IMPRECISE_POLICIES:-yao-dp,density,edf-full,edf-mandatory,edf-fixed:2,edf-threshold:0.8,fifo-full,round-robin,oracle-utility}" \
  --loads "${IMPRECISE_LOADS:-0.25,0.5,0.75,1,1.5,2,2.5,3,4,5}" --seeds "${IMPRECISE_SEEDS:-5}" \
  --duration "${IMPRECISE_DURATION:-60}" --out "${IMPRECISE_OUT:-out/sweep}" "$@"
