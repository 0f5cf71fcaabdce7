// Internal to the planners: the helpers every planner's solve() shares (plan totals, fallbacks, leftover slack).
#pragma once

#include <vector>

#include "imprecise/sched/plan_problem.hpp"

namespace imprecise::detail {

inline constexpr Time kInfinity = kNever;

/// Fills plan totals from its depths.
inline void finish_plan(const PlanProblem& problem, Plan& plan) {
  plan.total_reward = 0.0;
  plan.dropped = 0;
  for (int i = 0; i < problem.size(); ++i) {
    if (plan.depths[i] == 0 && problem.lo(i) > 0) ++plan.dropped;
    plan.total_reward += problem.reward(i, plan.depths[i]);
  }
}

/// Resets `plan` for `problem` (every depth 0, feasible); true when there is nothing to plan.
inline bool begin_plan(const PlanProblem& problem, Plan& plan) {
  plan.depths.assign(problem.size(), 0);
  plan.feasible = true;
  if (problem.size() > 0) return false;
  finish_plan(problem, plan);
  return true;
}

/// Fallback when nothing can make the problem feasible: everyone at the lowest depth.
inline void lowest_depth_plan(const PlanProblem& problem, Plan& plan) {
  plan.depths.resize(problem.size());
  for (int i = 0; i < problem.size(); ++i) plan.depths[i] = problem.lo(i);
  plan.feasible = false;
  finish_plan(problem, plan);
}

/// Deepens jobs, in order, into the slack a feasible plan leaves, wherever the reward does not fall.
void spend_leftover_slack(const PlanProblem& problem, std::vector<int>& depths, SlackScratch& scratch);

}  // namespace imprecise::detail
