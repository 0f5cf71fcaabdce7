// Pad: constant padding of every axis (ONNX Pad, and the explicit padding before an asymmetric convolution).
#pragma once

#include <cstdint>

#include "common.cuh"

namespace imprecise::detail {

/// out (dims `out_dims`) = x (dims `in_dims`) placed at offset `begin` per axis, `value` elsewhere.
void launch_pad(const float* x, const CudaDims& in_dims, const CudaDims& begin, float* out, const CudaDims& out_dims,
                int rank, std::int64_t count, float value, cudaStream_t stream);

}  // namespace imprecise::detail
