// Planners over several executor lanes (EDF list scheduling; 2, 3 and 4 lanes: each a different dominance
// test in the DP): yao-dp equals the exhaustive search, the
// quantized DP keeps its bound, density stays feasible, hand-made cases, one lane is today's planning.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <random>
#include <vector>

#include "counting_allocator.hpp"
#include "imprecise/sched/planner.hpp"
#include "planner_bounds.hpp"
#include "planner_instances.hpp"

namespace imprecise {
namespace {

using testing::quantization_loss;

struct LanesSpec {
  int jobs;
  int lanes;
  double overload;  // > 1 makes drops likely
  bool integer_rewards;
};

void PrintTo(const LanesSpec& spec, std::ostream* os) {
  *os << spec.jobs << " jobs, " << spec.lanes << " lanes, overload " << spec.overload
      << (spec.integer_rewards ? ", integer rewards" : ", real rewards");
}

/// A random decision point: jobs of 2-4 stages, mandatory depth 1 or 2, some partly run (into their
/// mandatory part: still droppable; past it: never), lanes busy until various times (some given
/// before `now`, which counts as `now`), deadlines scaled to the lanes' joint capacity.
PlanProblem make_lanes_problem(std::mt19937_64& rng, const LanesSpec& spec) {
  std::uniform_int_distribution<int> stage_time(1, 6);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  constexpr Time kNow = 100;
  testing::RandomJobs drawn =
      testing::random_jobs(rng, spec.jobs, /*max_stages=*/4, spec.integer_rewards, [&](std::mt19937_64& r, int L) {
        const int m = coin(r) < 0.6 ? 2 : 1;
        const double u = coin(r);
        const int done =
            u < 0.55 ? 0 : (u < 0.85 || m == L ? (m == 2 ? 1 : 0) : std::uniform_int_distribution<int>(m, L - 1)(r));
        return std::pair{m, done};
      });
  std::vector<Time> lane_free(spec.lanes);
  for (Time& f : lane_free) f = coin(rng) < 0.4 ? kNow - 5 : kNow + std::uniform_int_distribution<int>(0, 12)(rng);
  // Deadlines from the lanes' mean busy time plus a spread of the mandatory load per lane (over
  // `overload`), and a little over a stage so that there is room to go deeper.
  Duration busy = 0;
  for (const Time f : lane_free) busy += std::max<Time>(f, kNow) - kNow;
  std::uniform_real_distribution<double> spread(0.4, 2.0);
  const double load = static_cast<double>(drawn.mandatory_total) / spec.lanes / spec.overload;
  for (testing::RandomJob& job : drawn.jobs)
    job.deadline = kNow + busy / spec.lanes + static_cast<Time>(spread(rng) * load) + stage_time(rng);
  // Mostly EDF order, as the policies hand it; sometimes not (the semantics do not assume it).
  if (coin(rng) < 0.8) testing::sort_by_deadline(drawn.jobs);
  PlanProblem problem;
  problem.reset(kNow, lane_free);
  testing::add_jobs(problem, drawn.jobs);
  return problem;
}

/// Fewest drops, then most reward, by trying every depth vector (odometer) against feasible(): no
/// pruning, no shared search code with solve_exhaustive.
Plan brute_force(const PlanProblem& p) {
  const int n = p.size();
  std::vector<int> depths(n);
  for (int i = 0; i < n; ++i) depths[i] = p.droppable(i) ? 0 : p.lo(i);
  Plan best;
  best.feasible = false;
  for (;;) {
    if (p.feasible(depths)) {
      int dropped = 0;
      double reward = 0.0;
      for (int i = 0; i < n; ++i) {
        dropped += depths[i] == 0 && p.lo(i) > 0;
        reward += p.reward(i, depths[i]);
      }
      if (!best.feasible || dropped < best.dropped || (dropped == best.dropped && reward > best.total_reward + 1e-9)) {
        best.feasible = true;
        best.dropped = dropped;
        best.total_reward = reward;
        best.depths = depths;
      }
    }
    int i = 0;
    for (; i < n; ++i) {
      const int first = p.droppable(i) ? 0 : p.lo(i);
      if (depths[i] == p.hi(i)) {
        depths[i] = first;
        continue;
      }
      depths[i] = depths[i] == 0 ? p.lo(i) : depths[i] + 1;
      break;
    }
    if (i == n) return best;
  }
}

TEST(LaneSchedule, EarliestLaneFirstTiesToTheLowestIndex) {
  LaneSchedule s;
  const std::vector<Time> free{10, 3, 3};
  s.reset(free);
  EXPECT_EQ(s.next_lane(), 1);
  EXPECT_EQ(s.run(4), 7);  // lane 1: 3 + 4
  EXPECT_EQ(s.next_lane(), 2);
  EXPECT_EQ(s.run(10), 13);  // lane 2: 3 + 10
  EXPECT_EQ(s.run(1), 8);    // lane 1 again (7 < 10)
  EXPECT_EQ(s.lane_free(0), 10);
}

TEST(PlanProblemLanes, ResetClampsToNowAndOneLaneIsTheDefault) {
  PlanProblem p;
  p.reset(50);
  EXPECT_EQ(p.lanes(), 1);
  EXPECT_EQ(p.lane_free(0), 50);
  const std::vector<Time> free{40, 70};
  p.reset(50, free);
  EXPECT_EQ(p.lanes(), 2);
  EXPECT_EQ(p.lane_free(0), 50);  // before now counts as now
  EXPECT_EQ(p.lane_free(1), 70);
}

TEST(PlanProblemLanes, FeasibleIsTheListSchedule) {
  // Three jobs of 4 on lanes free at 0 and 2, deadlines 4, 6, 8: they run at [0,4], [2,6], [4,8].
  PlanProblem p;
  const std::vector<Time> free{0, 2};
  p.reset(0, free);
  const std::vector<Duration> cost{0, 4};
  const std::vector<double> reward{0, 1};
  p.add(4, 0, 1, 1, cost, reward);
  p.add(6, 0, 1, 1, cost, reward);
  p.add(8, 0, 1, 1, cost, reward);
  EXPECT_TRUE(p.mandatory_fits());
  EXPECT_TRUE(p.feasible(std::vector<int>{1, 1, 1}));
  PlanProblem q;
  q.reset(0, free);
  q.add(4, 0, 1, 1, cost, reward);
  q.add(6, 0, 1, 1, cost, reward);
  q.add(7, 0, 1, 1, cost, reward);  // finishes at 8
  EXPECT_FALSE(q.mandatory_fits());
  EXPECT_EQ(q.first_miss(std::vector<int>{1, 1, 1}), 2);
  EXPECT_TRUE(q.feasible(std::vector<int>{1, 0, 1}));  // dropping job 1 lets job 2 start at 2
}

/// Two jobs with the same deadline, each 1 to answer and 3 to go deep: one lane fits one deep job,
/// two lanes fit both.
PlanProblem two_deep_jobs(int lanes) {
  PlanProblem p;
  const std::vector<Time> free(static_cast<std::size_t>(lanes), 0);
  p.reset(0, free);
  const std::vector<Duration> cost{0, 1, 2, 3};
  const std::vector<double> reward{0, 1, 2, 4};
  p.add(4, 0, 1, 3, cost, reward);
  p.add(4, 0, 1, 3, cost, reward);
  return p;
}

TEST(PlannersLanes, TwoLanesLetTwoJobsWithTheSameDeadlineBothGoDeep) {
  DpPlanner dp;
  DensityPlanner density;
  const PlanProblem one = two_deep_jobs(1), two = two_deep_jobs(2);
  for (const Plan& plan : {solve_exhaustive(one), dp.solve(one, 1.0), density.solve(one)}) {
    EXPECT_TRUE(one.feasible(plan.depths));
    EXPECT_LE(plan.total_reward, 5.0);  // one deep (3 + 1 = 4 time): 4 + 1
  }
  for (const Plan& plan : {solve_exhaustive(two), dp.solve(two, 1.0), density.solve(two)}) {
    EXPECT_TRUE(two.feasible(plan.depths));
    EXPECT_EQ(plan.depths, (std::vector<int>{3, 3}));
    EXPECT_DOUBLE_EQ(plan.total_reward, 8.0);
  }
}

TEST(PlannersLanes, DensityPutsBackAJobItShedOnceLaterShedsMadeRoom) {
  // Two lanes free at 0; one-stage jobs (cost, deadline): A(5, 1), B(5, 5), C(6, 8), D(5, 10), E(6, 10).
  // Shedding at each first miss the largest kept job at or before it drops A (at its own miss), then C
  // (at E's), then E (at its own); with E gone, C fits again (B 0-5, C 0-6, D 5-10) and is put back.
  // Two drops are the fewest: A can never fit, and B, C, D and E cannot all fit by 10.
  PlanProblem p;
  const std::vector<Time> free{0, 0};
  p.reset(0, free);
  const std::vector<double> reward{0.0, 0.5};
  for (const auto& [cost, deadline] : std::vector<std::pair<Duration, Time>>{{5, 1}, {5, 5}, {6, 8}, {5, 10}, {6, 10}})
    p.add(deadline, 0, 1, 1, std::vector<Duration>{0, cost}, reward);
  EXPECT_FALSE(p.mandatory_fits());
  DensityPlanner density;
  const Plan& plan = density.solve(p);
  EXPECT_EQ(plan.depths, (std::vector<int>{0, 1, 1, 1, 0}));
  EXPECT_EQ(plan.dropped, 2);
  EXPECT_TRUE(p.feasible(plan.depths));
  EXPECT_EQ(solve_exhaustive(p).dropped, 2);
}

TEST(PlannersLanes, ABusyLaneIsAvoided) {
  // Lane 0 is busy until 10, lane 1 free now: the job's full depth (4) fits by 4 only on lane 1, and a
  // second job then fits on lane 1 behind it, not on lane 0.
  PlanProblem p;
  const std::vector<Time> free{10, 0};
  p.reset(0, free);
  const std::vector<Duration> cost{0, 2, 4};
  const std::vector<double> first_reward{0, 1, 5}, second_reward{0, 1, 3};
  p.add(4, 0, 1, 2, cost, first_reward);
  p.add(6, 0, 1, 2, cost, second_reward);
  EXPECT_TRUE(p.feasible(std::vector<int>{2, 1}));
  EXPECT_FALSE(p.feasible(std::vector<int>{2, 2}));
  DpPlanner dp;
  DensityPlanner density;
  for (const Plan& plan : {solve_exhaustive(p), dp.solve(p, 1.0), density.solve(p)}) {
    EXPECT_EQ(plan.depths, (std::vector<int>{2, 1}));
    EXPECT_EQ(plan.dropped, 0);
  }
}

TEST(PlannersLanes, OneLaneIsTodaysPlanning) {
  // reset(now, {now}) is reset(now); a single lane busy until t plans like reset(t).
  std::mt19937_64 rng(7);
  DpPlanner dp_a, dp_b;
  DensityPlanner density_a, density_b;
  for (int trial = 0; trial < 60; ++trial) {
    const PlanProblem src = make_lanes_problem(rng, LanesSpec{20, 1, trial % 2 == 0 ? 1.0 : 2.5, trial % 3 == 0});
    const Time busy = trial % 4 == 0 ? 0 : 3;
    PlanProblem a, b;
    a.reset(src.lane_free(0) + busy);
    const std::vector<Time> lane{src.lane_free(0) + busy};
    b.reset(trial % 2 == 0 ? lane[0] : src.lane_free(0), lane);
    testing::add_jobs_of(a, src);
    testing::add_jobs_of(b, src);
    const Plan& pa = dp_a.solve(a);
    const Plan& pb = dp_b.solve(b);
    EXPECT_EQ(pa.depths, pb.depths) << "trial " << trial;
    EXPECT_EQ(pa.total_reward, pb.total_reward) << "trial " << trial;
    EXPECT_EQ(pa.delta_used, pb.delta_used) << "trial " << trial;
    EXPECT_EQ(density_a.solve(a).depths, density_b.solve(b).depths) << "trial " << trial;
  }
}

class LanesSmall : public ::testing::TestWithParam<LanesSpec> {};

TEST_P(LanesSmall, ExhaustiveIsTheBruteForceOptimum) {
  LanesSpec spec = GetParam();
  spec.jobs = std::min(spec.jobs, 6);  // the odometer tries every depth vector
  std::mt19937_64 rng(1234 + spec.jobs * 17 + spec.lanes * 5 + static_cast<int>(spec.overload * 10));
  for (int trial = 0; trial < 60; ++trial) {
    const PlanProblem problem = make_lanes_problem(rng, spec);
    const Plan expected = brute_force(problem);
    const Plan got = solve_exhaustive(problem);
    ASSERT_EQ(got.feasible, expected.feasible) << "trial " << trial;
    EXPECT_EQ(got.dropped, expected.dropped) << "trial " << trial;
    EXPECT_DOUBLE_EQ(got.total_reward, expected.total_reward) << "trial " << trial;
    EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
  }
}

TEST_P(LanesSmall, YaoDpEqualsExhaustiveAndDensityIsFeasibleAndNeverBetter) {
  const LanesSpec spec = GetParam();
  std::mt19937_64 rng(4242 + spec.jobs * 31 + spec.lanes * 7 + static_cast<int>(spec.overload * 10));
  DpPlanner dp;
  DensityPlanner density;
  int with_drops = 0, lanes_matter = 0;
  for (int trial = 0; trial < 150; ++trial) {
    const PlanProblem problem = make_lanes_problem(rng, spec);
    const Plan expected = solve_exhaustive(problem);
    ASSERT_TRUE(expected.feasible) << "every job with work is droppable, trial " << trial;
    with_drops += expected.dropped > 0;
    // Would one lane (the earliest) have done as well? Count where the extra lanes change the answer.
    {
      PlanProblem one = problem;
      one.reset(problem.now(), problem.sorted_lane_free().first(1));
      testing::add_jobs_of(one, problem);
      const Plan single = solve_exhaustive(one);
      lanes_matter += single.dropped != expected.dropped || single.total_reward != expected.total_reward;
    }

    if (spec.integer_rewards) {
      const Plan& got = dp.solve(problem, 1.0);
      ASSERT_TRUE(got.feasible) << "trial " << trial;
      EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
      EXPECT_EQ(got.dropped, expected.dropped) << "trial " << trial;
      EXPECT_DOUBLE_EQ(got.total_reward, expected.total_reward) << "trial " << trial;
      EXPECT_FALSE(got.coarsened) << "trial " << trial;
    } else {
      const Plan& got = dp.solve(problem, RewardQuantum{.eps = 0.05});
      ASSERT_TRUE(got.feasible) << "trial " << trial;
      EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
      EXPECT_EQ(got.dropped, expected.dropped) << "trial " << trial;
      EXPECT_GE(got.total_reward, expected.total_reward - quantization_loss(got, problem.size())) << "trial " << trial;
      EXPECT_LE(got.total_reward, expected.total_reward + 1e-9) << "trial " << trial;
    }

    const Plan& greedy = density.solve(problem);
    ASSERT_TRUE(greedy.feasible) << "trial " << trial;
    EXPECT_TRUE(problem.feasible(greedy.depths)) << "trial " << trial;
    EXPECT_GE(greedy.dropped, expected.dropped) << "trial " << trial;
    if (greedy.dropped == expected.dropped) {
      EXPECT_LE(greedy.total_reward, expected.total_reward + 1e-9) << "trial " << trial;
    }
  }
  EXPECT_GT(lanes_matter, 20);  // the instances really exercise the extra lanes
  if (spec.overload >= 2.0) {
    EXPECT_GT(with_drops, 10);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, LanesSmall,
    ::testing::Values(LanesSpec{4, 2, 1.0, true}, LanesSpec{6, 2, 2.0, true}, LanesSpec{8, 2, 1.5, true},
                      LanesSpec{8, 2, 3.0, true}, LanesSpec{5, 3, 1.0, true}, LanesSpec{7, 3, 2.0, true},
                      LanesSpec{8, 3, 3.0, true}, LanesSpec{6, 4, 1.0, true}, LanesSpec{8, 4, 2.0, true},
                      LanesSpec{8, 2, 1.5, false}, LanesSpec{8, 3, 2.5, false}));

TEST(PlannersLanes, TheStateCapCoarsensHonestlyWithLanes) {
  // A cap far below what a fine quantum needs: the quantum doubles, the plan says so, and the reward
  // stays within the bound of the coarser quantum.
  std::mt19937_64 rng(99);
  DpPlanner capped(40);
  int coarsened = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const PlanProblem problem = make_lanes_problem(rng, LanesSpec{8, 2, 1.2, false});
    const Plan expected = solve_exhaustive(problem);
    const Plan& got = capped.solve(problem, RewardQuantum{.eps = 0.001});
    ASSERT_TRUE(got.feasible) << "trial " << trial;
    EXPECT_TRUE(problem.feasible(got.depths)) << "trial " << trial;
    EXPECT_EQ(got.dropped, expected.dropped) << "trial " << trial;
    EXPECT_GE(got.total_reward, expected.total_reward - quantization_loss(got, problem.size())) << "trial " << trial;
    if (got.coarsened) {
      ++coarsened;
      EXPECT_GT(got.delta_used, DpPlanner::relative_delta(problem, 0.001)) << "trial " << trial;
    }
  }
  EXPECT_GT(coarsened, 10);
}

TEST(PlannersLanes, DecisionsAllocateNothingAfterWarmUp) {
  // Buffers only grow: once every instance has been solved, solving them again allocates nothing.
  std::mt19937_64 rng(2024);
  std::vector<PlanProblem> problems;
  for (int trial = 0; trial < 24; ++trial)
    problems.push_back(make_lanes_problem(rng, LanesSpec{8, 2 + trial % 3, trial % 2 == 0 ? 1.0 : 2.5, trial % 4 < 2}));
  DpPlanner dp;
  DensityPlanner density;
  auto solve_all = [&] {
    double total = 0.0;
    for (const PlanProblem& problem : problems) {
      total += dp.solve(problem).total_reward + dp.solve(problem, 1.0).total_reward;
      total += density.solve(problem).total_reward;
      total += problem.feasible(density.solve(problem).depths) ? 1.0 : 0.0;
    }
    return total;
  };
  const long start = imprecise::testing::g_all_threads.news.load();
  const double warm = solve_all();
  ASSERT_GT(imprecise::testing::g_all_threads.news.load() - start, 0) << "the counter sees the warm-up's allocations";
  const long before = imprecise::testing::g_all_threads.news.load();
  EXPECT_EQ(solve_all(), warm);
  EXPECT_EQ(imprecise::testing::g_all_threads.news.load() - before, 0);
}

}  // namespace
}  // namespace imprecise
