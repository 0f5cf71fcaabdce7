// solve_exhaustive: the reference planner, every combination (fewest drops, then most reward).
#include "imprecise/sched/exhaustive_planner.hpp"

#include <functional>
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
  std::function<void(int, Time, int, double)> visit = [&](int i, Time t, int dropped, double reward) {
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
    if (problem.droppable(i)) {
      depths[i] = 0;
      visit(i + 1, t, dropped + 1, reward);
    }
    for (int l = problem.lo(i); l <= problem.hi(i); ++l) {
      const Duration c = problem.cost(i, l);
      if (c > 0 && t + c > problem.deadline(i)) break;
      depths[i] = l;
      visit(i + 1, t + c, dropped, reward + problem.reward(i, l));
    }
  };
  visit(0, problem.now(), 0, 0.0);
  if (!best.feasible) {
    lowest_depth_plan(problem, best);
    return best;
  }
  return best;
}

}  // namespace imprecise
