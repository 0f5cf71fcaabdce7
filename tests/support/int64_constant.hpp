// ints: a 1-D int64 graph constant (the starts, ends, axes, sizes and splits of hand-built test graphs).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "imprecise/graph/graph.hpp"

namespace imprecise::nn::test_support {

inline Constant ints(std::vector<std::int64_t> values) {
  Constant c;
  c.type = ElementType::int64;
  c.shape = Shape{static_cast<std::int64_t>(values.size())};
  c.ints = std::move(values);
  return c;
}

}  // namespace imprecise::nn::test_support
