// density: greedy by marginal reward per unit of planned time, keeping every EDF prefix feasible.
#pragma once

#include "planning_policy.hpp"

namespace imprecise {

class DensityPolicy final : public detail::PlanningPolicy {
 public:
  DensityPolicy(std::span<const Model> models, PolicyConfig config)
      : PlanningPolicy(models, config, detail::RewardSource::predicted) {}
  std::string_view name() const override { return "density"; }

 protected:
  const Plan& solve(const PlanProblem& problem) override { return planner_.solve(problem); }

 private:
  DensityPlanner planner_;
};

}  // namespace imprecise
