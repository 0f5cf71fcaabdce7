#!/usr/bin/env bash
# Vision pipeline end to end: Fashion-MNIST -> seeded edge-camera corruptions + C++ front end
# (`imprecise features`) -> PyTorch training -> models/vision.onnx -> C++ evaluation on the (corrupted)
# official test set, accuracy per corruption, reliability plot, and the scheduler's profile.
# Usage (repo root, after building the CLI):  scripts/make_vision.sh [BUILD_DIR]   (default build/default)
# Data: the official files come from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist,
# see scripts/install-deps.sh; copies placed in $IMPRECISE_DATA_DIR/vision/, default data/vision/, take
# precedence); the corruptions are drawn in C++ from fixed per-split seeds when a split is loaded, so
# nothing is stored but the features. Deterministic: corruption seeds fixed in vision.cpp, training seed 0.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/default}/bin/imprecise
DATA=${IMPRECISE_DATA_DIR:-data}
PY=/usr/bin/python3  # has torch, onnx, matplotlib (the pyenv python3 on PATH does not)
[ -x "$BIN" ] || { echo "make_vision: $BIN not found; build it first (cmake --build <dir> --target imprecise_cli)" >&2; exit 1; }

echo "== 1/7 committed test fixtures (first 200 test images, numpy's front end of 8, their corruption draws)"
$PY scripts/make_vision_fixtures.py
$PY scripts/make_vision_report.py --draws-csv 200 --out tests/fixtures/data/vision/test_draws.csv

echo "== 2/7 features through the C++ front end"
for split in train calibration test; do
  "$BIN" features --pipeline vision --split "$split" --out "$DATA/vision/features/$split"
done

echo "== 3/7 training (PyTorch, 1 thread)"
$PY scripts/train_vision.py --features "$DATA/vision/features" --out models/vision.onnx

echo "== 4/7 evaluation by the C++ engine on the official test set"
mkdir -p docs/results
"$BIN" eval --pipeline vision --split test | tee docs/results/vision_eval.json

echo "== 5/7 accuracy per corruption kind and severity (C++ engine, test split)"
$PY scripts/make_vision_report.py --bin "$BIN" --features "$DATA/vision/features/test" \
    --out docs/results/vision_by_corruption.json

echo "== 6/7 reliability plot"
$PY scripts/plot_reliability.py --pipeline vision --bin "$BIN" --features "$DATA/vision/features/test" \
    --out docs/results/vision_reliability.png

echo "== 7/7 the scheduler's profile: models/vision.{profile,calibration}.json, replay CSVs"
"$BIN" profile --pipeline vision
