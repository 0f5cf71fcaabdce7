#!/usr/bin/env bash
# Installs the Debian 12 packages imprecise needs to build, test and plot (skips what is present).
set -euo pipefail
packages=(cmake g++ ninja-build pkg-config libeigen3-dev libfmt-dev nlohmann-json3-dev libcli11-dev
          libgtest-dev libgmock-dev libbenchmark-dev libonnx-dev libprotobuf-dev libdnnl-dev python3-matplotlib python3-numpy
          clang-14 libclang-rt-14-dev zlib1g-dev dataset-fashion-mnist espeak-ng
          libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libcpp-httplib-dev prometheus python3-grpcio
          pybind11-dev python3-dev)
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
