// Transpose: permutes the axes of a tensor (ONNX Transpose).
#pragma once

#include <cstdint>

#include "common.cuh"

namespace imprecise::detail {

/// out (dims `out_dims`, `rank` axes) = x read with `in_steps[d]` = x's element stride of the input
/// axis that output axis d comes from.
void launch_transpose(const float* x, const CudaDims& in_steps, float* out, const CudaDims& out_dims, int rank,
                      std::int64_t count, cudaStream_t stream);

}  // namespace imprecise::detail
