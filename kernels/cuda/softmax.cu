// Softmax: one thread per (outer, inner) line; the axis is short in the networks we run (classes, channels).
#include "softmax.cuh"

namespace imprecise::detail {
namespace {

__global__ void softmax_kernel(const float* x, float* out, std::int64_t lines, std::int64_t n, std::int64_t inner) {
  for (std::int64_t line = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; line < lines;
       line += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t base = (line / inner) * n * inner + line % inner;
    float top = -INFINITY;
    for (std::int64_t i = 0; i < n; ++i) top = fmaxf(top, x[base + i * inner]);
    float sum = 0.0f;
    for (std::int64_t i = 0; i < n; ++i) {
      const float e = expf(x[base + i * inner] - top);
      out[base + i * inner] = e;
      sum += e;
    }
    for (std::int64_t i = 0; i < n; ++i) out[base + i * inner] /= sum;
  }
}

}  // namespace

void launch_softmax(const float* x, float* out, std::int64_t outer, std::int64_t n, std::int64_t inner,
                    cudaStream_t stream) {
  softmax_kernel<<<cuda_blocks(outer * inner), 256, 0, stream>>>(x, out, outer * inner, n, inner);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

}  // namespace imprecise::detail
