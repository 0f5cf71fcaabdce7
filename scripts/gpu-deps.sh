#!/usr/bin/env bash
# Run HERE (Debian 12, root, apt works), before a GPU check: downloads into .gpu-deps/debs the Debian
# packages the CUDA build needs that the lent GPU machine lacks (it has CUDA, cuDNN, CMake, ninja,
# g++, PyTorch, but no network and no Debian -dev packages). scripts/gpu-check.sh unpacks them there
# with `dpkg -x` into a private prefix (never into /). .gpu-deps/ is ignored (.git/info/exclude), so
# the device call names it in `carry`.
#
#   scripts/gpu-deps.sh                    # -> .gpu-deps/debs/*.deb + .gpu-deps/MANIFEST.txt
#   GPU_DEPS_WITH_DATASETS=1 scripts/gpu-deps.sh   # also dataset-fashion-mnist (+30 MiB; the vision
#                                                  # test set; gpu-check.sh links it into /usr/share/datasets)
#
# Not carried: libc6, libstdc++6, libgcc-s1 and other base libraries (the GPU machine has its own,
# newer ones); the script checks that what it carries needs no glibc newer than 2.36 (Ubuntu 24.04
# has 2.39) and lists every NEEDED library that is neither carried nor in the base set.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.gpu-deps/debs"
manifest="$root/.gpu-deps/MANIFEST.txt"

# What CMake finds (CMakeLists.txt, src/*/, tests/, benchmarks/, examples/): fmt, nlohmann_json, CLI11,
# Eigen3, ZLIB, Protobuf + ONNX (config; its targets reference onnxifi's files, so libonnxifi too),
# GTest/GMock (Debian 12 ships them as static libraries in the -dev packages), benchmark.
dev=(libeigen3-dev libfmt-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
     libonnx-dev libprotobuf-dev zlib1g-dev)
# Their shared-library runtimes (what `apt-cache depends` pulls in below the -dev packages).
runtime=(libfmt9 libbenchmark1debian libonnx1 libonnxifi libprotobuf32 libprotobuf-lite32 zlib1g)
extra=()
[ "${GPU_DEPS_WITH_DATASETS:-0}" = 1 ] && extra+=(dataset-fashion-mnist)
# Dependencies deliberately left behind: base system (present there, newer) and build-only helpers.
base_re='^(libc6|libc6-dev|libc-dev|libgcc-s1|libstdc\+\+6|gcc-[0-9]+-base|libcrypt1|libcrypt-dev|libnsl-dev|libnsl2|libtirpc.*|linux-libc-dev|rpcsvc-proto|pkg-config|pkgconf|pkgconf-bin|libpkgconf3|googletest|debconf.*|dpkg|perl-base|libidn2-0|libunistring2|libssl.*|tzdata)$'
# Shared libraries the GPU machine's base system provides (what NEEDED may name without carrying it).
base_libs='^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|libz\.so\.1)$'

[ "$(dpkg --print-architecture)" = amd64 ] || { echo "gpu-deps: must run on amd64 (the GPU machine is x86-64)" >&2; exit 1; }
apt-get update -qq

wanted=("${dev[@]}" "${runtime[@]}" "${extra[@]}")
# Every package apt would install below them (Depends/PreDepends, no recommends), not descending into
# the base set: anything else must be carried (runtime=()) or named in base_re, else this stops.
declare -A seen=()
queue=("${wanted[@]}")
closure=()
while [ ${#queue[@]} -gt 0 ]; do
  p="${queue[0]}"
  queue=("${queue[@]:1}")
  [ -n "${seen[$p]:-}" ] && continue
  seen[$p]=1
  closure+=("$p")
  [[ "$p" =~ $base_re ]] && continue
  while read -r dep; do
    [ -n "$dep" ] && [ -z "${seen[$dep]:-}" ] && queue+=("$dep")
  done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
             --no-enhances "$p" | sed -n 's/^ *|\?\(Pre\)\?Depends: //p' | tr -d '<>' | sed 's/:amd64$//' | sort -u)
done
missing=()
for p in "${closure[@]}"; do
  [[ " ${wanted[*]} " == *" $p "* ]] && continue
  [[ "$p" =~ $base_re ]] && continue
  missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "gpu-deps: the dependency closure has packages neither carried nor known base: ${missing[*]}" >&2
  echo "gpu-deps: add them to runtime=() or base_re in $0" >&2
  exit 1
fi

rm -rf "$dest"
mkdir -p "$dest"
download="$(mktemp -d)"  # readable by apt's _apt user (no "unsandboxed" warning)
chmod 755 "$download"
chown _apt "$download" 2>/dev/null || true
(cd "$download" && apt-get download -qq "${wanted[@]}")
mv "$download"/*.deb "$dest"/
rmdir "$download"

# cuDNN headers from this machine, a stand-in used by gpu-check.sh only where the GPU machine has a
# cuDNN library without headers (same major version required there).
rm -rf "$root/.gpu-deps/cudnn-include"
cudnn_h="$(ls /usr/local/cuda/include/cudnn_version.h /usr/include/cudnn_version.h \
           /usr/include/x86_64-linux-gnu/cudnn_version.h 2>/dev/null | head -n 1 || true)"
if [ -n "$cudnn_h" ]; then
  mkdir -p "$root/.gpu-deps/cudnn-include"
  cp -L "$(dirname "$cudnn_h")"/cudnn*.h "$root/.gpu-deps/cudnn-include/"
fi

# Check the carried shared objects: NEEDED libraries and the newest glibc / libstdc++ symbol versions.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for deb in "$dest"/*.deb; do dpkg -x "$deb" "$scratch"; done
carried_sonames="$(find "$scratch" -name '*.so*' \( -type f -o -type l \) -printf '%f\n' | sort -u)"
bad=0
max_glibc="" max_glibcxx=""
{
  echo "# .gpu-deps: Debian $(cat /etc/debian_version) packages for the GPU machine (scripts/gpu-deps.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ))"
  echo
  for deb in "$dest"/*.deb; do
    printf '%-32s %-28s %8s KiB\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" "$(( $(stat -c %s "$deb") / 1024 ))"
  done
  echo
  echo "Left behind (base system there, or build-only): $(printf '%s\n' "${closure[@]}" | grep -E "$base_re" | tr '\n' ' ')"
  echo
  while IFS= read -r so; do
    for needed in $(objdump -p "$so" | awk '/NEEDED/ {print $2}'); do
      if ! grep -qxF "$needed" <<<"$carried_sonames" && ! [[ "$needed" =~ $base_libs ]]; then
        echo "UNRESOLVED: ${so#"$scratch"} needs $needed (neither carried nor base)"
        bad=1
      fi
    done
    g="$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1 || true)"
    x="$(objdump -T "$so" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -n 1 || true)"
    echo "${so#"$scratch"}: needs ${g:-no glibc symbols} ${x:-}"
    max_glibc="$(printf '%s\n%s\n' "$max_glibc" "$g" | sort -V | tail -n 1)"
    max_glibcxx="$(printf '%s\n%s\n' "$max_glibcxx" "$x" | sort -V | tail -n 1)"
  done < <(find "$scratch" -type f -name '*.so*' | sort)
  echo
  echo "newest symbol versions needed: $max_glibc $max_glibcxx (Ubuntu 24.04: GLIBC_2.39, GLIBCXX_3.4.32+)"
} >"$manifest"
# The limits: glibc 2.36 is Debian 12's own (Ubuntu 22.04 has 2.35, 24.04 has 2.39); GLIBCXX_3.4.30 is GCC 12's.
if [ "$(printf '%s\nGLIBC_2.36\n' "$max_glibc" | sort -V | tail -n 1)" != "GLIBC_2.36" ]; then
  echo "gpu-deps: carried libraries need $max_glibc, newer than Debian 12's GLIBC_2.36" >&2; bad=1
fi
grep '^UNRESOLVED' "$manifest" >&2 && bad=1
size="$(du -sh "$dest" | cut -f1)"
echo "gpu-deps: $(ls "$dest" | wc -l) packages, $size in $dest (manifest: $manifest)"
echo "gpu-deps: carried libraries need at most $max_glibc $max_glibcxx"
[ -d "$root/.gpu-deps/cudnn-include" ] && echo "gpu-deps: stand-in cuDNN headers $(awk '/define CUDNN_(MAJOR|MINOR|PATCHLEVEL)/ {printf "%s%s", sep, $3; sep="."}' \
  "$root/.gpu-deps/cudnn-include/cudnn_version.h") in .gpu-deps/cudnn-include"
echo "gpu-deps: carry .gpu-deps ($(du -sh "$root/.gpu-deps" | cut -f1) in all)"
bytes="$(du -sb "$dest" | cut -f1)"
[ "$bytes" -le $((50 * 1024 * 1024)) ] || { echo "gpu-deps: over 50 MiB ($size): the device call carries 64 MiB at most, the work tree included" >&2; bad=1; }
exit $bad
