#!/usr/bin/env bash
# shellcheck disable=SC2046  # $(...) lists of folders without blanks, split on purpose
# On a machine with an NVIDIA GPU: builds with CUDA, runs `ctest -L cuda`, every nn test program,
# engine_cuda_bench and the PyTorch / ONNX Runtime baselines (scripts/gpu_bench_torch.py), and writes
# docs/results/gpu-check.md. Made for the lent GPU machine (no network, no Debian -dev packages): when
# .gpu-deps/debs exists (scripts/gpu-deps.sh, run beforehand on a Debian 12 machine) the packages are
# unpacked with dpkg -x into a private prefix (GPU_PREFIX, default /tmp/gpu-prefix; never /) and the
# build uses them, and scripts/install-deps.sh (apt) is skipped. cuDNN is searched for (toolkit, /usr,
# pip's nvidia/cudnn of every python) and handed to CMake as IMPRECISE_CUDNN_INCLUDE_DIR/_LIBRARY.
#
#   scripts/gpu-check.sh                    # everything; build dir build/gpu-check
#   OUT=/some/dir scripts/gpu-check.sh      # also copies the report and all logs (one tarball) there
#   scripts/gpu-check.sh --configure-only   # no GPU needed: deps, environment, configure; then stops
#   BUILD_DIR=... LOG_DIR=... REPORT=... JOBS=16 CTEST_JOBS=8 GPU_CHECK_BUDGET=540 PYTHON=... scripts/gpu-check.sh
#   (cuDNN: CUDNN_ROOT=DIR, or CUDNN_INCLUDE_DIR + CUDNN_LIBRARY; CUDA_ARCHITECTURES overrides the GPU's;
#    GPU_CHECK_CLEAN=1 wipes the build folder first; GPU_CHECK_TORCH=0 / GPU_CHECK_SANITIZE=0 skip steps)
#
# It keeps going after a failing step (each one is bounded by a timeout), so that one run tells as
# much as it can, and exits non-zero if any step failed. GPU_CHECK_BUDGET (seconds, default 540) is
# the time the whole script may take: steps are cut short so that the report is still written, and
# the report and logs are copied to $OUT after every step. Stdout ends with a compact summary.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 2
build="${BUILD_DIR:-$root/build/gpu-check}"
logs="${LOG_DIR:-$root/build/gpu-check-logs}"
jobs="${JOBS:-$(nproc)}"
ctest_jobs="${CTEST_JOBS:-8}"
budget="${GPU_CHECK_BUDGET:-540}"
prefix="${GPU_PREFIX:-/tmp/gpu-prefix}"
debs="$root/.gpu-deps/debs"
report="${REPORT:-$root/docs/results/gpu-check.md}"
configure_only=0
[ "${1:-}" = "--configure-only" ] && configure_only=1
# A set-up check must not overwrite the committed report of a real GPU run.
[ "$configure_only" = 1 ] && [ -z "${REPORT:-}" ] && report="$logs/gpu-check.md"
t_start=$(date +%s)
orig_ld="${LD_LIBRARY_PATH:-}"
orig_path="$PATH"
multiarch=x86_64-linux-gnu

rm -rf "$logs"
mkdir -p "$logs"
say() { echo "gpu-check: $*"; }
elapsed() { echo $(( $(date +%s) - t_start )); }

# ---- bookkeeping: every step's result, the report, and the copies into $OUT -------------------------
steps=()
overall=0
note() { steps+=("| $1 | $2 | ${3:-} | ${4:-} |"); }

# run_step NAME MAX_SECONDS CMD...: runs CMD (an executable, not a function) with its output in
# $logs/NAME.log, bounded by MAX_SECONDS and by what is left of the budget (minus 40 s for the report).
run_step() {
  local name=$1 max=$2
  shift 2
  local left=$(( budget - $(elapsed) - 40 ))
  local limit=$(( max < left ? max : left ))
  if [ "$limit" -lt 15 ]; then
    note "$name" "NOT RUN (time budget spent)" 0
    say "[$name] not run: time budget spent"
    overall=1
    return 99
  fi
  local t0 rc dt status
  t0=$(date +%s)
  say "[$name] start (limit ${limit}s, at $(elapsed)s)"
  timeout -k 10 "$limit" "$@" >"$logs/$name.log" 2>&1
  rc=$?
  dt=$(( $(date +%s) - t0 ))
  status=ok
  [ $rc -eq 0 ] || status="FAIL (rc $rc)"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && status="TIMEOUT after ${limit}s"
  note "$name" "$status" "$dt"
  say "[$name] $status in ${dt}s"
  if [ $rc -ne 0 ]; then
    overall=1
    if grep -qE "error|FAILED" "$logs/$name.log"; then
      grep -E "error|FAILED|Error" "$logs/$name.log" | awk '!seen[$0]++' | head -n 12 | cut -c1-200 | sed 's/^/    | /'
    else
      tail -n 10 "$logs/$name.log" | cut -c1-200 | sed 's/^/    | /'
    fi
  fi
  checkpoint
  return $rc
}

checkpoint() {
  write_report >/dev/null 2>&1
  [ -n "${OUT:-}" ] || return 0
  mkdir -p "$OUT"
  cp -f "$report" "$OUT/gpu-check.md" 2>/dev/null
  for f in ctest_cuda.log torch_bench.md engine_cuda_bench.json engine_lanes_bench.json; do
    [ -f "$logs/$f" ] && cp -f "$logs/$f" "$OUT/$f"
  done
  # Everything else as one tarball (the device tool brings back 8 files at most).
  local extra=()
  [ -d "$build/Testing/Temporary" ] && extra+=(-C "$build" Testing/Temporary)
  [ -f "$build/CMakeCache.txt" ] && extra+=(-C "$build" CMakeCache.txt)
  tar -czf "$OUT/gpu-check-logs.tar.gz" -C "$(dirname "$logs")" "$(basename "$logs")" "${extra[@]}" 2>/dev/null
  return 0
}

# ---- discovery -------------------------------------------------------------------------------------
python_bin() {  # the python3 that holds torch (the GPU image's is /opt/torch/.venv/bin/python3)
  local p
  for p in ${PYTHON:-} python3 /opt/torch/.venv/bin/python3 /usr/bin/python3; do
    command -v "$p" >/dev/null 2>&1 || [ -x "$p" ] || continue
    PATH="$orig_path" LD_LIBRARY_PATH="$orig_ld" timeout 60 "$p" -c 'import torch' >/dev/null 2>&1 &&
      { command -v "$p"; return 0; }
  done
  command -v python3 || echo python3
}

site_dirs() {  # site-packages of every python here (pip's nvidia-* wheels carry cuDNN, cuBLAS, nvcc)
  local p
  for p in ${PYTHON:-} python3 /opt/torch/.venv/bin/python3 /usr/bin/python3; do
    command -v "$p" >/dev/null 2>&1 || [ -x "$p" ] || continue
    LD_LIBRARY_PATH="$orig_ld" timeout 30 "$p" -c \
      'import site, sys; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null
  done
  ls -d /opt/*/.venv/lib/python3*/site-packages /usr/local/lib/python3*/dist-packages 2>/dev/null
}

find_nvcc() {
  local c
  for c in "${CUDACXX:-}" "$(command -v nvcc 2>/dev/null)" /usr/local/cuda/bin/nvcc \
           $(ls -d /usr/local/cuda-*/bin/nvcc 2>/dev/null | sort -rV) \
           $(for s in $(site_dirs); do ls -d "$s"/nvidia/cu1*/bin/nvcc "$s"/nvidia/cuda_nvcc/bin/nvcc 2>/dev/null; done); do
    [ -n "$c" ] && [ -x "$c" ] && { readlink -f "$c"; return 0; }
  done
  return 1
}

cudnn_header_version() {  # DIR -> "9.13.0" from cudnn_version.h (or cudnn.h for old releases)
  local h="$1/cudnn_version.h"
  [ -f "$h" ] || h="$1/cudnn.h"
  awk '/#define CUDNN_MAJOR/ {a=$3} /#define CUDNN_MINOR/ {b=$3} /#define CUDNN_PATCHLEVEL/ {c=$3}
       END {if (a != "") print a "." b "." c}' "$h" 2>/dev/null
}

cudnn_roots() {  # where cuDNN usually is: CUDNN_ROOT, the toolkit, /usr, pip's nvidia/cudnn
  local s
  printf '%s\n' ${CUDNN_ROOT:-} "$cuda_root" /usr/local/cuda /usr/local/cudnn /opt/cudnn /usr
  ls -d /usr/local/cuda-* /opt/nvidia/cudnn* 2>/dev/null
  for s in $(site_dirs); do echo "$s/nvidia/cudnn"; done
}

cudnn_roots_found() {  # the parents of every lib folder holding libcudnn.so* (slow: only if the rest fail)
  timeout 60 find / -xdev \( -path /proc -o -path /sys -o -path "$root" \) -prune -o -name 'libcudnn.so*' -print \
    2>/dev/null | xargs -r -n1 dirname | xargs -r -n1 dirname | sort -u
}

cudnn_candidates() {  # ROOTS... -> lines "include_dir|library", in the order given
  local r inc lib d l
  if [ -n "${CUDNN_INCLUDE_DIR:-}" ] && [ -n "${CUDNN_LIBRARY:-}" ]; then echo "$CUDNN_INCLUDE_DIR|$CUDNN_LIBRARY"; fi
  for r in "$@"; do
    [ -d "$r" ] || continue
    inc=""
    for d in "$r/include" "$r/include/$multiarch" "$r/targets/x86_64-linux/include"; do
      [ -f "$d/cudnn.h" ] && { inc="$d"; break; }
    done
    lib=""
    for d in "$r/lib64" "$r/lib" "$r/lib/$multiarch" "$r/targets/x86_64-linux/lib"; do
      for l in "$d/libcudnn.so" $(ls "$d"/libcudnn.so.[0-9]* 2>/dev/null | sort -V | head -n 1); do
        [ -e "$l" ] && { lib="$l"; break 2; }
      done
    done
    [ -n "$lib" ] && echo "${inc:-none}|$lib"
  done | awk '!seen[$0]++'
}

# Reads "include|library" candidates on stdin (label: how they were found) and keeps the first whose header
# and library have the same major version; headers carried in .gpu-deps/cudnn-include stand in where a
# library has none beside it. Sets cudnn_inc, cudnn_lib, cudnn_ver; lists every candidate in cudnn_all.
pick_cudnn() {
  local label="$1" inc lib hv lv
  while IFS='|' read -r inc lib; do
    [ -n "$lib" ] || continue
    lv="$(basename "$(readlink -f "$lib")" | sed -n 's/^libcudnn\.so\.\([0-9]*\).*/\1/p')"
    hv="$( [ "$inc" != none ] && cudnn_header_version "$inc")"
    cudnn_all+="    ${label}: include ${inc} (${hv:-?}), library $lib (major ${lv:-?})"$'\n'
    if [ "$inc" = none ] && [ -d "$root/.gpu-deps/cudnn-include" ]; then
      inc="$root/.gpu-deps/cudnn-include"
      hv="$(cudnn_header_version "$inc")"
    fi
    [ "$inc" != none ] || continue
    if [ -z "$cudnn_lib" ] && { [ -z "$lv" ] || [ "${hv%%.*}" = "$lv" ]; }; then
      cudnn_inc="$inc" cudnn_lib="$lib" cudnn_ver="$hv"
    fi
  done
}

# The usual places first, then a search of the file system.
find_cudnn() {
  cudnn_inc="" cudnn_lib="" cudnn_ver="" cudnn_all=""
  pick_cudnn candidate < <(cudnn_candidates $(cudnn_roots))
  [ -n "$cudnn_lib" ] && return 0
  pick_cudnn "candidate (search)" < <(cudnn_candidates $(cudnn_roots_found))
}

find_cublas() {  # sets cublas_lib (empty when the toolkit's own is found by CMake)
  cublas_lib="" cublaslt_lib="" cublas_inc=""
  local d s
  for d in "$cuda_root/lib64" "$cuda_root/lib" "$cuda_root/targets/x86_64-linux/lib"; do
    ls "$d"/libcublas.so* >/dev/null 2>&1 && return 0
  done
  for s in $(site_dirs); do
    for d in "$s"/nvidia/cu1*/lib "$s"/nvidia/cublas/lib; do
      if ls "$d"/libcublas.so* >/dev/null 2>&1; then
        cublas_lib="$(ls "$d"/libcublas.so* | sort -V | head -n 1)"
        cublaslt_lib="$(ls "$d"/libcublasLt.so* 2>/dev/null | sort -V | head -n 1)"
        cublas_inc="$(dirname "$d")/include"
        return 0
      fi
    done
  done
}

# ---- the carried Debian packages -------------------------------------------------------------------
unpack_deps() {
  [ -d "$debs" ] || { say "no $debs: using the system's packages (scripts/install-deps.sh)"; return 1; }
  case "$prefix" in /|/usr|/usr/*) say "refusing to unpack into $prefix"; exit 2 ;; esac
  rm -rf "$prefix"
  mkdir -p "$prefix"
  local deb n=0 tmp
  for deb in "$debs"/*.deb; do
    if command -v dpkg-deb >/dev/null 2>&1; then
      dpkg-deb -x "$deb" "$prefix" || { say "could not unpack $deb"; overall=1; }
    else  # no dpkg: a .deb is an ar archive holding data.tar.*
      tmp="$(mktemp -d)"
      (cd "$tmp" && ar x "$deb" && tar -xf data.tar.* -C "$prefix") || { say "could not unpack $deb"; overall=1; }
      rm -rf "$tmp"
    fi
    n=$((n + 1))
  done
  # Absolute links (zlib1g-dev's libz.so -> /lib/x86_64-linux-gnu/libz.so.1.2.13) point into the prefix.
  local link target
  while IFS= read -r link; do
    target="$(readlink "$link")"
    [ -e "$prefix$target" ] && ln -sfn "$prefix$target" "$link"
  done < <(find "$prefix" -type l -lname '/*')
  # Run time: the machine's own zlib (newer) rather than Debian's, so that no tool loads the old one.
  local sys_z
  sys_z="$(ldconfig -p 2>/dev/null | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')"
  [ -n "$sys_z" ] || sys_z="$(ls /usr/lib/$multiarch/libz.so.1 /lib/$multiarch/libz.so.1 /usr/lib64/libz.so.1 2>/dev/null | head -n 1)"
  if [ -n "$sys_z" ]; then
    rm -f "$prefix"/lib/$multiarch/libz.so.1* "$prefix"/usr/lib/$multiarch/libz.so.1*
    ln -sfn "$sys_z" "$prefix/usr/lib/$multiarch/libz.so"
  fi
  # Data sets (GPU_DEPS_WITH_DATASETS=1): the code reads Fashion-MNIST from /usr/share/datasets, so a
  # link there (data only; nothing else of the prefix goes outside it).
  if [ -d "$prefix/usr/share/datasets/fashion-mnist" ] && [ ! -e /usr/share/datasets/fashion-mnist ]; then
    mkdir -p /usr/share/datasets && ln -s "$prefix/usr/share/datasets/fashion-mnist" /usr/share/datasets/fashion-mnist
  fi
  local broken
  broken="$(find "$prefix" -xtype l ! -path '*/share/doc/*' ! -path '*/usr/src/*' 2>/dev/null | head -n 5)"
  [ -z "$broken" ] || say "dangling links in the prefix: $broken"
  say "unpacked $n packages into $prefix ($(du -sh "$prefix" | cut -f1))"
  return 0
}

# ---- environment -----------------------------------------------------------------------------------
nvcc="$(find_nvcc || true)"
cuda_root="$( [ -n "$nvcc" ] && dirname "$(dirname "$nvcc")")"
py="$(python_bin)"

using_prefix=0
if unpack_deps; then
  using_prefix=1
  export CMAKE_PREFIX_PATH="$prefix/usr:$prefix/usr/lib/$multiarch/cmake:$prefix/usr/share/cmake${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export CMAKE_LIBRARY_PATH="$prefix/usr/lib/$multiarch:$prefix/usr/lib${CMAKE_LIBRARY_PATH:+:$CMAKE_LIBRARY_PATH}"
  export CMAKE_INCLUDE_PATH="$prefix/usr/include${CMAKE_INCLUDE_PATH:+:$CMAKE_INCLUDE_PATH}"
  export CPATH="$prefix/usr/include${CPATH:+:$CPATH}"
  export LIBRARY_PATH="$prefix/usr/lib/$multiarch:$prefix/usr/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
  export LD_LIBRARY_PATH="$prefix/usr/lib/$multiarch:$prefix/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PATH="$prefix/usr/bin:$PATH"
else
  "$root/scripts/install-deps.sh" >"$logs/install-deps.log" 2>&1 || { say "install-deps.sh failed"; overall=1; }
fi

cudnn_inc="" cudnn_lib="" cudnn_ver="" cudnn_all=""
cublas_lib="" cublaslt_lib="" cublas_inc=""
if [ -n "$nvcc" ]; then
  find_cudnn
  find_cublas
fi
[ -n "$cudnn_lib" ] && LD_LIBRARY_PATH="$(dirname "$cudnn_lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -n "$cublas_lib" ]; then
  LD_LIBRARY_PATH="$(dirname "$cublas_lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export CPATH="$cublas_inc${CPATH:+:$CPATH}"
fi
for d in "$cuda_root/lib64" "$cuda_root/lib"; do
  [ -n "$cuda_root" ] && [ -d "$d" ] && LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"
done
export LD_LIBRARY_PATH

gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null | head -n 1)"
cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')"
case "$cap" in ''|*[!0-9]*) arch="80;90" ;; *) arch="$cap" ;; esac
[ -n "${CUDA_ARCHITECTURES:-}" ] && arch="$CUDA_ARCHITECTURES"

{
  echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host:      $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}"), kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM"
  echo "glibc:     $(ldd --version 2>/dev/null | head -n 1)"
  echo "commit:    $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "GPUs:      $(nvidia-smi -L 2>&1 | tr '\n' ';')"
  echo "GPU:       ${gpu:-none} -> CUDA architectures $arch"
  echo "nvcc:      ${nvcc:-NOT FOUND} $( [ -n "$nvcc" ] && "$nvcc" --version 2>&1 | tail -n 2 | tr '\n' ' ')"
  echo "c++:       $(c++ --version 2>&1 | head -n 1)"
  echo "cmake:     $(command -v cmake) $(cmake --version 2>&1 | head -n 1)"
  echo "ninja:     $(command -v ninja) $(ninja --version 2>&1)"
  echo "cuDNN:     ${cudnn_lib:-NOT FOUND} (headers ${cudnn_inc:-none}, version ${cudnn_ver:-?})"
  printf '%s' "$cudnn_all"
  echo "cuBLAS:    ${cublas_lib:-from the toolkit in $cuda_root}"
  echo "deps:      $( [ $using_prefix = 1 ] && echo "carried Debian packages in $prefix ($(ls "$debs" | wc -l) .debs)" || echo "system (install-deps.sh)")"
  echo "python:    $py"
  echo "torch:     $(PATH="$orig_path" LD_LIBRARY_PATH="$orig_ld" timeout 120 "$py" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "available", torch.cuda.is_available())' 2>&1 | tail -n 1)"
  echo "ORT:       $(PATH="$orig_path" LD_LIBRARY_PATH="$orig_ld" timeout 60 "$py" -c 'import onnxruntime as o; print(o.__version__, o.get_available_providers())' 2>&1 | tail -n 1)"
  echo "onnx:      $(PATH="$orig_path" LD_LIBRARY_PATH="$orig_ld" timeout 60 "$py" -c 'import onnx; print(onnx.__version__)' 2>&1 | tail -n 1)"
  echo "sanitizer: $(command -v compute-sanitizer || ls "$cuda_root"/bin/compute-sanitizer "$cuda_root"/compute-sanitizer/compute-sanitizer 2>/dev/null | head -n 1)"
} >"$logs/env.txt" 2>&1
cat "$logs/env.txt"
nvidia-smi >"$logs/nvidia-smi-before.txt" 2>&1

# ---- the report ------------------------------------------------------------------------------------
engine_table() {  # engine_cuda_bench JSON -> markdown: per model and stage, median us at each batch
  [ -f "$logs/engine_cuda_bench.json" ] || { echo "(no engine_cuda_bench.json)"; return; }
  LD_LIBRARY_PATH="$orig_ld" "$py" - "$logs/engine_cuda_bench.json" <<'EOF'
import json, statistics, sys
data = json.load(open(sys.argv[1]))
scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
rows, errors, plain = {}, [], {}
for b in data.get("benchmarks", []):
    name = b.get("run_name", b["name"]).replace("/manual_time", "")
    if b.get("error_occurred"):
        errors.append(f"{name}: {b.get('error_message')}")
        continue
    p = name.split("/")
    if len(p) < 4 or p[0] != "engine_cuda":
        continue
    key = (p[1], int(p[2].split(":")[1]), int(p[3].split(":")[1]))
    us = b["real_time"] * scale.get(b.get("time_unit", "ns"), 1e-3)
    if b.get("run_type") == "aggregate":
        if b.get("aggregate_name") == "median":
            rows[key] = us
    else:
        plain.setdefault(key, []).append(us)
for k, v in plain.items():
    rows.setdefault(k, statistics.median(v))
batches = sorted({k[2] for k in rows})
print("| model | stage | " + " | ".join(f"batch {b} (µs)" for b in batches) + " | " +
      " | ".join(f"µs/sample @{b}" for b in batches[1:]) + " |")
print("|---|---:|" + "---:|" * (2 * len(batches) - 1))
for m, s in sorted({(k[0], k[1]) for k in rows}, key=lambda t: (t[0], t[1])):
    vals = [rows.get((m, s, b)) for b in batches]
    per = [rows.get((m, s, b)) / b if rows.get((m, s, b)) else None for b in batches[1:]]
    f = lambda v: "—" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")
    print(f"| {m} | {s} | " + " | ".join(map(f, vals)) + " | " + " | ".join(map(f, per)) + " |")
for e in errors[:10]:
    print(f"\nskipped/error: {e}")
EOF
}

staging_table() {  # engine_cuda_bench JSON -> markdown: host staging, device exit head vs host exit head
  [ -f "$logs/engine_cuda_bench.json" ] || { echo "(no engine_cuda_bench.json)"; return; }
  LD_LIBRARY_PATH="$orig_ld" "$py" - "$logs/engine_cuda_bench.json" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
rows = {}
for b in data.get("benchmarks", []):
    name = b.get("run_name", b["name"]).replace("/manual_time", "")
    p = name.split("/")
    if b.get("error_occurred") or len(p) < 4 or p[0] not in ("engine_cuda", "engine_cuda_host_head"):
        continue
    if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
        continue
    key = (p[1], int(p[2].split(":")[1]), int(p[3].split(":")[1]), p[0])
    if key in rows and b.get("run_type") != "aggregate":
        continue
    rows[key] = dict(b, us=b["real_time"] * scale.get(b.get("time_unit", "ns"), 1e-3))
keys = sorted({k[:3] for k in rows if k[3] == "engine_cuda_host_head"})
if not keys:
    print("(no engine_cuda_host_head rows)")
    sys.exit(0)
f = lambda v: "—" if v is None else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}")
g = lambda r, c: None if r is None else r.get(c)
print("| model | stage | batch | host head: total | device | host | answer | device head: total | device | host | answer | staging | stack | unstack | answered on device | host saved |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for m, s, bt in keys:
    h, d = rows.get((m, s, bt, "engine_cuda_host_head")), rows.get((m, s, bt, "engine_cuda"))
    saved = None if h is None or d is None else g(h, "host_us") - g(d, "host_us")
    print(f"| {m} | {s} | {bt} | " + " | ".join(f(v) for v in (
        g(h, "us"), g(h, "device_us"), g(h, "host_us"), g(h, "answer_us"),
        g(d, "us"), g(d, "device_us"), g(d, "host_us"), g(d, "answer_us"), g(d, "staging_us"), g(d, "stack_us"),
        g(d, "unstack_us"))) + f" | {g(d, 'device_answered') if d else '—'} | {f(saved)} |")
EOF
}

lanes_table() {  # engine_lanes_bench JSON -> markdown: jobs/s per lane count, and the ratio to one lane
  [ -f "$logs/engine_lanes_bench.json" ] || { echo "(no engine_lanes_bench.json)"; return; }
  LD_LIBRARY_PATH="$orig_ld" "$py" - "$logs/engine_lanes_bench.json" <<'EOF'
import json, statistics, sys
data = json.load(open(sys.argv[1]))
rate, errors = {}, []
for b in data.get("benchmarks", []):
    name = b.get("run_name", b["name"]).replace("/manual_time", "").split("/min_time")[0]
    if b.get("error_occurred"):
        errors.append(f"{name}: {b.get('error_message')}")
        continue
    if b.get("run_type") == "aggregate":
        continue
    p = name.split("/")  # engine_lanes/<backend>/<model>/lanes:<n>
    rate.setdefault((p[1], p[2], int(p[3].split(":")[1])), []).append(b["jobs_per_s"])
lanes = sorted({k[2] for k in rate})
print("| backend | model | " + " | ".join(f"{n} lane{'s' if n > 1 else ''} (jobs/s)" for n in lanes) + " | " +
      " | ".join(f"{n} / 1" for n in lanes[1:]) + " |")
print("|---|---|" + "---:|" * (2 * len(lanes) - 1))
for be, m in sorted({k[:2] for k in rate}):
    med = {n: statistics.median(rate[(be, m, n)]) for n in lanes if (be, m, n) in rate}
    f = lambda v: "—" if v is None else f"{v:.0f}"
    r = lambda n: f"{med[n] / med[1]:.2f}x" if n in med and 1 in med else "—"
    print(f"| {be} | {m} | " + " | ".join(f(med.get(n)) for n in lanes) + " | " + " | ".join(r(n) for n in lanes[1:]) + " |")
for e in list(dict.fromkeys(errors))[:10]:
    print(f"\nskipped/error: {e}")
EOF
}

nn_summary() {
  local f
  for f in "$logs"/nn/*.log; do
    [ -f "$f" ] || continue
    printf '%-28s %s\n' "$(basename "$f" .log)" \
      "$(grep -hE '^\[ +(PASSED|FAILED|SKIPPED) +\] [0-9]+ test' "$f" | tr -s ' ' | tr '\n' ' ')$(grep -q 'exit status' "$f" && grep -h 'exit status' "$f")"
  done
}

ctest_summary() {
  [ -f "$logs/ctest_cuda.log" ] || { echo "(not run)"; return; }
  grep -E "tests passed|tests failed|Total Test time|No tests were found" "$logs/ctest_cuda.log"
  grep -A 60 "The following tests FAILED" "$logs/ctest_cuda.log" | head -n 40
  grep -E "\*\*\*Skipped|Not Run|\*\*\*Timeout|\*\*\*Exception" "$logs/ctest_cuda.log" | head -n 20
}

failure_excerpt() {  # the first assertion messages of failed cuda tests
  [ -f "$logs/ctest_cuda.log" ] || return 0
  grep -E "Failure|error:|Expected|Which is|actual|CUDA error|cuDNN|CUBLAS|what\(\)|terminate|Segmentation|illegal" \
    "$logs/ctest_cuda.log" | grep -v "^\s*$" | awk '!seen[$0]++' | head -n "${1:-40}" | cut -c1-240
}

write_report() {
  mkdir -p "$(dirname "$report")"
  {
    echo "# GPU check"
    echo
    echo '```'
    cat "$logs/env.txt"
    echo "result:    $([ $overall -eq 0 ] && echo PASS || echo FAIL) after $(elapsed)s"
    echo '```'
    echo
    echo "## Steps"
    echo
    echo "| step | result | seconds | |"
    echo "|---|---|---:|---|"
    printf '%s\n' "${steps[@]}"
    echo
    echo "## ctest -L cuda"
    echo
    echo '```'
    ctest_summary
    echo '```'
    if grep -q "tests failed out of" "$logs/ctest_cuda.log" 2>/dev/null && ! grep -q " 0 tests failed" "$logs/ctest_cuda.log"; then
      echo
      echo "First failure messages:"
      echo
      echo '```'
      failure_excerpt 60
      echo '```'
    fi
    if [ -f "$logs/sanitizer.log" ]; then
      echo
      echo "## compute-sanitizer on the failed cuda tests"
      echo
      echo '```'
      grep -E "=========|\[  (FAILED|PASSED) \]" "$logs/sanitizer.log" | awk '!seen[$0]++' | head -n 60 | cut -c1-240
      echo '```'
    fi
    echo
    echo "## nn test programs"
    echo
    echo '```'
    nn_summary
    echo '```'
    echo
    echo "## engine_cuda_bench (median real time per run_stage call: host -> staging -> CUDA graph -> host)"
    echo
    engine_table
    echo
    echo "## Host staging: exit answered on the host (post_process, before) vs on the device (fused exit head in the graph)"
    echo
    echo "engine_cuda_bench rows engine_cuda_host_head/... (Options::device_exit_head = false) and engine_cuda/...;"
    echo "medians, µs per run_stage call. device: launch to synchronize (the graph with its H2D/D2H copies);"
    echo "host = total - device; answer: the ExitResults (post_process, or the device's answers copied in);"
    echo "staging: host tensors <-> pinned buffers inside the backend; stack/unstack: jobs' carried tensors <->"
    echo "the batch; answered on device: ExitResults per job answered by the device head (1 = all)."
    echo
    staging_table
    echo
    echo "## Lanes on the GPU (engine_lanes_bench: backlogs of 256 jobs, edf-full, max batch 8, medians of 3)"
    echo
    echo "Each lane is a replica of the model with its own CUDA streams, cuDNN and cuBLAS handles."
    echo
    lanes_table
    if [ -f "$logs/torch_bench.md" ]; then
      echo
      sed 's/^# /## /; s/^## Per stage/### Per stage/; s/^## Whole model/### Whole model/; s/^## Notes/### Notes/' "$logs/torch_bench.md"
    fi
    if [ -f "$logs/nvidia-smi-after.txt" ]; then
      echo
      echo "## nvidia-smi (after)"
      echo
      echo '```'
      cat "$logs/nvidia-smi-after.txt"
      echo '```'
    fi
  } >"$report"
}

# ---- configure, build ------------------------------------------------------------------------------
if [ $configure_only = 0 ] && [ -z "$gpu" ]; then
  note "gpu" "FAIL (nvidia-smi sees no GPU)" 0
  overall=1
  if ! ls /dev/nvidia[0-9]* >/dev/null 2>&1 && [ "${GPU_CHECK_FORCE:-0}" != 1 ]; then
    checkpoint
    say "no NVIDIA GPU here (nvidia-smi sees none, no /dev/nvidia*): nothing to check (--configure-only tries the set-up)"
    exit 1
  fi
fi
[ -n "$nvcc" ] || { note "nvcc" "FAIL (not found)" 0; overall=1; }
[ -n "$cudnn_lib" ] || { note "cuDNN" "FAIL (not found: the cuda backend cannot be built)" 0; overall=1; }

cmake_args=(-S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DIMPRECISE_WITH_CUDA=ON
            "-DCMAKE_CUDA_ARCHITECTURES=$arch")
[ -n "$nvcc" ] && cmake_args+=("-DCMAKE_CUDA_COMPILER=$nvcc")
[ $using_prefix = 1 ] && cmake_args+=("-DCMAKE_PREFIX_PATH=${CMAKE_PREFIX_PATH//:/;}")
[ -n "$cudnn_lib" ] && cmake_args+=("-DIMPRECISE_CUDNN_LIBRARY=$cudnn_lib" "-DIMPRECISE_CUDNN_INCLUDE_DIR=$cudnn_inc")
[ -n "$cublas_lib" ] && cmake_args+=("-DCUDA_cublas_LIBRARY=$cublas_lib")
[ -n "$cublaslt_lib" ] && cmake_args+=("-DCUDA_cublasLt_LIBRARY=$cublaslt_lib")
[ -n "${CUDA_FLAGS:-}" ] && cmake_args+=("-DCMAKE_CUDA_FLAGS=$CUDA_FLAGS")

[ "${GPU_CHECK_CLEAN:-0}" = 1 ] && rm -rf "$build"
if ! run_step configure 180 cmake "${cmake_args[@]}"; then
  if grep -qi "unsupported GNU version\|unsupported .*compiler" "$logs/configure.log"; then
    say "retrying with -allow-unsupported-compiler"
    rm -rf "$build"
    cmake_args+=("-DCMAKE_CUDA_FLAGS=${CUDA_FLAGS:-} -allow-unsupported-compiler")
    run_step configure-retry 180 cmake "${cmake_args[@]}"
  fi
fi
if [ -f "$build/CMakeCache.txt" ]; then
  {
    echo "where CMake found the packages:"
    grep -E '^(fmt|nlohmann_json|CLI11|Eigen3|GTest|benchmark|ONNX)_DIR|^Protobuf_(INCLUDE_DIR|LIBRARY(_RELEASE)?):|^ZLIB_(INCLUDE_DIR|LIBRARY(_RELEASE)?):|^IMPRECISE_CUDNN|^CUDA_cublas(Lt)?_LIBRARY:|^CMAKE_CUDA_COMPILER:|^CMAKE_CUDA_ARCHITECTURES|^CMAKE_CXX_COMPILER:' \
      "$build/CMakeCache.txt" | sed 's/^/    /'
    grep -hE "imprecise: " "$logs"/configure*.log | sed 's/^/    /'
  } | tee "$logs/configure-summary.txt"
  if ! grep -q "imprecise: cuda backend with" "$logs"/configure*.log; then
    note "cuda backend" "FAIL (not configured: see configure-summary.txt)" 0
    overall=1
  fi
  if grep -q "ONNX/protobuf not found" "$logs"/configure*.log; then
    note "nn engine" "FAIL (ONNX/protobuf not found: no nn tests)" 0
    overall=1
  fi
fi

if [ $configure_only = 1 ]; then
  if [ -n "${GPU_CHECK_TARGETS:-}" ] && [ -f "$build/build.ninja" ]; then
    # shellcheck disable=SC2086
    run_step build-targets 3600 cmake --build "$build" -j "$jobs" --target $GPU_CHECK_TARGETS
  fi
  checkpoint
  say "configure-only: $([ $overall -eq 0 ] && echo OK || echo FAILED) (logs in $logs)"
  exit $overall
fi

[ -f "$build/build.ninja" ] && run_step build 360 cmake --build "$build" -j "$jobs" -- -k 0

# ---- tests -----------------------------------------------------------------------------------------
if [ -f "$build/CTestTestfile.cmake" ]; then
  run_step ctest_cuda 180 ctest --test-dir "$build" -L cuda --output-on-failure -j "$ctest_jobs"
  # Skipped GPU tests on a GPU machine mean the backend did not see the device (only the no-device
  # check may skip).
  if grep -E "\*\*\*Skipped|Skipped" "$logs/ctest_cuda.log" | grep -v "CompilingWithoutADevice" | grep -q .; then
    note "cuda tests skipped" "FAIL ($(grep -cE '\*\*\*Skipped' "$logs/ctest_cuda.log") skipped on a GPU machine)" 0
    overall=1
  fi
  grep -q "No tests were found" "$logs/ctest_cuda.log" && { note "cuda tests" "FAIL (none registered)" 0; overall=1; }
fi

# compute-sanitizer on the failed cuda tests (at most 10), when there are some and time is left.
sanitizer="$(command -v compute-sanitizer || ls "$cuda_root"/bin/compute-sanitizer "$cuda_root"/compute-sanitizer/compute-sanitizer 2>/dev/null | head -n 1)"
failed_tests="$(sed -n '/The following tests FAILED/,$p' "$logs/ctest_cuda.log" 2>/dev/null |
                sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (.*/\1/p' | head -n 10 | paste -sd: -)"
if [ "${GPU_CHECK_SANITIZE:-auto}" != 0 ] && [ -n "$failed_tests" ] && [ -n "$sanitizer" ]; then
  # Every cuda test program (a filter naming another program's tests runs nothing there).
  while IFS= read -r cuda_test_bin; do
    run_step "sanitizer_$(basename "$cuda_test_bin")" 90 "$sanitizer" --tool memcheck --print-limit 20 "$cuda_test_bin" \
      --gtest_filter="$failed_tests"
  done < <(find "$build" -type f -perm -u+x \( -name 'nn_cuda_*test' -o -name 'runtime_cuda_*test' \) 2>/dev/null | sort)
fi

# Every nn test program directly (the cpu reference too), in parallel, one log each.
mkdir -p "$logs/nn"
mapfile -t nn_tests < <(find "$build" -type f -perm -u+x -name 'nn_*_test' 2>/dev/null | sort)
if [ ${#nn_tests[@]} -gt 0 ]; then
  cat >"$logs/nn/run.sh" <<'EOF'
#!/usr/bin/env bash
# runs one test program: $1 = program, $2 = log dir
cd "$(dirname "$1")" && "$1" --gtest_brief=1 >"$2/$(basename "$1").log" 2>&1
rc=$?
[ $rc -eq 0 ] || echo "exit status $rc" >>"$2/$(basename "$1").log"
echo "$(basename "$1"): exit $rc"
exit $rc
EOF
  chmod +x "$logs/nn/run.sh"
  run_step nn_tests 180 bash -c 'printf "%s\n" "${@:2}" | xargs -P 8 -I{} "$1/nn/run.sh" {} "$1/nn"' _ "$logs" "${nn_tests[@]}"
else
  note "nn_tests" "FAIL (no nn_*_test programs built)" 0
  overall=1
fi

# ---- benchmarks ------------------------------------------------------------------------------------
bench="$(find "$build" -type f -perm -u+x -name 'engine_cuda_bench' 2>/dev/null | head -n 1)"
if [ -n "$bench" ]; then
  run_step engine_cuda_bench 200 "$bench" --benchmark_min_time=0.1 --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_out="$logs/engine_cuda_bench.json" --benchmark_out_format=json
  if grep -q '"error_occurred": true' "$logs/engine_cuda_bench.json" 2>/dev/null; then
    note "engine_cuda_bench rows" "FAIL (rows skipped: $(grep -o '"error_message": "[^"]*"' "$logs/engine_cuda_bench.json" | sort -u | head -n 2 | tr '\n' ' '))" 0
    overall=1
  fi
else
  note "engine_cuda_bench" "FAIL (not built)" 0
  overall=1
fi

lanes_bench="$(find "$build" -type f -perm -u+x -name 'engine_lanes_bench' 2>/dev/null | head -n 1)"
if [ -n "$lanes_bench" ]; then
  run_step engine_lanes_bench 150 "$lanes_bench" --benchmark_filter='engine_lanes/cuda' --benchmark_repetitions=3 \
    --benchmark_out="$logs/engine_lanes_bench.json" --benchmark_out_format=json
else
  note "engine_lanes_bench" "FAIL (not built)" 0
  overall=1
fi

if [ "${GPU_CHECK_TORCH:-1}" != 0 ]; then
  run_step torch_bench 150 env PATH="$orig_path" LD_LIBRARY_PATH="$orig_ld" PYTHONUNBUFFERED=1 "$py" \
    "$root/scripts/gpu_bench_torch.py" --out "$logs/torch_bench.md" --json "$logs/torch_bench.json" \
    --engine-json "$logs/engine_cuda_bench.json"
fi

nvidia-smi >"$logs/nvidia-smi-after.txt" 2>&1
checkpoint

# ---- summary on stdout (the device tool returns the last 12,000 characters) ------------------------
echo
echo "================ gpu-check summary ================"
grep -E "^(GPU|nvcc|cuDNN|torch|ORT|c\+\+|cmake):" "$logs/env.txt"
printf '%s\n' "${steps[@]}"
echo "--- ctest -L cuda"
ctest_summary | head -n 40
if [ -n "$failed_tests" ]; then
  echo "--- first failure messages"
  failure_excerpt 25
fi
if [ -f "$logs/sanitizer.log" ]; then
  echo "--- compute-sanitizer"
  grep -E "^========= (Invalid|Program hit|Error|ERROR|.*at 0x|  *at )" "$logs/sanitizer.log" | awk '!seen[$0]++' | head -n 15 | cut -c1-200
fi
echo "--- nn test programs"
nn_summary
echo "--- engine_cuda_bench (median µs per run_stage call)"
engine_table | cut -c1-160
echo "--- host staging: host exit head vs device exit head (µs)"
staging_table | cut -c1-220
echo "--- lanes on the GPU (jobs/s)"
lanes_table | cut -c1-160
if [ -f "$logs/torch_bench.md" ]; then
  echo "--- PyTorch eager vs ours, batch 1 (µs; e2e/ours >= 2 is the target)"
  grep -E "^\| (model|---)|^\| [a-z0-9_]+ \| [0-9]+ \| 1 \|" "$logs/torch_bench.md" | sed -n '1,40p'
  grep -E "^- (device|ONNX Runtime)" "$logs/torch_bench.md"
fi
echo "result: $([ $overall -eq 0 ] && echo PASS || echo FAIL) in $(elapsed)s; report $report$( [ -n "${OUT:-}" ] && echo "; copied to \$OUT (gpu-check.md, gpu-check-logs.tar.gz, ...)")"
exit $overall
