// Pad: one thread per output element; reads the input or writes the pad value.
#include "pad.cuh"

namespace imprecise::detail {
namespace {

__global__ void pad_kernel(const float* x, CudaDims in_dims, CudaDims begin, float* out, CudaDims dims, int rank,
                           std::int64_t count, float value) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t rest = i, off = 0, stride = 1;
    bool inside = true;
    for (int d = rank - 1; d >= 0; --d) {
      const std::int64_t idx = rest % dims.v[d] - begin.v[d];
      rest /= dims.v[d];
      inside = inside && idx >= 0 && idx < in_dims.v[d];
      off += idx * stride;
      stride *= in_dims.v[d];
    }
    out[i] = inside ? x[off] : value;
  }
}

}  // namespace

void launch_pad(const float* x, const CudaDims& in_dims, const CudaDims& begin, float* out, const CudaDims& out_dims,
                int rank, std::int64_t count, float value, cudaStream_t stream) {
  pad_kernel<<<cuda_blocks(count), 256, 0, stream>>>(x, in_dims, begin, out, out_dims, rank, count, value);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

}  // namespace imprecise::detail
