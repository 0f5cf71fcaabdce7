#!/usr/bin/env bash
# Quick start, command 2: installs what is missing, configures, builds and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
preset=${IMPRECISE_PRESET:-default}
cmake --preset "$preset" -DIMPRECISE_BUILD_TESTS=ON >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j "$(nproc)"
