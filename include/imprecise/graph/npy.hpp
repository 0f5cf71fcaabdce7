// NumPy .npy files of float32 (little-endian, C order): reading inputs and reference outputs, writing results.
#pragma once

#include <string>

#include "imprecise/graph/tensor.hpp"

namespace imprecise::nn {

/// Reads a float32 (or float64, converted) C-order .npy file. Throws Error naming the file when it
/// is missing, truncated, or not a supported array.
Tensor read_npy(const std::string& path);
/// Writes `tensor` as a float32 .npy file. Throws Error naming the file on failure.
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace imprecise::nn
