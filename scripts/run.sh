#!/usr/bin/env bash
# Quick start, command 1 (the main job): installs what is missing, builds, and runs the policy sweep on
# the multi-model edge scenario: a table on stdout, CSV + PNG plots in out/sweep/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target imprecise_cli
exec build/default/bin/imprecise sweep --scenario scenarios/edge_multi_model.json \
  --policies "${IMPRECISE_POLICIES:-yao-dp,density,edf-full,edf-mandatory,edf-fixed:2,edf-threshold:0.8,fifo-full,round-robin,oracle-utility}" \
  --loads "${IMPRECISE_LOADS:-0.25,0.5,0.75,1,1.5,2,2.5,3,4,5}" --seeds "${IMPRECISE_SEEDS:-5}" \
  --duration "${IMPRECISE_DURATION:-60}" --out out/sweep "$@"
