#!/usr/bin/env bash
# Tunes the parameter of the two parametric baselines, edf-threshold:T (confidence early exit) and
# edf-fixed:K (K stages always), the way their users would: in the simulator on the scenario's
# CALIBRATION split (`--jobs-from calibration`), never on the test split the results are reported on.
# The best T and the best K (highest mean accuracy over 3 seeds at the given load) are printed as
# `edf-threshold:T,edf-fixed:K` on stdout; the whole table goes to OUT/summary.csv.
# Usage: scripts/tune_baselines.sh [SCENARIO] [LOAD] [OUT]   (defaults: scenarios/edge_server.json 2 out/tuning)
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/edge_server.json}
load=${2:-2}
out=${3:-out/tuning}
bin=${IMPRECISE_BIN:-build/default/bin/imprecise}
stages=$(/usr/bin/python3 - "$scenario" <<'PY'
import json, os, sys
path = sys.argv[1]
sc = json.load(open(path))
def stages(model):
    p = model["profile"]
    if isinstance(p, str):
        p = json.load(open(os.path.join(os.path.dirname(path), p)))
        return len(p["stages"]) if "stages" in p else len(p["table"])
    return len(p["stage_ms"])
print(min(stages(m) for m in sc["models"]))
PY
)
policies=""
for t in 0.5 0.6 0.7 0.75 0.8 0.85 0.9 0.95 0.97 0.99; do policies+="edf-threshold:$t,"; done
for ((k = 1; k <= stages; k++)); do policies+="edf-fixed:$k,"; done
"$bin" sweep --scenario "$scenario" --jobs-from calibration --policies "${policies%,}" --loads "$load" --seeds 3 \
  --out "$out" --no-plot >/dev/null
/usr/bin/python3 - "$out/summary.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def best(prefix):
    family = [r for r in rows if r["policy"].startswith(prefix)]
    return max(family, key=lambda r: float(r["accuracy"]))["policy"]
print(f'{best("edf-threshold:")},{best("edf-fixed:")}')
PY
