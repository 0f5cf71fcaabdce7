// Internal to the cpu backend: what the kernel files share (Eigen views, broadcasting strides, shape products).
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include <Eigen/Core>

#include "kernel.hpp"
#include "op_shapes.hpp"

namespace imprecise::nn::cpu {

using detail::fail;
using detail::kMaxRank;
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<RowMatrix>;
using ConstMatMap = Eigen::Map<const RowMatrix>;
using Dims = std::array<Index, kMaxRank>;

inline Index product(const Shape& s, std::size_t from, std::size_t to) {
  Index p = 1;
  for (std::size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

// Strides of an operand of shape `dims` broadcast to a rank-`rank` output (0 on broadcast axes).
// Spans, not Shapes, so kernels can pass sub-ranges of a shape without building a vector per run.
inline void broadcast_strides(std::span<const Index> dims, std::span<const Index> out, Dims& strides) {
  const std::size_t rank = out.size();
  Index stride = 1;
  for (std::size_t i = rank; i-- > 0;) {
    const std::size_t off = rank - i;
    if (off > dims.size()) {
      strides[i] = 0;
      continue;
    }
    const Index d = dims[dims.size() - off];
    strides[i] = (d == 1 && out[i] != 1) ? 0 : stride;
    stride *= d;
  }
}

}  // namespace imprecise::nn::cpu
