// solve_exhaustive: the reference planner that enumerates every combination (tests, `plan --policy exhaustive`).
#pragma once

#include "imprecise/sched/plan_problem.hpp"

namespace imprecise {

/// Reference: enumerates every combination of depths, drops included (fewest drops, then most reward),
/// each checked by the problem's list schedule over its lanes. For tests and the
/// `plan --policy exhaustive` CLI; exponential, throws Error for more than 12 jobs.
Plan solve_exhaustive(const PlanProblem& problem);

}  // namespace imprecise
