// Global pooling: the max or mean of each [batch, channel] plane (GlobalMaxPool / GlobalAveragePool).
#pragma once

#include <cstdint>

#include "common.cuh"

namespace imprecise::detail {

void launch_global_pool(bool max, const float* x, float* out, std::int64_t planes, std::int64_t spatial,
                        cudaStream_t stream);

}  // namespace imprecise::detail
