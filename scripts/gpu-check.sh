#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds with CUDA, runs the cuda and nn tests and the cuda engine
# benchmarks, and writes docs/results/gpu-check.md. Exits non-zero (saying why) without a GPU.
#
#   scripts/gpu-check.sh            # build dir: build/gpu-check
#   BUILD_DIR=... JOBS=8 scripts/gpu-check.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/gpu-check}"
jobs="${JOBS:-$(nproc)}"
report="$root/docs/results/gpu-check.md"

fail() { echo "gpu-check: $*" >&2; exit 1; }

command -v nvidia-smi >/dev/null || fail "nvidia-smi not found: no NVIDIA driver on this machine"
nvidia-smi -L >/dev/null 2>&1 || fail "nvidia-smi sees no GPU (driver not loaded, or no device)"
gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1)"
[ -n "$gpu" ] || fail "nvidia-smi lists no GPU"
nvcc="${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
[ -x "$nvcc" ] || fail "nvcc not found (install the CUDA toolkit, or set CUDACXX)"

"$root/scripts/install-deps.sh"

# Native architecture first (the GPU at hand); CMake < 3.24 or an old nvcc lacks it, then 80;90.
configure() {
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DIMPRECISE_WITH_CUDA=ON \
        -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="$1"
}
arch=native
if ! configure native; then
  arch="80;90"
  rm -rf "$build"
  configure "80;90" || fail "configure failed"
fi
grep -q "IMPRECISE_CUDNN_LIBRARY:FILEPATH=/" "$build/CMakeCache.txt" ||
  fail "cuDNN not found next to the CUDA toolkit: the cuda backend was not built"
cmake --build "$build" -j "$jobs"

log="$build/gpu-check"
mkdir -p "$log"
status=0
(cd "$build" && ctest -L cuda --output-on-failure) >"$log/ctest_cuda.txt" 2>&1 || status=1
: >"$log/nn_tests.txt"
for t in "$build"/tests/nn_*_test; do  # every engine test program (the cpu reference included)
  echo "== $(basename "$t")" >>"$log/nn_tests.txt"
  "$t" --gtest_brief=1 >>"$log/nn_tests.txt" 2>&1 || status=1
done
# Skipped GPU tests on a GPU machine mean the backend did not see the device: that is a failure here
# (only the no-device check is expected to skip).
if grep "Skipped" "$log/ctest_cuda.txt" | grep -qv "CompilingWithoutADevice"; then
  grep "Skipped" "$log/ctest_cuda.txt" | grep -v "CompilingWithoutADevice" | head -n 5 >&2
  echo "gpu-check: some cuda tests were skipped on a GPU machine" >&2
  status=1
fi
"$build/benchmarks/engine_cuda_bench" --benchmark_min_time=0.2 >"$log/engine_cuda_bench.txt" 2>&1 || status=1
nvidia-smi >"$log/nvidia-smi.txt" 2>&1 || true
cat "$log/nvidia-smi.txt"

summary() { grep -E "tests passed|tests failed|Total Test time|^== |PASSED|FAILED|SKIPPED" "$1" || true; }
mkdir -p "$(dirname "$report")"
{
  echo "# GPU check"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- GPU: $gpu"
  echo "- nvcc: $("$nvcc" --version | tail -n 1)"
  echo "- CUDA architectures: $arch"
  echo "- commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- result: $([ $status -eq 0 ] && echo PASS || echo FAIL)"
  echo
  echo "## ctest -L cuda"
  echo
  echo '```'
  summary "$log/ctest_cuda.txt"
  echo '```'
  echo
  echo "## nn tests"
  echo
  echo '```'
  summary "$log/nn_tests.txt"
  echo '```'
  echo
  echo "## engine_cuda_bench (per stage, real time per batch)"
  echo
  echo '```'
  grep -E "^engine_cuda/|^-|^Benchmark" "$log/engine_cuda_bench.txt" || cat "$log/engine_cuda_bench.txt"
  echo '```'
  echo
  echo "## nvidia-smi"
  echo
  echo '```'
  cat "$log/nvidia-smi.txt"
  echo '```'
} >"$report"
echo "gpu-check: report in $report (logs in $log)"
[ $status -eq 0 ] || fail "some checks failed (see $log)"
