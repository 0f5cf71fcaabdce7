// Windowed max/average pooling with ONNX semantics cuDNN does not cover (ceil_mode windows past the
// padding, asymmetric pads, dilations); PyTorch's divisor rules for average pooling.
#pragma once

#include <cstdint>

#include "common.cuh"

namespace imprecise::detail {

/// 2-D geometry (a 1-D pool has height 1), per plane; mirrors the CPU backend's Window.
struct PoolGeometry {
  std::int64_t height, width, out_height, out_width;
  std::int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  std::int64_t pad_top, pad_left, pad_bottom, pad_right;
};

void launch_pool(bool max, bool count_include_pad, const float* x, float* out, std::int64_t planes,
                 const PoolGeometry& g, cudaStream_t stream);

}  // namespace imprecise::detail
