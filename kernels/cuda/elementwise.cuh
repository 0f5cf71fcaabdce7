// Elementwise kernels: binary ops with NumPy broadcasting, parameterised activations, per-channel scale/shift
// (BatchNorm), row bias.
#pragma once

#include <cstdint>

#include "common.cuh"

namespace imprecise::detail {

enum class BinaryOp : int { add, sub, mul, div };

/// out[i] = a[..] op b[..] over `rank` axes of `out_dims`; a_strides/b_strides are element strides of
/// the operands broadcast to the output (0 on broadcast axes).
void launch_binary(BinaryOp op, const float* a, const CudaDims& a_strides, const float* b, const CudaDims& b_strides,
                   float* out, const CudaDims& out_dims, int rank, std::int64_t count, cudaStream_t stream);

/// The activations cuDNN has no mode for (ONNX semantics, the cpu backend's formulas).
enum class UnaryOp : int { clip, leaky_relu, hard_sigmoid, hard_swish, gelu, gelu_tanh, erf };

/// out[i] = op(x[i]) with op's parameters a, b: clip (lo, hi; max then min, so lo > hi gives hi),
/// leaky_relu (alpha), hard_sigmoid (alpha, beta); the others take none. x may be out.
void launch_unary(UnaryOp op, float a, float b, const float* x, float* out, std::int64_t count, cudaStream_t stream);

/// out = x * scale[c] + shift[c] with c = (i / inner) % channels (a BatchNormalization folded at load).
void launch_scale_shift(const float* x, const float* scale, const float* shift, float* out, std::int64_t count,
                        std::int64_t channels, std::int64_t inner, cudaStream_t stream);

/// y[r, j] += bias[j] for a row-major [rows, cols] matrix (the bias of a Gemm after cuBLAS).
void launch_add_row_bias(float* y, const float* bias, std::int64_t rows, std::int64_t cols, cudaStream_t stream);

}  // namespace imprecise::detail
