// Softmax along one axis of a tensor viewed as [outer, n, inner] (ONNX Softmax, opset >= 13).
#pragma once

#include <cstdint>

#include "common.cuh"

namespace imprecise::detail {

void launch_softmax(const float* x, float* out, std::int64_t outer, std::int64_t n, std::int64_t inner,
                    cudaStream_t stream);

}  // namespace imprecise::detail
