// ListScheduleSlack (the multi-lane density planner's feasibility trials) against PlanProblem::feasible:
// random problems on 1-4 lanes, random current depths (feasible or not, drops and out-of-range depths
// included), every trial answered exactly as a full re-run answers it, and updates kept in step.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "imprecise/sched/list_schedule_slack.hpp"
#include "imprecise/sched/plan_problem.hpp"

namespace {

using imprecise::Duration;
using imprecise::PlanProblem;
using imprecise::Time;
using imprecise::detail::ListScheduleSlack;

/// A random problem: costs grow with depth; deadlines loose or tight, so some trials fit and some miss.
PlanProblem random_problem(std::mt19937_64& rng, int n, int lanes) {
  PlanProblem problem;
  std::uniform_int_distribution<Time> free_at(0, 40);
  std::vector<Time> lane_free(static_cast<std::size_t>(lanes));
  for (Time& t : lane_free) t = free_at(rng);
  problem.reset(0, lane_free);
  std::uniform_int_distribution<int> stages(1, 4), stage_cost(0, 30), slack(-10, 200);
  Time load = 0;
  for (int i = 0; i < n; ++i) {
    const int hi = stages(rng);
    const int done = std::uniform_int_distribution<int>(0, hi - 1)(rng);
    const int lo = std::uniform_int_distribution<int>(done, hi)(rng);
    std::vector<Duration> cost(static_cast<std::size_t>(hi) + 1, 0);
    std::vector<double> reward(static_cast<std::size_t>(hi) + 1, 0.0);
    for (int l = done + 1; l <= hi; ++l) {
      cost[static_cast<std::size_t>(l)] = cost[static_cast<std::size_t>(l) - 1] + stage_cost(rng);
      reward[static_cast<std::size_t>(l)] = 0.1 * l;
    }
    load += cost[static_cast<std::size_t>(lo)];
    problem.add(40 + load / lanes + slack(rng), done, lo, hi, cost, reward, /*droppable=*/i % 3 != 0);
  }
  return problem;
}

/// Depths for the current choice: mostly the lowest, some deeper, some dropped, and (`wild`) a few out
/// of range.
std::vector<int> random_depths(std::mt19937_64& rng, const PlanProblem& problem, bool wild) {
  std::vector<int> depths(static_cast<std::size_t>(problem.size()));
  std::uniform_int_distribution<int> pick(0, 19);
  for (int i = 0; i < problem.size(); ++i) {
    const int r = pick(rng);
    int& d = depths[static_cast<std::size_t>(i)];
    if (r == 0) d = 0;
    else if (r == 1 && wild) d = problem.hi(i) + 1;
    else if (r < 6) d = std::uniform_int_distribution<int>(problem.lo(i), problem.hi(i))(rng);
    else d = problem.lo(i);
  }
  return depths;
}

TEST(ListScheduleSlack, EveryTrialIsAnsweredAsAFullReRunAnswersIt) {
  std::mt19937_64 rng(20261129);
  int trials = 0, feasible_trials = 0, infeasible_currents = 0;
  for (int instance = 0; instance < 400; ++instance) {
    const int lanes = 1 + instance % 4;
    const int n = 1 + static_cast<int>(rng() % 24);
    const PlanProblem problem = random_problem(rng, n, lanes);
    std::vector<int> depths = random_depths(rng, problem, /*wild=*/instance % 5 == 0);
    ListScheduleSlack slack;
    slack.build(problem, depths);
    for (int step = 0; step < 40; ++step) {
      infeasible_currents += problem.feasible(depths) ? 0 : 1;
      const int i = static_cast<int>(rng() % static_cast<unsigned>(n));
      const int depth = std::uniform_int_distribution<int>(0, problem.hi(i) + 1)(rng);
      std::vector<int> tried = depths;
      tried[static_cast<std::size_t>(i)] = depth;
      const bool expected = problem.feasible(tried);
      ASSERT_EQ(slack.fits(problem, depths, i, depth), expected)
          << "instance " << instance << " (" << lanes << " lanes), step " << step << ": job " << i << " to depth " << depth;
      ++trials;
      feasible_trials += expected ? 1 : 0;
      if (expected || step % 10 == 0) {  // the planner takes a fitting trial; now and then take any
        depths = tried;
        slack.update(problem, depths, i);
      }
    }
  }
  // Both answers, and trials from infeasible choices, must have been exercised.
  EXPECT_GT(feasible_trials, trials / 10);
  EXPECT_LT(feasible_trials, trials - trials / 10);
  EXPECT_GT(infeasible_currents, 1000);
}

TEST(ListScheduleSlack, ALongerJobWhoseLaterSlackCoversItFitsAndOneThatPushesALaterJobLateDoesNot) {
  // Lanes free at 0 and 10; jobs in order: A (10), B (10), C (10, deadline 25). A runs 0-10, B 10-20 on
  // the first lane, C 10-20 on the second: 5 of slack. A longer by d moves B to the second lane and C
  // to 20 + d: A may grow by 5, not by 6.
  PlanProblem problem;
  const std::vector<Time> lanes{0, 10};
  problem.reset(0, lanes);
  const std::vector<Duration> cost{0, 10, 15, 16};
  const std::vector<double> reward{0.0, 0.5, 0.6, 0.7};
  problem.add(100, 0, 1, 3, cost, reward);
  problem.add(100, 0, 1, 1, std::vector<Duration>{0, 10}, std::vector<double>{0.0, 0.5});
  problem.add(25, 0, 1, 1, std::vector<Duration>{0, 10}, std::vector<double>{0.0, 0.5});
  const std::vector<int> depths{1, 1, 1};
  ListScheduleSlack slack;
  slack.build(problem, depths);
  EXPECT_TRUE(slack.fits(problem, depths, 0, 2));
  EXPECT_FALSE(slack.fits(problem, depths, 0, 3));
  EXPECT_TRUE(slack.fits(problem, depths, 2, 0));   // dropping a job never makes another late
  EXPECT_FALSE(slack.fits(problem, depths, 1, 2));  // past the job's deepest exit
}

}  // namespace
