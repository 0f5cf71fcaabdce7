#!/usr/bin/env bash
# Quick start, command 2: installs what is missing, configures, builds and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
preset=${IMPRECISE_PRESET:-default}
cmake --preset "$preset" -DIMPRECISE_BUILD_TESTS=ON >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
scripts/make_test_sets.sh  # voice and LIDAR test sets (about 45 s) for the edge-server smoke test
ctest --preset "$preset" -j "$(nproc)"
