// Planner tests with partly-run jobs: one definition of "droppable", exhaustive search up to 12 jobs,
// and 40-job invariants (feasible, fewest drops by an independent Moore-Hodgson, the delta bound).
#include <gtest/gtest.h>

#include <algorithm>
#include <queue>
#include <random>
#include <vector>

#include "imprecise/sched/planner.hpp"
#include "planner_bounds.hpp"
#include "planner_instances.hpp"

namespace imprecise {
namespace {

struct PartlyRun {
  int jobs;
  int max_stages;
  double overload;  // > 1 makes drops likely
  bool integer_rewards;
};

/// A random decision point in EDF order where some jobs have already run stages: some partly into a
/// mandatory part of depth >= 2 (still droppable), some past it (never droppable, nothing required).
PlanProblem make_partly_run(std::mt19937_64& rng, const PartlyRun& spec) {
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  testing::RandomJobs drawn =
      testing::random_jobs(rng, spec.jobs, spec.max_stages, spec.integer_rewards, [&](std::mt19937_64& r, int L) {
        const int m = std::uniform_int_distribution<int>(coin(r) < 0.6 ? 2 : 1, L)(r);
        const double u = coin(r);
        int done = u < 0.5 ? 0 : (u < 0.85 ? std::uniform_int_distribution<int>(1, m - 1 > 0 ? m - 1 : 1)(r)
                                           : std::uniform_int_distribution<int>(m, L)(r));
        if (done >= L) done = L - 1;
        return std::pair{m, done};
      });
  std::uniform_real_distribution<double> spread(0.3, 1.6);
  for (testing::RandomJob& job : drawn.jobs)
    job.deadline = static_cast<Time>(spread(rng) * static_cast<double>(drawn.mandatory_total) / spec.overload) + 1;
  testing::sort_by_deadline(drawn.jobs);
  PlanProblem problem;
  problem.reset(0);
  // The caller's flag is what the planning policy passes: droppable while mandatory work remains.
  testing::add_jobs(problem, drawn.jobs);
  return problem;
}

/// Fewest drops, written here independently of the library: Moore-Hodgson on the mandatory parts.
int moore_hodgson_drops(const PlanProblem& p) {
  std::priority_queue<Duration> kept;
  Time t = p.now();
  int drops = 0;
  for (int i = 0; i < p.size(); ++i) {
    const Duration c = p.cost(i, p.lo(i));
    if (c == 0) continue;
    t += c;
    kept.push(c);
    if (t > p.deadline(i)) {
      t -= kept.top();
      kept.pop();
      ++drops;
    }
  }
  return drops;
}

TEST(Droppable, OneDefinitionForPartlyRunJobs) {
  // A job that ran 1 of its 2 mandatory stages may be dropped (depth 0) everywhere; one past its
  // mandatory depth may not.
  PlanProblem p;
  p.reset(0);
  const std::vector<Duration> one_done{0, 0, 5, 9}, two_done{0, 0, 0, 4};
  const std::vector<double> reward{0, 0.5, 0.6, 0.7};
  p.add(3, 1, 2, 3, one_done, reward, /*droppable=*/true);  // needs 5 by 3: must go
  p.add(4, 2, 2, 3, two_done, reward, /*droppable=*/true);  // nothing mandatory left: never dropped
  EXPECT_TRUE(p.droppable(0));
  EXPECT_FALSE(p.droppable(1));
  EXPECT_TRUE(p.feasible(std::vector<int>{0, 2}));
  EXPECT_FALSE(p.feasible(std::vector<int>{0, 0}));
  const Plan exhaustive = solve_exhaustive(p);
  DpPlanner dp;
  DensityPlanner density;
  for (const Plan& plan : {exhaustive, dp.solve(p, 0.01), density.solve(p)}) {
    EXPECT_TRUE(plan.feasible);
    EXPECT_EQ(plan.dropped, 1);
    EXPECT_EQ(plan.depths, (std::vector<int>{0, 3}));  // the freed time takes job 1 deeper
  }
}

class PartlyRunSmall : public ::testing::TestWithParam<PartlyRun> {};

TEST_P(PartlyRunSmall, DpEqualsExhaustiveAndDensityDropsAsFew) {
  const PartlyRun spec = GetParam();
  std::mt19937_64 rng(4242 + spec.jobs * 31 + static_cast<int>(spec.overload * 10));
  DpPlanner dp;
  DensityPlanner density;
  const int trials = spec.jobs >= 11 ? 40 : 200;
  int partly_run_dropped = 0;  // the case the old random tests never produced
  for (int trial = 0; trial < trials; ++trial) {
    const PlanProblem problem = make_partly_run(rng, spec);
    const Plan expected = solve_exhaustive(problem);
    for (int i = 0; i < problem.size(); ++i) partly_run_dropped += expected.depths[i] == 0 && problem.done(i) > 0;
    ASSERT_TRUE(expected.feasible) << "every job with work is droppable, trial " << trial;
    ASSERT_TRUE(problem.feasible(expected.depths)) << "trial " << trial;
    EXPECT_EQ(expected.dropped, moore_hodgson_drops(problem)) << "trial " << trial;

    const Plan& got = dp.solve(problem, 1.0);
    ASSERT_TRUE(got.feasible) << "trial " << trial;
    EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
    EXPECT_EQ(got.dropped, expected.dropped) << "trial " << trial;
    EXPECT_DOUBLE_EQ(got.total_reward, expected.total_reward) << "trial " << trial;

    const Plan& greedy = density.solve(problem);
    ASSERT_TRUE(greedy.feasible) << "trial " << trial;
    EXPECT_TRUE(problem.feasible(greedy.depths)) << "trial " << trial;
    EXPECT_EQ(greedy.dropped, expected.dropped) << "trial " << trial;
    EXPECT_LE(greedy.total_reward, expected.total_reward + 1e-9) << "trial " << trial;
  }
  if (spec.overload >= 2.0) {
    EXPECT_GT(partly_run_dropped, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, PartlyRunSmall,
                         ::testing::Values(PartlyRun{4, 3, 1.0, true}, PartlyRun{6, 4, 2.0, true},
                                           PartlyRun{8, 3, 3.0, true}, PartlyRun{10, 3, 1.5, true},
                                           PartlyRun{12, 3, 2.5, true}));

using testing::quantization_loss;

TEST(PartlyRunLarge, FortyJobsFeasibleFewestDropsAndWithinTheDeltaBound) {
  std::mt19937_64 rng(90210);
  DpPlanner dp;
  DensityPlanner density;
  int with_drops = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const PartlyRun spec{40, 5, trial % 3 == 0 ? 0.7 : (trial % 3 == 1 ? 1.5 : 4.0), trial % 2 == 0};
    const PlanProblem problem = make_partly_run(rng, spec);
    const int fewest = moore_hodgson_drops(problem);
    with_drops += fewest > 0;
    const Plan greedy = density.solve(problem);
    ASSERT_TRUE(greedy.feasible);
    EXPECT_TRUE(problem.feasible(greedy.depths)) << "trial " << trial;
    EXPECT_EQ(greedy.dropped, fewest) << "trial " << trial;

    // Integer rewards: the exact quantum 1; real ones: the default, eps * Rmax / n.
    double max_reward = 0.0;
    for (int i = 0; i < problem.size(); ++i)
      for (int l = problem.lo(i); l <= problem.hi(i); ++l) max_reward = std::max(max_reward, problem.reward(i, l));
    const double delta = spec.integer_rewards ? 1.0 : 0.01 * max_reward / problem.size();
    const Plan& got = spec.integer_rewards ? dp.solve(problem, 1.0) : dp.solve(problem);
    ASSERT_TRUE(got.feasible);
    EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
    EXPECT_EQ(got.dropped, fewest) << "trial " << trial;
    // Every job fitting at full depth needs no search: that plan is exact and reports no quantum.
    EXPECT_DOUBLE_EQ(got.delta_used, problem.deepest_fits() ? 0.0 : delta) << "trial " << trial;
    EXPECT_FALSE(got.coarsened) << "trial " << trial;  // the fronts stay far below the state cap
    // Any feasible plan with the fewest drops (density's) is within the quantization loss of the DP's.
    EXPECT_GE(got.total_reward, greedy.total_reward - quantization_loss(got, problem.size())) << "trial " << trial;
  }
  EXPECT_GT(with_drops, 20);  // the overloaded instances really need drops
}

}  // namespace
}  // namespace imprecise
