// Planner tests: the DP equals exhaustive search, the (1-eps) bound, density feasibility, fewest drops.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "imprecise/error.hpp"
#include "imprecise/sched/planner.hpp"

namespace imprecise {
namespace {

struct RandomInstance {
  int jobs;
  int max_stages;
  double overload;      // > 1 makes drops likely
  bool integer_rewards;
};

/// Builds a random decision point in EDF order: increasing costs, increasing (maybe flat) rewards.
PlanProblem make_problem(std::mt19937_64& rng, const RandomInstance& spec) {
  std::uniform_int_distribution<int> stage_time(1, 6), stages(1, spec.max_stages), reward_step(0, 5);
  std::uniform_real_distribution<double> real_step(0.0, 0.3);
  PlanProblem problem;
  problem.reset(0);
  std::vector<Time> deadlines;
  std::vector<std::vector<Duration>> costs;
  std::vector<std::vector<double>> rewards;
  std::vector<int> mandatory;
  Duration mandatory_total = 0;
  for (int i = 0; i < spec.jobs; ++i) {
    const int L = stages(rng);
    std::vector<Duration> c(L + 1, 0);
    std::vector<double> r(L + 1, 0.0);
    for (int l = 1; l <= L; ++l) {
      c[l] = c[l - 1] + stage_time(rng);
      r[l] = r[l - 1] + (spec.integer_rewards ? reward_step(rng) + (l == 1 ? 1 : 0) : real_step(rng));
    }
    const int m = std::uniform_int_distribution<int>(1, L)(rng);
    mandatory_total += c[m];
    costs.push_back(c);
    rewards.push_back(r);
    mandatory.push_back(m);
  }
  std::uniform_real_distribution<double> spread(0.3, 1.6);
  for (int i = 0; i < spec.jobs; ++i)
    deadlines.push_back(static_cast<Time>(spread(rng) * static_cast<double>(mandatory_total) / spec.overload) + 1);
  std::vector<int> order(spec.jobs);
  for (int i = 0; i < spec.jobs; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return deadlines[a] < deadlines[b]; });
  for (int i : order) {
    const int L = static_cast<int>(costs[i].size()) - 1;
    problem.add(deadlines[i], 0, mandatory[i], L, costs[i], rewards[i]);
  }
  return problem;
}

class IntegerRewards : public ::testing::TestWithParam<RandomInstance> {};
class RealRewards : public ::testing::TestWithParam<RandomInstance> {};

void expect_density_feasible_with_fewest_drops(const RandomInstance& spec) {
  std::mt19937_64 rng(777 + spec.jobs);
  DensityPlanner density;
  for (int trial = 0; trial < 300; ++trial) {
    const PlanProblem problem = make_problem(rng, spec);
    const Plan expected = solve_exhaustive(problem);
    const Plan& got = density.solve(problem);
    if (!expected.feasible) continue;
    ASSERT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
    EXPECT_EQ(got.dropped, expected.dropped) << "trial " << trial;
    EXPECT_LE(got.total_reward, expected.total_reward + 1e-9);
  }
}

TEST_P(IntegerRewards, DensityIsAlwaysFeasibleWithFewestDrops) { expect_density_feasible_with_fewest_drops(GetParam()); }
TEST_P(RealRewards, DensityIsAlwaysFeasibleWithFewestDrops) { expect_density_feasible_with_fewest_drops(GetParam()); }

TEST_P(IntegerRewards, DpWithUnitDeltaEqualsExhaustiveSearch) {
  std::mt19937_64 rng(1234 + GetParam().jobs * 17 + GetParam().max_stages);
  DpPlanner dp;
  for (int trial = 0; trial < 300; ++trial) {
    const PlanProblem problem = make_problem(rng, GetParam());
    const Plan expected = solve_exhaustive(problem);
    const Plan& got = dp.solve(problem, 1.0);
    ASSERT_EQ(got.feasible, expected.feasible) << "trial " << trial;
    if (!expected.feasible) continue;
    EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
    EXPECT_EQ(got.dropped, expected.dropped) << "trial " << trial;
    EXPECT_DOUBLE_EQ(got.total_reward, expected.total_reward) << "trial " << trial;
  }
}

TEST(DpCeiling, BuiltAtOnceLateOrNeverTheDpFindsTheSameOptimum) {
  // The reward ceiling is built once a front passes a size (short fronts cost less to merge than the
  // ceiling to build), so it starts cutting at some level of the DP. Exact rewards (integers, quantum
  // 1) make every optimum the same number: a ceiling that cut a state on the best path once built late
  // (a wrong suffix, a stale quantization) would lose reward here.
  std::mt19937_64 rng(2026);
  DpPlanner at_once(DpPlanner::kDefaultMaxStates, 0), late(DpPlanner::kDefaultMaxStates, 4), by_default,
      never(DpPlanner::kDefaultMaxStates, SIZE_MAX);
  int pruned = 0, searched = 0;
  for (int trial = 0; trial < 150; ++trial) {
    const RandomInstance spec{trial % 2 == 0 ? 24 : 32, 5, trial % 3 == 0 ? 1.6 : 1.0, true};
    const PlanProblem problem = make_problem(rng, spec);
    const Plan reference = never.solve(problem, 1.0);
    const std::int64_t states_without = never.states();
    for (DpPlanner* dp : {&at_once, &late, &by_default}) {
      const Plan& got = dp->solve(problem, 1.0);
      ASSERT_EQ(got.feasible, reference.feasible) << "trial " << trial;
      EXPECT_EQ(got.dropped, reference.dropped) << "trial " << trial;
      EXPECT_DOUBLE_EQ(got.total_reward, reference.total_reward) << "trial " << trial;
      if (got.feasible) {
        EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
      }
    }
    if (states_without > 0) ++searched;
    if (late.states() < states_without) ++pruned;
  }
  // The instances search, and in some of them a front grows past the size and the ceiling, built
  // then, cuts states (here 100 searched; built past 4 states, it cut in 37).
  EXPECT_GT(searched, 50);
  EXPECT_GT(pruned, 20);
}

TEST_P(RealRewards, DpWithinEpsilonOfOptimumForCoarseDelta) {
  std::mt19937_64 rng(99 + GetParam().jobs);
  DpPlanner dp;
  for (const double eps : {0.01, 0.05, 0.2}) {
    for (int trial = 0; trial < 100; ++trial) {
      const PlanProblem problem = make_problem(rng, GetParam());
      const Plan expected = solve_exhaustive(problem);
      if (!expected.feasible) continue;
      double max_reward = 0.0;
      for (int i = 0; i < problem.size(); ++i)
        for (int l = problem.lo(i); l <= problem.hi(i); ++l) max_reward = std::max(max_reward, problem.reward(i, l));
      // The default quantum, delta = eps * Rmax / N, loses at most N * delta = eps * Rmax (each job's
      // floor loses < delta).
      const Plan& got = dp.solve(problem, RewardQuantum{.eps = eps});
      ASSERT_FALSE(got.coarsened);
      if (problem.deepest_fits()) {  // no search, no quantum: the exact optimum
        EXPECT_EQ(got.delta_used, 0.0);
        EXPECT_DOUBLE_EQ(got.total_reward, expected.total_reward);
      } else if (max_reward > 0) {
        EXPECT_DOUBLE_EQ(got.delta_used, eps * max_reward / problem.size());
      }
      ASSERT_TRUE(problem.feasible(got.depths));
      EXPECT_EQ(got.dropped, expected.dropped);
      EXPECT_GE(got.total_reward, expected.total_reward - eps * max_reward - 1e-9);
      if (expected.dropped == 0) {
        EXPECT_GE(got.total_reward, (1.0 - eps) * expected.total_reward - 1e-9);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, IntegerRewards,
                         ::testing::Values(RandomInstance{1, 4, 1.0, true}, RandomInstance{3, 3, 1.0, true},
                                           RandomInstance{5, 4, 1.0, true}, RandomInstance{6, 3, 2.0, true},
                                           RandomInstance{7, 3, 3.0, true}));
INSTANTIATE_TEST_SUITE_P(Sizes, RealRewards,
                         ::testing::Values(RandomInstance{4, 5, 0.5, false}, RandomInstance{6, 4, 1.0, false},
                                           RandomInstance{6, 3, 2.5, false}));

/// Adds a job given as cumulative times and rewards per depth (the CLI's instance format).
void add_job(PlanProblem& p, Time deadline, std::vector<Duration> cumulative, std::vector<double> reward, int mandatory) {
  cumulative.insert(cumulative.begin(), 0);
  reward.insert(reward.begin(), 0.0);
  p.add(deadline, 0, mandatory, static_cast<int>(cumulative.size()) - 1, cumulative, reward);
}

TEST(DpPlanner, PicksDepthsThatTradeTimeForReward) {
  // Job B (deadline 6) gains little from depth, job A (deadline 9) a lot: the extra time goes to A.
  PlanProblem edf;
  edf.reset(0);
  add_job(edf, 6, {2, 4, 6}, {10, 11, 12}, 1);  // B
  add_job(edf, 9, {2, 4, 6}, {10, 20, 23}, 1);  // A
  DpPlanner dp;
  const Plan& plan = dp.solve(edf, 1.0);
  EXPECT_TRUE(plan.feasible);
  EXPECT_EQ(plan.dropped, 0);
  // B1 + A3 ends at 8 <= 9 (33); B2 + A2 = 31; B2 + A3 ends at 10 > 9.
  EXPECT_EQ(plan.depths, (std::vector<int>{1, 3}));
  EXPECT_DOUBLE_EQ(plan.total_reward, 33.0);
  EXPECT_EQ(solve_exhaustive(edf).depths, plan.depths);
}

TEST(DpPlanner, DropsFewestJobsThenKeepsMostReward) {
  // Three jobs each need 2 time units by t=4: only two fit. Keep the two worth most.
  PlanProblem p;
  p.reset(0);
  add_job(p, 4, {2}, {5}, 1);
  add_job(p, 4, {2}, {9}, 1);
  add_job(p, 4, {2}, {7}, 1);
  DpPlanner dp;
  const Plan& plan = dp.solve(p, 1.0);
  EXPECT_TRUE(plan.feasible);
  EXPECT_EQ(plan.dropped, 1);
  EXPECT_EQ(plan.depths, (std::vector<int>{0, 1, 1}));
  EXPECT_DOUBLE_EQ(plan.total_reward, 16.0);
  EXPECT_TRUE(p.feasible(plan.depths));
  EXPECT_FALSE(p.mandatory_fits());
}

TEST(DpPlanner, JobsAlreadyPastMandatoryAreNeverDroppedAndCostNothingToStop) {
  PlanProblem p;
  p.reset(100);
  // done = 2 of 3 stages; its deadline is so close that no more work fits.
  std::vector<Duration> cost{0, 0, 0, 5};
  std::vector<double> reward{0, 0.6, 0.7, 0.9};
  p.add(102, 2, 2, 3, cost, reward, /*droppable=*/false);
  DpPlanner dp;
  const Plan& plan = dp.solve(p, 0.01);
  EXPECT_TRUE(plan.feasible);
  EXPECT_EQ(plan.depths, (std::vector<int>{2}));
  EXPECT_EQ(plan.dropped, 0);
}

TEST(DpPlanner, SpendsLeftoverSlackOnGainsSmallerThanDelta) {
  // Gains of 0.004 per stage vanish under delta 0.01; with time to spare the job still goes deep.
  PlanProblem edf;
  edf.reset(0);
  add_job(edf, 11, {2, 4, 6, 8}, {0.90, 0.904, 0.908, 0.912}, 1);
  add_job(edf, 100, {2, 4, 6, 8}, {0.90, 0.904, 0.908, 0.912}, 1);
  DpPlanner dp;
  const Plan& plan = dp.solve(edf, 0.01);
  EXPECT_TRUE(edf.feasible(plan.depths));
  // The first job may use at most 11 units: depth 4 (8) fits; the second then ends at 16 <= 100.
  EXPECT_EQ(plan.depths, (std::vector<int>{4, 4}));
}

TEST(DpPlanner, EmptyProblemGivesEmptyPlan) {
  PlanProblem p;
  p.reset(0);
  DpPlanner dp;
  EXPECT_TRUE(dp.solve(p, 0.01).depths.empty());
  DensityPlanner density;
  EXPECT_TRUE(density.solve(p).depths.empty());
}

TEST(DpPlanner, ReportsInfeasibleWhenUndroppableWorkCannotFit) {
  PlanProblem p;
  p.reset(0);
  add_job(p, 1, {5}, {1}, 1);
  std::vector<Duration> cost{0, 5};
  std::vector<double> reward{0, 1};
  PlanProblem q;
  q.reset(0);
  q.add(1, 0, 1, 1, cost, reward, /*droppable=*/false);
  DpPlanner dp;
  EXPECT_FALSE(dp.solve(q, 1.0).feasible);
  EXPECT_FALSE(solve_exhaustive(q).feasible);
  EXPECT_TRUE(dp.solve(p, 1.0).feasible);  // droppable: dropping it is a feasible plan
  EXPECT_EQ(dp.solve(p, 1.0).dropped, 1);
}

TEST(Exhaustive, RefusesLargeInstances) {
  std::mt19937_64 rng(5);
  const PlanProblem p = make_problem(rng, {13, 2, 1.0, true});
  EXPECT_THROW(solve_exhaustive(p), Error);
}

TEST(DensityPlanner, PrefersTheBestMarginalRewardPerTime) {
  PlanProblem p;
  p.reset(0);
  add_job(p, 6, {2, 4}, {10, 11}, 1);   // +1 for 2 time units
  add_job(p, 10, {2, 4}, {10, 18}, 1);  // +8 for 2 time units
  DensityPlanner density;
  const Plan& plan = density.solve(p);
  // Both extensions fit (job 0 at depth 2 ends at 4 <= 6, job 1 at depth 2 ends at 8 <= 10).
  EXPECT_EQ(plan.depths, (std::vector<int>{2, 2}));
  PlanProblem tight;
  tight.reset(0);
  add_job(tight, 6, {2, 4}, {10, 11}, 1);
  add_job(tight, 7, {2, 4}, {10, 18}, 1);
  const Plan& t = density.solve(tight);
  EXPECT_EQ(t.depths, (std::vector<int>{1, 2}));  // only one extension fits: the dense one
  EXPECT_TRUE(tight.feasible(t.depths));
}

TEST(DensityPlanner, GivesTimeLeftOverToAStageThatAddsNothingButNotToOneThatDoesNotFit) {
  // Job 0 cannot reach depth 3 by its deadline (6 > 5), so the greedy searches. Its depth 2 adds no
  // reward: the greedy never offers it, and only the leftover pass takes it (ties go deeper, the
  // time is free). Job 1's extension gains and is taken by the greedy itself.
  PlanProblem p;
  p.reset(0);
  add_job(p, 5, {2, 4, 6}, {0.5, 0.5, 0.9}, 1);
  add_job(p, 100, {2, 4}, {0.4, 0.8}, 1);
  ASSERT_FALSE(p.deepest_fits());
  DensityPlanner density;
  const Plan& plan = density.solve(p);
  EXPECT_EQ(plan.depths, (std::vector<int>{2, 2}));
  EXPECT_TRUE(p.feasible(plan.depths));
}

TEST(Planners, WhenEveryJobFitsAtFullDepthEachTakesItsBestDepthTiesDeeper) {
  // Deadlines far away: no choice of depths can miss, so the optimum is each job's best reward alone,
  // even where reward dips with depth (job 0 peaks at depth 2; job 1 ties at 2 and 4 and goes deeper;
  // job 2 is past its mandatory depth). Running everything to full depth would lose reward on job 0.
  for (const int lanes : {1, 2}) {
    PlanProblem p;
    const Time free_at[] = {0, 3};
    p.reset(0, std::span<const Time>(free_at, static_cast<std::size_t>(lanes)));
    add_job(p, 1000, {2, 4, 6}, {0.5, 0.9, 0.7}, 1);
    add_job(p, 1000, {2, 4, 6, 8}, {0.4, 0.8, 0.6, 0.8}, 1);
    std::vector<Duration> cost{0, 0, 3, 5};
    std::vector<double> reward{0, 0.6, 0.65, 0.62};
    p.add(1000, 1, 1, 3, cost, reward, /*droppable=*/false);
    ASSERT_TRUE(p.deepest_fits());
    const std::vector<int> best{2, 4, 2};
    DpPlanner dp;
    DensityPlanner density;
    EXPECT_EQ(dp.solve(p, 0.01).depths, best) << lanes << " lanes";
    EXPECT_EQ(dp.states(), 0) << "no DP ran";
    EXPECT_EQ(density.solve(p).depths, best) << lanes << " lanes";
    const Plan exact = solve_exhaustive(p);
    EXPECT_DOUBLE_EQ(dp.solve(p, 0.01).total_reward, exact.total_reward);
    // One deadline too tight for full depth: the planners search again, and still match the optimum.
    PlanProblem tight;
    tight.reset(0, std::span<const Time>(free_at, static_cast<std::size_t>(lanes)));
    add_job(tight, 5, {2, 4, 6}, {0.5, 0.9, 0.95}, 1);
    add_job(tight, 1000, {2, 4, 6, 8}, {0.4, 0.8, 0.6, 0.8}, 1);
    ASSERT_FALSE(tight.deepest_fits());
    const Plan searched = dp.solve(tight, 0.01);
    EXPECT_GT(dp.states(), 0);
    EXPECT_EQ(searched.depths, (std::vector<int>{2, 4})) << lanes << " lanes";  // job 1's tie goes deeper
    EXPECT_DOUBLE_EQ(searched.total_reward, solve_exhaustive(tight).total_reward) << lanes << " lanes";
  }
}

}  // namespace
}  // namespace imprecise
