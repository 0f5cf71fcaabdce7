// SuffixSlack (the density planner's prefix-slack structure) against a plain array, over random
// suffix adds, point adds and suffix-minimum queries, at sizes inside one block and across blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "imprecise/sched/suffix_slack.hpp"

namespace {

using imprecise::Duration;
using imprecise::kNever;
using imprecise::SuffixSlack;

Duration naive_min_from(const std::vector<Duration>& v, int i) {
  Duration best = kNever;
  for (std::size_t j = static_cast<std::size_t>(i); j < v.size(); ++j) best = std::min(best, v[j]);
  return best;
}

void check_all(const SuffixSlack& s, const std::vector<Duration>& v, int step) {
  for (int i = 0; i <= static_cast<int>(v.size()); ++i) {
    ASSERT_EQ(s.min_from(i), naive_min_from(v, i)) << "n " << v.size() << ", query from " << i << ", step " << step;
    if (i < static_cast<int>(v.size())) {
      ASSERT_EQ(s.at(i), v[static_cast<std::size_t>(i)]) << "at " << i;
    }
  }
}

class SuffixSlackRandom : public testing::TestWithParam<int> {};

TEST_P(SuffixSlackRandom, MatchesAPlainArrayUnderRandomUpdates) {
  const int n = GetParam();
  std::mt19937_64 rng(static_cast<std::uint64_t>(n) * 7919u);
  std::uniform_int_distribution<Duration> value(-1'000'000, 1'000'000);
  std::vector<Duration> v(static_cast<std::size_t>(n));
  for (Duration& x : v) x = value(rng);
  SuffixSlack s;
  s.reset(v);
  check_all(s, v, -1);
  std::uniform_int_distribution<int> pos(0, n - 1);
  std::uniform_int_distribution<Duration> delta(-50'000, 20'000);  // mostly shrinking, as in the planner
  for (int step = 0; step < 300; ++step) {
    const int i = pos(rng);
    const Duration d = step % 7 == 0 ? -(Duration{1} << 40) : delta(rng);  // the idle-offset removal
    if (step % 3 == 0) {
      s.add_at(i, d);
      v[static_cast<std::size_t>(i)] += d;
    } else {
      s.add_from(i, d);
      for (std::size_t j = static_cast<std::size_t>(i); j < v.size(); ++j) v[j] += d;
    }
    check_all(s, v, step);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, SuffixSlackRandom, testing::Values(1, 2, 31, 32, 33, 64, 100, 1024));

TEST(SuffixSlack, EmptyAndPastTheEndQueriesHaveNoBindingPrefix) {
  SuffixSlack s;
  s.reset({});
  EXPECT_EQ(s.min_from(0), kNever);
  const std::vector<Duration> v{5, 3, 9};
  s.reset(v);
  EXPECT_EQ(s.min_from(3), kNever);
  EXPECT_EQ(s.min_from(2), 9);
  s.add_from(3, -100);  // no prefix there: nothing changes
  EXPECT_EQ(s.min_from(0), 3);
}

}  // namespace
