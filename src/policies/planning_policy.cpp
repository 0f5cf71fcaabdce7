// PlanningPolicy: turns the pending jobs into a PlanProblem (EDF order) and applies the chosen plan.
#include "imprecise/policies/planning_policy.hpp"

#include <algorithm>

namespace imprecise::detail {

PlanningPolicy::PlanningPolicy(std::span<const Model> models, PolicyConfig config, RewardSource rewards)
    : PolicyBase(models, config, JobOrder::earliest_deadline), rewards_(rewards) {
  rows_.reserve(256);
}

void PlanningPolicy::plan(Time now) {
  problem_.reset(now);
  rows_.clear();
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    const PendingJob& p = jobs_[i];
    if (p.in_flight) continue;
    const Model& model = model_of(p);
    const int stages = model.stages();
    cost_.assign(stages + 1, 0);
    reward_.assign(stages + 1, 0.0);
    Duration running = 0;
    for (int l = p.done + 1; l <= stages; ++l) {
      running += model.profile.planned(l - 1, 1, config_.figure);
      cost_[l] = running;
    }
    for (int l = std::max(1, p.done); l <= stages; ++l) {
      if (rewards_ == RewardSource::oracle && p.job.oracle.size() >= static_cast<std::size_t>(l))
        reward_[l] = p.job.oracle[l - 1].correct ? p.job.weight : 0.0;
      else
        reward_[l] = predicted_reward(p, l);
    }
    const int lo = std::max(p.job.mandatory_depth, p.done);
    problem_.add(p.job.deadline, p.done, std::min(lo, stages), stages, cost_, reward_,
                 /*droppable=*/p.done < p.job.mandatory_depth);
    rows_.push_back(static_cast<int>(i));
  }
  const Plan& plan = solve(problem_);
  for (std::size_t row = 0; row < rows_.size(); ++row) {
    PendingJob& p = jobs_[rows_[row]];
    const int depth = plan.depths[row];
    p.drop = depth == 0 && p.done < p.job.mandatory_depth;
    p.target = std::max(depth, p.done);
  }
}

}  // namespace imprecise::detail
