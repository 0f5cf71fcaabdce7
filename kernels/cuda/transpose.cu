// Transpose: one thread per output element, gathering from the permuted input.
#include "transpose.cuh"

namespace imprecise::detail {
namespace {

__global__ void transpose_kernel(const float* x, CudaDims steps, float* out, CudaDims dims, int rank,
                                 std::int64_t count) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t rest = i, off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      off += (rest % dims.v[d]) * steps.v[d];
      rest /= dims.v[d];
    }
    out[i] = x[off];
  }
}

}  // namespace

void launch_transpose(const float* x, const CudaDims& in_steps, float* out, const CudaDims& out_dims, int rank,
                      std::int64_t count, cudaStream_t stream) {
  transpose_kernel<<<cuda_blocks(count), 256, 0, stream>>>(x, in_steps, out, out_dims, rank, count);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

}  // namespace imprecise::detail
