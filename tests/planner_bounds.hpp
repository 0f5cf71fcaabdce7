// What the planner tests allow a quantized plan to lose against the best one.
#pragma once

#include "imprecise/sched/plan_problem.hpp"

namespace imprecise::testing {

/// Bound on what quantizing costs a plan of `jobs` jobs at the quantum it reports: each job's floor
/// loses less than delta_used, twice that with drops (a served job's lowest-depth reward is
/// quantized too).
inline double quantization_loss(const Plan& plan, int jobs) {
  return (plan.dropped > 0 ? 2.0 : 1.0) * jobs * plan.delta_used + 1e-9;
}

}  // namespace imprecise::testing
