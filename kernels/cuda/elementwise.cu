// Elementwise kernels: broadcasting binary ops, parameterised activations, BatchNorm scale/shift, Gemm bias.
#include "elementwise.cuh"

namespace imprecise::detail {
namespace {

template <BinaryOp Op>
__global__ void binary_kernel(const float* a, CudaDims sa, const float* b, CudaDims sb, float* out, CudaDims dims,
                              int rank, std::int64_t count) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t rest = i, oa = 0, ob = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const std::int64_t idx = rest % dims.v[d];
      rest /= dims.v[d];
      oa += idx * sa.v[d];
      ob += idx * sb.v[d];
    }
    const float x = a[oa], y = b[ob];
    if constexpr (Op == BinaryOp::add) out[i] = x + y;
    else if constexpr (Op == BinaryOp::sub) out[i] = x - y;
    else if constexpr (Op == BinaryOp::mul) out[i] = x * y;
    else out[i] = x / y;
  }
}

__device__ float unary(UnaryOp op, float a, float b, float x) {
  switch (op) {
    case UnaryOp::clip: return fminf(fmaxf(x, a), b);
    case UnaryOp::leaky_relu: return x >= 0.0f ? x : a * x;
    case UnaryOp::hard_sigmoid: return fminf(fmaxf(a * x + b, 0.0f), 1.0f);
    case UnaryOp::hard_swish: return x * fminf(fmaxf(x * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
    case UnaryOp::gelu: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case UnaryOp::gelu_tanh: return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case UnaryOp::erf: return erff(x);
  }
  return x;
}

__global__ void unary_kernel(UnaryOp op, float a, float b, const float* x, float* out, std::int64_t count) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    out[i] = unary(op, a, b, x[i]);
}

__global__ void scale_shift_kernel(const float* x, const float* scale, const float* shift, float* out,
                                   std::int64_t count, std::int64_t channels, std::int64_t inner) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t c = (i / inner) % channels;
    out[i] = x[i] * scale[c] + shift[c];
  }
}

__global__ void row_bias_kernel(float* y, const float* bias, std::int64_t count, std::int64_t cols) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    y[i] += bias[i % cols];
}

}  // namespace

void launch_binary(BinaryOp op, const float* a, const CudaDims& a_strides, const float* b, const CudaDims& b_strides,
                   float* out, const CudaDims& out_dims, int rank, std::int64_t count, cudaStream_t stream) {
  const unsigned int blocks = cuda_blocks(count);
  switch (op) {
    case BinaryOp::add: binary_kernel<BinaryOp::add><<<blocks, 256, 0, stream>>>(a, a_strides, b, b_strides, out, out_dims, rank, count); break;
    case BinaryOp::sub: binary_kernel<BinaryOp::sub><<<blocks, 256, 0, stream>>>(a, a_strides, b, b_strides, out, out_dims, rank, count); break;
    case BinaryOp::mul: binary_kernel<BinaryOp::mul><<<blocks, 256, 0, stream>>>(a, a_strides, b, b_strides, out, out_dims, rank, count); break;
    case BinaryOp::div: binary_kernel<BinaryOp::div><<<blocks, 256, 0, stream>>>(a, a_strides, b, b_strides, out, out_dims, rank, count); break;
  }
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

void launch_unary(UnaryOp op, float a, float b, const float* x, float* out, std::int64_t count, cudaStream_t stream) {
  unary_kernel<<<cuda_blocks(count), 256, 0, stream>>>(op, a, b, x, out, count);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

void launch_scale_shift(const float* x, const float* scale, const float* shift, float* out, std::int64_t count,
                        std::int64_t channels, std::int64_t inner, cudaStream_t stream) {
  scale_shift_kernel<<<cuda_blocks(count), 256, 0, stream>>>(x, scale, shift, out, count, channels, inner);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

void launch_add_row_bias(float* y, const float* bias, std::int64_t rows, std::int64_t cols, cudaStream_t stream) {
  row_bias_kernel<<<cuda_blocks(rows * cols), 256, 0, stream>>>(y, bias, rows * cols, cols);
  IMPRECISE_CUDA_CHECK_LAUNCH();
}

}  // namespace imprecise::detail
