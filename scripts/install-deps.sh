#!/usr/bin/env bash
# Installs the Debian 12 packages imprecise needs to build, test and plot (skips what is present).
# With --training, also what the training scripts need (scripts/train_*.py: PyTorch and onnx, about 1 GB);
# neither the build nor the tests use them.
set -euo pipefail
training=0
for arg in "$@"; do
  case "$arg" in
    --training) training=1 ;;
    *) echo "install-deps.sh: unknown option '$arg' (known: --training)" >&2; exit 2 ;;
  esac
done
packages=(cmake g++ ninja-build pkg-config libeigen3-dev libfmt-dev nlohmann-json3-dev libcli11-dev
          libgtest-dev libgmock-dev libbenchmark-dev libonnx-dev libprotobuf-dev libdnnl-dev python3-matplotlib python3-numpy
          clang-14 libclang-rt-14-dev zlib1g-dev dataset-fashion-mnist espeak-ng
          libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libcpp-httplib-dev prometheus python3-grpcio
          pybind11-dev python3-dev)
[ "$training" = 1 ] && packages+=(python3-torch python3-onnx)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "imprecise: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
