#!/usr/bin/env bash
# Generates ONLY the test splits of the synthetic voice and lidar data sets (what the edge-server
# experiment reads), if they are missing: $DATA/voice/test/ and $DATA/lidar/test.ipcl. They come out
# byte-identical to those of a full run of scripts/make_voice.sh / scripts/make_lidar.sh (same seed
# and counts; every clip / scene is seeded by its split and index). Existing data is left alone unless
# an older generator script made it (a hash stamp next to each split); when both are current the script
# prints nothing.
# Usage (repo root or anywhere):  scripts/make_test_sets.sh     data dir: ${IMPRECISE_DATA_DIR:-data}
# Takes 16 s (quiet) to 52 s (busy) on a 2-core VM (the two generators run in parallel; a progress line every 5 s on
# stderr). Needs espeak-ng.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${IMPRECISE_DATA_DIR:-data}
PY=/usr/bin/python3  # has numpy (the pyenv python3 on PATH may not)

# A split made by an older recipe (another generator script) is stale: the committed replay sets and
# models belong to the current one. Each split records its generator's hash next to it.
recipe() { sha256sum "scripts/make_$1_data.py" | cut -c1-16; }
stamp_voice=$DATA/voice/test/.recipe stamp_lidar=$DATA/lidar/test.recipe
current() { [ -f "$2" ] && [ -f "$3" ] && [ "$(cat "$3")" = "$(recipe "$1")" ]; }
jobs=()
current voice "$DATA/voice/test/index.csv" "$stamp_voice" || jobs+=(voice)  # index.csv is written last: a complete split
current lidar "$DATA/lidar/test.ipcl" "$stamp_lidar" || jobs+=(lidar)       # written atomically
[ ${#jobs[@]} -gt 0 ] || exit 0
for job in "${jobs[@]}"; do
  case $job in
    voice) [ ! -d "$DATA/voice/test" ] || { echo "make_test_sets: $DATA/voice/test is from another recipe: regenerating"; rm -rf "$DATA/voice/test"; } ;;
    lidar) [ ! -f "$DATA/lidar/test.ipcl" ] || echo "make_test_sets: $DATA/lidar/test.ipcl is from another recipe: regenerating" ;;
  esac
done

if [[ " ${jobs[*]} " == *" voice "* ]]; then
  command -v espeak-ng >/dev/null ||
    { echo "make_test_sets: espeak-ng not found (install it with scripts/install-deps.sh)" >&2; exit 1; }
fi
"$PY" -c "import numpy" 2>/dev/null || { echo "make_test_sets: $PY lacks numpy (scripts/install-deps.sh)" >&2; exit 1; }

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
start=$SECONDS
declare -A pid
for job in "${jobs[@]}"; do
  case $job in
    voice)  # the arguments of scripts/make_voice.sh, test split only
      echo "make_test_sets: voice test split, 1400 espeak-ng clips (seed 2026) -> $DATA/voice/test"
      cmd=("$PY" scripts/make_voice_data.py --seed 2026 --out "$DATA/voice" --jobs 2 --splits test) ;;
    lidar)  # the counts of scripts/make_lidar.sh (the defaults); 2400 = the rows of models/lidar.replay_test.csv
      echo "make_test_sets: lidar test split, 2400 simulated scans -> $DATA/lidar/test.ipcl"
      cmd=("$PY" scripts/make_lidar_data.py --out "$DATA/lidar" --train 9600 --calibration 2400 --test 2400
           --splits test) ;;
  esac
  ( t=$SECONDS; "${cmd[@]}"; echo $((SECONDS - t)) >"$LOGS/$job.s" ) >"$LOGS/$job.log" 2>&1 &
  pid[$job]=$!
done

# Progress: every 5 s, each generator's last progress line (they print one per 200 items), to stderr.
(
  while sleep 5; do
    line=""
    for job in "${jobs[@]}"; do
      last=$(grep -E '[0-9]+/[0-9]+ (clips|scans)' "$LOGS/$job.log" 2>/dev/null | tail -n 1 || true)
      line+="${line:+; }$job ${last:-starting}"
    done
    echo "make_test_sets: $((SECONDS - start)) s: $line" >&2
  done
) &
progress=$!
failed=()
for job in "${jobs[@]}"; do
  wait "${pid[$job]}" || failed+=("$job")
done
kill "$progress" 2>/dev/null || true
wait "$progress" 2>/dev/null || true
if [ ${#failed[@]} -gt 0 ]; then
  for job in "${failed[@]}"; do
    echo "make_test_sets: the $job generator failed; its output:" >&2
    tail -n 20 "$LOGS/$job.log" >&2
  done
  exit 1
fi
times=""
for job in "${jobs[@]}"; do
  times+="${times:+, }$job $(cat "$LOGS/$job.s") s"
  stamp=stamp_$job
  recipe "$job" >"${!stamp}"
done
echo "make_test_sets: done in $((SECONDS - start)) s ($times)"
