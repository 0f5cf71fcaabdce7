// yao-dp (and oracle-utility): the EDF-ordered DP over quantized reward of Yao et al., re-planned per event.
#pragma once

#include "planning_policy.hpp"

namespace imprecise {

class YaoDpPolicy final : public detail::PlanningPolicy {
 public:
  YaoDpPolicy(std::span<const Model> models, PolicyConfig config,
              detail::RewardSource rewards = detail::RewardSource::predicted)
      : PlanningPolicy(models, config, rewards), oracle_(rewards == detail::RewardSource::oracle) {}
  std::string_view name() const override { return oracle_ ? "oracle-utility" : "yao-dp"; }

 protected:
  const Plan& solve(const PlanProblem& problem) override { return planner_.solve(problem, config_.delta); }

 private:
  bool oracle_;
  DpPlanner planner_;
};

}  // namespace imprecise
