// solve_exhaustive: the reference planner, every combination (fewest drops, then most reward) under the list schedule.
#include "imprecise/sched/exhaustive_planner.hpp"

#include <algorithm>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "imprecise/error.hpp"
#include "plan_support.hpp"

namespace imprecise {

namespace {

using detail::lowest_depth_plan;

}  // namespace

Plan solve_exhaustive(const PlanProblem& problem) {
  const int n = problem.size();
  if (n > 12) throw Error("exhaustive planner: " + std::to_string(n) + " jobs is too many (at most 12)");
  Plan best;
  best.feasible = false;
  best.dropped = n + 1;
  std::vector<int> depths(n, 0);
  // free[i]: the lanes' free times (sorted) before job i, so a branch's lanes are one copy away.
  const std::span<const Time> lanes = problem.sorted_lane_free();
  const std::size_t m = lanes.size();
  std::vector<Time> free(static_cast<std::size_t>(n + 1) * m);
  std::copy(lanes.begin(), lanes.end(), free.begin());
  auto lanes_before = [&](int i) { return std::span<Time>(free).subspan(static_cast<std::size_t>(i) * m, m); };
  std::function<void(int, int, double)> visit = [&](int i, int dropped, double reward) {
    if (dropped > best.dropped) return;
    if (i == n) {
      if (!best.feasible || dropped < best.dropped || (dropped == best.dropped && reward > best.total_reward + 1e-9)) {
        best.feasible = true;
        best.dropped = dropped;
        best.total_reward = reward;
        best.depths = depths;
      }
      return;
    }
    const std::span<Time> before = lanes_before(i), after = lanes_before(i + 1);
    if (problem.droppable(i)) {
      depths[i] = 0;
      std::copy(before.begin(), before.end(), after.begin());
      visit(i + 1, dropped + 1, reward);
    }
    for (int l = problem.lo(i); l <= problem.hi(i); ++l) {
      const Duration c = problem.cost(i, l);
      std::copy(before.begin(), before.end(), after.begin());
      // The list schedule's rule; a longer job only finishes later, so the first miss ends the depths.
      if (c > 0 && detail::run_on_sorted(after, c) > problem.deadline(i)) break;
      depths[i] = l;
      visit(i + 1, dropped, reward + problem.reward(i, l));
    }
  };
  visit(0, 0, 0.0);
  if (!best.feasible) {
    lowest_depth_plan(problem, best);
    return best;
  }
  return best;
}

}  // namespace imprecise
