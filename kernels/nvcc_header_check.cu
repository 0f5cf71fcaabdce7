// Compiled by nvcc only: proves the public headers are valid in a CUDA translation unit.
#include "imprecise/imprecise.hpp"
#include "imprecise/backends/cuda/cuda_backend.hpp"

__global__ void imprecise_nvcc_header_check_kernel(imprecise::Time* out) { *out = imprecise::kNever; }
