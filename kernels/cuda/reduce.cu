// Reduce: one thread per output element, walking the reduced axes.
#include "reduce.cuh"

namespace imprecise::detail {
namespace {

__global__ void reduce_kernel(bool max, const float* x, ReduceAxes axes, float* out, std::int64_t out_count,
                              std::int64_t reduced_count) {
  for (std::int64_t o = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; o < out_count;
       o += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t rest = o, base = 0;
    for (int d = axes.kept - 1; d >= 0; --d) {
      base += (rest % axes.kept_dims.v[d]) * axes.kept_strides.v[d];
      rest /= axes.kept_dims.v[d];
    }
    float acc = max ? -INFINITY : 0.0f;
    for (std::int64_t r = 0; r < reduced_count; ++r) {
      std::int64_t rr = r, off = base;
      for (int d = axes.reduced - 1; d >= 0; --d) {
        off += (rr % axes.reduced_dims.v[d]) * axes.reduced_strides.v[d];
        rr /= axes.reduced_dims.v[d];
      }
      acc = max ? fmaxf(acc, x[off]) : acc + x[off];
    }
    out[o] = max ? acc : acc / static_cast<float>(reduced_count);
  }
}

}  // namespace

void launch_reduce(bool max, const float* x, const ReduceAxes& axes, float* out, std::int64_t out_count,
                   std::int64_t reduced_count, cudaStream_t stream) {
  reduce_kernel<<<cuda_blocks(out_count), 256, 0, stream>>>(max, x, axes, out, out_count, reduced_count);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

}  // namespace imprecise::detail
