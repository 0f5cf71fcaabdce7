#!/usr/bin/env bash
# The lidar pipeline end to end: generate the synthetic scans -> C++ front end features -> train the
# 4-exit scan-order point network -> evaluate it with the C++ engine -> profile (stage times, calibration,
# replay sets) -> AUROC of each exit's confidence -> fixtures and reliability plot.
#   scripts/make_lidar.sh [BUILD_DIR]     (default build/default; needs the imprecise CLI built there)
# About 3 min of data generation (2 processes) and ~15 min of training (1 thread) on a 2-core VM.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/default}
CLI=$BUILD/bin/imprecise
PY=/usr/bin/python3  # the Debian python with numpy, torch, onnx, matplotlib
[ -x "$CLI" ] || cmake --build "$BUILD" --target imprecise_cli
$PY scripts/make_lidar_data.py                      # data/lidar/{train,calibration,test}.ipcl
FEAT=$(mktemp -d)
trap 'rm -rf "$FEAT"' EXIT
for split in train calibration; do
  "$CLI" features --pipeline lidar --split $split --out "$FEAT/$split"
done
$PY scripts/train_lidar.py --features "$FEAT" --out models/lidar.onnx
"$CLI" eval --pipeline lidar --split test | tee docs/results/lidar_eval.json   # the numbers in docs/pipelines/lidar.md
"$CLI" profile --pipeline lidar >/dev/null           # models/lidar.{profile,calibration}.json, lidar.replay_{cal,test}.csv
$PY scripts/make_lidar_auroc.py                      # docs/results/lidar_auroc.json (from models/lidar.replay_test.csv)
$PY scripts/make_lidar_fixtures.py                   # tests/fixtures/data/lidar/
$PY scripts/plot_reliability.py --pipeline lidar --bin "$CLI"   # docs/results/lidar_reliability.png
