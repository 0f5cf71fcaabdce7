// The throwing half of the IMPRECISE_*_CHECK macros: formats file:line, the call and the library's own error string.
#include <cublas_v2.h>
#include <cudnn.h>
#include <fmt/core.h>

#include "common.cuh"
#include "imprecise/error.hpp"

namespace imprecise::detail {

void throw_cuda_error(cudaError_t status, const char* expr, const char* file, int line) {
  throw Error(fmt::format("{}:{}: {} failed: {} ({})", file, line, expr, cudaGetErrorString(status),
                          cudaGetErrorName(status)));
}

void throw_cudnn_error(int status, const char* expr, const char* file, int line) {
  throw Error(fmt::format("{}:{}: {} failed: {}", file, line, expr,
                          cudnnGetErrorString(static_cast<cudnnStatus_t>(status))));
}

void throw_cublas_error(int status, const char* expr, const char* file, int line) {
  const auto s = static_cast<cublasStatus_t>(status);
  throw Error(fmt::format("{}:{}: {} failed: {} ({})", file, line, expr, cublasGetStatusString(s),
                          cublasGetStatusName(s)));
}

}  // namespace imprecise::detail
