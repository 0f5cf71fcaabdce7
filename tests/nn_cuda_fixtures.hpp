// Shared by the cuda test programs: the GPU-required skip, the 1e-4 agreement check, fixture lists.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "imprecise/nn/backend.hpp"
#include "nn_fixtures.hpp"

namespace imprecise::nn::testing {

inline constexpr int kMaxBatch = 8;
inline constexpr std::size_t kBatches[] = {1, 3, 8};  // one, an odd one, max_batch

inline const Backend* cuda() { return BackendRegistry::get().find("cuda"); }

#define IMPRECISE_REQUIRE_GPU()                                                                                  \
  do {                                                                                                           \
    if (::imprecise::nn::testing::cuda() == nullptr) GTEST_SKIP() << "built without the cuda backend";           \
    if (::imprecise::nn::testing::cuda()->device_count() == 0) GTEST_SKIP() << "the cuda backend sees no GPU here"; \
  } while (false)

/// |got - want| <= 1e-4 max(1, |want|): relative for large values, absolute near zero.
inline ::testing::AssertionResult agree(std::span<const float> got, std::span<const float> want) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (!(std::abs(g - w) <= 1e-4 * std::max(1.0, std::abs(w))))
      return ::testing::AssertionFailure() << "element " << i << ": cuda " << g << ", cpu " << w;
  }
  return ::testing::AssertionSuccess();
}

inline std::vector<std::string> fixtures_starting_with(const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(fixture("")))
    if (const std::string file = entry.path().filename().string(); file.starts_with(prefix) && file.ends_with(".onnx"))
      names.push_back(file.substr(0, file.size() - 5));
  std::sort(names.begin(), names.end());
  return names;
}

inline std::string test_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

}  // namespace imprecise::nn::testing
