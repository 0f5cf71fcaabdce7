// Shared by every CUDA kernel and the cuda backend: error-checking macros and the kernel parameter types.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace imprecise::detail {

// Defined in cuda_error.cpp (host code) so the kernels need neither fmt nor the cuDNN/cuBLAS headers.
[[noreturn]] void throw_cuda_error(cudaError_t status, const char* expr, const char* file, int line);
[[noreturn]] void throw_cudnn_error(int status, const char* expr, const char* file, int line);
[[noreturn]] void throw_cublas_error(int status, const char* expr, const char* file, int line);

inline void check_cuda(cudaError_t status, const char* expr, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_error(status, expr, file, line);
}
// cudnnStatus_t / cublasStatus_t are plain enums whose success value is 0.
inline void check_cudnn(int status, const char* expr, const char* file, int line) {
  if (status != 0) throw_cudnn_error(status, expr, file, line);
}
inline void check_cublas(int status, const char* expr, const char* file, int line) {
  if (status != 0) throw_cublas_error(status, expr, file, line);
}

/// Up to this many axes per tensor (matches the CPU backend's limit).
inline constexpr int kCudaMaxRank = 8;

/// Dimensions or element strides of one tensor, passed to kernels by value.
struct CudaDims {
  std::int64_t v[kCudaMaxRank];
};

/// Launch geometry for a grid-stride loop over `n` elements.
inline unsigned int cuda_blocks(std::int64_t n, int threads = 256) {
  const std::int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > 65535 ? 65535 : blocks));
}

}  // namespace imprecise::detail

/// Throw imprecise::Error("<file>:<line>: <expr>: <library error string>") when a call fails.
#define IMPRECISE_CUDA_CHECK(expr) ::imprecise::detail::check_cuda((expr), #expr, __FILE__, __LINE__)
#define IMPRECISE_CUDNN_CHECK(expr) \
  ::imprecise::detail::check_cudnn(static_cast<int>(expr), #expr, __FILE__, __LINE__)
#define IMPRECISE_CUBLAS_CHECK(expr) \
  ::imprecise::detail::check_cublas(static_cast<int>(expr), #expr, __FILE__, __LINE__)
/// After a kernel launch: launch-configuration errors surface here, not at the next call.
#define IMPRECISE_CUDA_CHECK_LAUNCH() IMPRECISE_CUDA_CHECK(cudaGetLastError())
