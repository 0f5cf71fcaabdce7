#!/usr/bin/env bash
# Voice pipeline end to end: espeak-ng synthetic clips -> C++ front end (`imprecise features`) -> PyTorch
# training -> models/voice.onnx -> C++ evaluation on the unseen-voice test split + reliability plot ->
# scheduler profile (models/voice.{profile,calibration}.json, replay CSVs) + exit-1 confidence AUROC.
# Usage (repo root, after building the CLI):  scripts/make_voice.sh [BUILD_DIR]   (default build/default)
# Deterministic: data seed 2026 (scripts/make_voice_data.py), training seed 0. Needs espeak-ng.
# Takes about 8 min (data, 2 cores) + 15 min (training, 1 thread) on a shared 2-core VM.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/default}/bin/imprecise
DATA=${IMPRECISE_DATA_DIR:-data}
PY=/usr/bin/python3  # has torch, onnx, matplotlib (the pyenv python3 on PATH does not)
[ -x "$BIN" ] || { echo "make_voice: $BIN not found; build it first (cmake --build <dir> --target imprecise_cli)" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "make_voice: espeak-ng not found (scripts/install-deps.sh)" >&2; exit 1; }

echo "== 1/7 synthetic clips (espeak-ng, seed 2026) -> $DATA/voice"
$PY scripts/make_voice_data.py --seed 2026 --out "$DATA/voice" --jobs 2

echo "== 2/7 committed test fixtures (1 test clip per class, numpy's log-mel of stop.wav)"
if [ "$DATA" = data ]; then $PY scripts/make_voice_fixtures.py; else echo "(skipped: fixtures are built from data/voice only)"; fi

echo "== 3/7 features through the C++ front end"
for split in train calibration test; do
  "$BIN" features --pipeline voice --split "$split" --data-dir "$DATA" --out "$DATA/voice/features/$split"
done

echo "== 4/7 training (PyTorch, 1 thread, seed 0)"
$PY scripts/train_voice.py --features "$DATA/voice/features" --out models/voice.onnx --seed 0 --epochs 32

echo "== 5/7 evaluation by the C++ engine on the test split (voices unseen in training)"
mkdir -p docs/results
"$BIN" eval --pipeline voice --split test --data-dir "$DATA" | tee docs/results/voice_eval.json

echo "== 6/7 reliability plot"
$PY scripts/plot_reliability.py --pipeline voice --bin "$BIN" --features "$DATA/voice/features/test" \
    --out docs/results/voice_reliability.png

echo "== 7/7 scheduler profile (stage times, temperatures, replay CSVs -> models/) and exit-confidence AUROC"
"$BIN" profile --pipeline voice --data-dir "$DATA" >/dev/null
$PY scripts/make_voice_auroc.py --replay models/voice.replay_test.csv --index "$DATA/voice/test/index.csv"
