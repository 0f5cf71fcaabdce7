// Reduce: max or mean over any set of axes (ONNX ReduceMax / ReduceMean).
#pragma once

#include <cstdint>

#include "common.cuh"

namespace imprecise::detail {

/// The input's axes split in two lists, each in input order with its element strides: the kept
/// axes (one output element per index, row-major) and the reduced ones.
struct ReduceAxes {
  CudaDims kept_dims, kept_strides, reduced_dims, reduced_strides;
  int kept = 0, reduced = 0;
};

void launch_reduce(bool max, const float* x, const ReduceAxes& axes, float* out, std::int64_t out_count,
                   std::int64_t reduced_count, cudaStream_t stream);

}  // namespace imprecise::detail
