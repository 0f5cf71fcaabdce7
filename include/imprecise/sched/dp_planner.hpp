// DpPlanner: the Yao et al. dynamic program over (jobs in EDF order) x (quantized reward), policy `yao-dp`.
#pragma once

#include <cstdint>
#include <vector>

#include "imprecise/sched/density_planner.hpp"
#include "imprecise/sched/plan_problem.hpp"

namespace imprecise {

/// Yao et al.: DP over (jobs in order) x (quantized reward) keeping the earliest finish time;
/// with drops only when needed, fewest drops first, then most reward. `delta` > 0 is the reward
/// quantum; with integer rewards and delta 1 it is exact. Where jobs x (drops + 1) x (reward / delta)
/// would exceed 2^18 states the quantum is coarsened to fit (bounded time under heavy overload).
/// Reuses its buffers across calls.
class DpPlanner {
 public:
  const Plan& solve(const PlanProblem& problem, double delta);

 private:
  int min_drops(const PlanProblem& problem);
  Plan plan_;
  SlackScratch slack_;
  std::vector<Time> finish_, next_finish_;  // [drops][reward] rolling rows
  std::vector<std::int16_t> choice_;        // [job][drops][reward] depth chosen, -1 = dropped
  std::vector<int> quant_, quant_offset_, reach_;
  std::vector<Time> drop_finish_, drop_next_;
  DensityPlanner bound_;  // a feasible plan whose reward bounds the search from below
};

}  // namespace imprecise
