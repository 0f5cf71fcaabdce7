// Test helpers for the inference engine: fixture paths, batch slicing and tolerant comparison.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "imprecise/graph/npy.hpp"
#include "imprecise/graph/tensor.hpp"
#include "imprecise/nn/backend.hpp"

namespace imprecise::nn::testing {

inline std::string fixture(const std::string& file) {
  return std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/nn/" + file;
}

/// The backends that run on the host and must match the PyTorch references: the cpu one (the
/// reference) and, when built, onednn. Tests parameterised over them run once per backend.
inline std::vector<std::string> host_backends() {
  std::vector<std::string> names{"cpu"};
  if (BackendRegistry::get().find("onednn") != nullptr) names.push_back("onednn");
  return names;
}

/// Samples [first, first + count) of a batch tensor.
inline Tensor slice(const Tensor& t, std::size_t first, std::size_t count) {
  Shape shape = t.shape();
  shape[0] = static_cast<std::int64_t>(count);
  const std::size_t per = t.sample_size();
  std::vector<float> values(t.values().begin() + static_cast<std::ptrdiff_t>(first * per),
                            t.values().begin() + static_cast<std::ptrdiff_t>((first + count) * per));
  return Tensor(shape, std::move(values));
}

/// |got - want| <= 1e-4 |want| + 1e-5 (relative, with a small absolute floor for values near 0).
inline ::testing::AssertionResult close(std::span<const float> got, std::span<const float> want) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (!(std::abs(g - w) <= 1e-4 * std::abs(w) + 1e-5))
      return ::testing::AssertionFailure() << "element " << i << ": got " << g << ", want " << w;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace imprecise::nn::testing
