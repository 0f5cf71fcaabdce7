#!/usr/bin/env bash
# Vision pipeline end to end: Fashion-MNIST -> C++ front end (`imprecise features`) -> PyTorch training
# -> models/vision.onnx -> C++ evaluation on the official test set + reliability plot.
# Usage (repo root, after building the CLI):  scripts/make_vision.sh [BUILD_DIR]   (default build/default)
# Data: nothing is generated — the official files come from Debian's dataset-fashion-mnist
# (/usr/share/datasets/fashion-mnist, see scripts/install-deps.sh); copies placed in
# $IMPRECISE_DATA_DIR/vision/ (default data/vision/) take precedence. Deterministic: seed 0.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/default}/bin/imprecise
DATA=${IMPRECISE_DATA_DIR:-data}
PY=/usr/bin/python3  # has torch, onnx, matplotlib (the pyenv python3 on PATH does not)
[ -x "$BIN" ] || { echo "make_vision: $BIN not found; build it first (cmake --build <dir> --target imprecise_cli)" >&2; exit 1; }

echo "== 1/5 committed test fixtures (first 200 test images, numpy's front end of 8)"
$PY scripts/make_vision_fixtures.py

echo "== 2/5 features through the C++ front end"
for split in train calibration test; do
  "$BIN" features --pipeline vision --split "$split" --out "$DATA/vision/features/$split"
done

echo "== 3/5 training (PyTorch, 2 threads)"
$PY scripts/train_vision.py --features "$DATA/vision/features" --out models/vision.onnx

echo "== 4/5 evaluation by the C++ engine on the official test set"
mkdir -p docs/results
"$BIN" eval --pipeline vision --split test | tee docs/results/vision_eval.json

echo "== 5/5 reliability plot"
$PY scripts/plot_reliability.py --pipeline vision --bin "$BIN" --features "$DATA/vision/features/test" \
    --out docs/results/vision_reliability.png
