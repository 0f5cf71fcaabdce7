// nearest_rank: the percentile rule every report uses (k-th smallest, k = max(1, ceil(q n))).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "imprecise/core/nearest_rank.hpp"

namespace imprecise {
namespace {

TEST(NearestRank, EmptyIsZeroAndTheEndsAreTheExtremes) {
  std::vector<double> none;
  EXPECT_EQ(nearest_rank(none, 0.5), 0.0);
  std::vector<std::int64_t> v{40, 10, 30, 20};
  EXPECT_EQ(nearest_rank(v, 0.0), 10);  // rank at least 1: the smallest
  EXPECT_EQ(nearest_rank(v, 1.0), 40);
  EXPECT_EQ(nearest_rank(v, 0.5), 20);   // ceil(0.5 * 4) = 2nd smallest, not an interpolation
  EXPECT_EQ(nearest_rank(v, 0.51), 30);  // ceil(2.04) = 3rd
  EXPECT_EQ(nearest_rank(v, 0.99), 40);
}

TEST(NearestRank, EqualsTheSortedDefinitionOnRandomData) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1000.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> v(static_cast<std::size_t>(1 + trial % 97));
    for (double& x : v) x = std::round(u(rng));  // ties included
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (const double q : {0.01, 0.5, 0.9, 0.99}) {
      const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
      std::vector<double> copy = v;
      EXPECT_EQ(nearest_rank(copy, q), sorted[std::max<std::size_t>(k, 1) - 1]) << "n " << v.size() << " q " << q;
    }
  }
}

}  // namespace
}  // namespace imprecise
