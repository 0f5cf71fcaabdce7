// Global pooling: one warp per plane, lanes stride over the plane and meet in a shuffle reduction.
#include "global_pool.cuh"

namespace imprecise::detail {
namespace {

constexpr int kWarpsPerBlock = 8;

__global__ void global_pool_kernel(bool max, const float* x, float* out, std::int64_t planes, std::int64_t spatial) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const std::int64_t warp = blockIdx.x * static_cast<std::int64_t>(kWarpsPerBlock) + threadIdx.x / 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarpsPerBlock;
  for (std::int64_t p = warp; p < planes; p += warps) {
    const float* v = x + p * spatial;
    float acc = max ? -INFINITY : 0.0f;
    for (std::int64_t i = lane; i < spatial; i += 32) acc = max ? fmaxf(acc, v[i]) : acc + v[i];
    for (int offset = 16; offset > 0; offset /= 2) {
      const float other = __shfl_down_sync(0xffffffffu, acc, offset);
      acc = max ? fmaxf(acc, other) : acc + other;
    }
    if (lane == 0) out[p] = max ? acc : acc / static_cast<float>(spatial);
  }
}

}  // namespace

void launch_global_pool(bool max, const float* x, float* out, std::int64_t planes, std::int64_t spatial,
                        cudaStream_t stream) {
  const unsigned int blocks = cuda_blocks(planes, kWarpsPerBlock);
  global_pool_kernel<<<blocks, kWarpsPerBlock * 32, 0, stream>>>(max, x, out, planes, spatial);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

}  // namespace imprecise::detail
