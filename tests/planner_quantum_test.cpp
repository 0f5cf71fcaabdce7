// yao-dp's reward quantum: by default eps * Rmax / n, never coarsened at the policies' 32-job window;
// a forced state cap coarsens it and says so, and the plan stays feasible within the reported bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "imprecise/sched/planner.hpp"
#include "planner_bounds.hpp"

namespace imprecise {
namespace {

/// A decision point like the policies' window: `jobs` jobs of 4 stages (1-4 ms each), a quarter part-way
/// through, accuracies in [0.5, 0.95] rising with depth, EDF deadlines between the mandatory and the
/// full-depth finish of their prefix scaled by `tightness` (< 0 under the mandatory load: drops).
PlanProblem make_window(std::mt19937_64& rng, int jobs, double tightness) {
  constexpr int kStages = 4;
  std::uniform_real_distribution<double> stage_ms(1.0, 4.0), jitter(-0.03, 0.03), coin(0.0, 1.0);
  PlanProblem problem;
  const Time now = from_seconds(1.0);
  problem.reset(now);
  Duration mandatory = 0, full = 0;
  Time previous = now;  // deadlines kept in EDF order
  for (int i = 0; i < jobs; ++i) {
    const int done = coin(rng) < 0.25 ? 1 + static_cast<int>(coin(rng) * 2.99) : 0;
    std::vector<Duration> cost(kStages + 1, 0);
    std::vector<double> reward(kStages + 1, 0.0);
    double best = 0.0;
    for (int l = 1; l <= kStages; ++l) {
      if (l > done) cost[l] = cost[l - 1] + from_ms(stage_ms(rng));
      best = std::max(best, std::clamp(0.5 + 0.45 * std::pow(l / 4.0, 0.8) + jitter(rng), 0.5, 0.95));
      reward[l] = best;
    }
    const int lo = std::max(1, done);
    mandatory += cost[lo];
    full += cost[kStages];
    const Time deadline = now + mandatory + static_cast<Duration>(tightness * static_cast<double>(full - mandatory));
    previous = std::max(previous, deadline);
    problem.add(previous, done, lo, kStages, cost, reward);
  }
  return problem;
}

double eps_delta(const PlanProblem& problem, double eps) {
  double rmax = 0.0;
  for (int i = 0; i < problem.size(); ++i)
    for (int l = problem.lo(i); l <= problem.hi(i); ++l) rmax = std::max(rmax, problem.reward(i, l));
  return eps * rmax / problem.size();
}

using testing::quantization_loss;

TEST(RewardQuantum, DefaultIsEpsRmaxOverNAndNotCoarsenedAtThirtyTwoJobs) {
  std::mt19937_64 rng(2020);
  DpPlanner dp;
  DensityPlanner density;
  int with_drops = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const double tightness = trial % 3 == 0 ? -0.2 : (trial % 3 == 1 ? 0.3 : 0.6);
    const PlanProblem problem = make_window(rng, 32, tightness);
    const Plan& got = dp.solve(problem);
    ASSERT_TRUE(got.feasible) << "trial " << trial;
    EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
    EXPECT_DOUBLE_EQ(got.delta_used, eps_delta(problem, 0.01)) << "trial " << trial;
    EXPECT_FALSE(got.coarsened) << "trial " << trial;
    with_drops += got.dropped > 0;
    const Plan& greedy = density.solve(problem);
    EXPECT_EQ(got.dropped, greedy.dropped) << "trial " << trial;
    EXPECT_GE(got.total_reward, greedy.total_reward - quantization_loss(got, problem.size())) << "trial " << trial;
  }
  EXPECT_GT(with_drops, 0);
  // A fixed quantum overrides eps.
  const PlanProblem problem = make_window(rng, 32, 0.5);
  EXPECT_EQ(dp.solve(problem, 0.02).delta_used, 0.02);
  EXPECT_EQ(dp.solve(problem, RewardQuantum{.eps = 0.5, .absolute = 0.02}).delta_used, 0.02);
  EXPECT_DOUBLE_EQ(dp.solve(problem, RewardQuantum{.eps = 0.05}).delta_used, eps_delta(problem, 0.05));
}

TEST(RewardQuantum, AForcedStateCapCoarsensAndSaysSo) {
  std::mt19937_64 rng(7);
  DpPlanner capped(/*max_states=*/64);
  DpPlanner free;
  for (int trial = 0; trial < 10; ++trial) {
    const PlanProblem problem = make_window(rng, 32, trial % 2 == 0 ? 0.4 : -0.2);
    const Plan& exact = free.solve(problem);
    ASSERT_FALSE(exact.coarsened);
    const Plan& got = capped.solve(problem);
    EXPECT_TRUE(got.coarsened) << "trial " << trial;
    EXPECT_GT(got.delta_used, eps_delta(problem, 0.01)) << "trial " << trial;
    ASSERT_TRUE(got.feasible) << "trial " << trial;
    EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
    EXPECT_EQ(got.dropped, exact.dropped) << "trial " << trial;
    // The bound still holds, with the quantum the plan reports.
    EXPECT_GE(got.total_reward, exact.total_reward - quantization_loss(got, problem.size())) << "trial " << trial;
  }
}

}  // namespace
}  // namespace imprecise
