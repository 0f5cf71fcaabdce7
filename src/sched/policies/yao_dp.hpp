// yao-dp (and oracle-utility): the EDF-ordered DP over quantized reward of Yao et al., re-planned per event.
#pragma once

#include <algorithm>
#include <limits>

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
  int window() const override {
    if (config_.lanes <= 1 || config_.lanes_dp_window <= 0) return config_.planning_window;
    return config_.planning_window > 0 ? std::min(config_.planning_window, config_.lanes_dp_window)
                                       : config_.lanes_dp_window;
  }
  /// Over several lanes the DP's window is narrower than the policy's (lanes_dp_window): a density plan
  /// the whole planning window wide stands beside it, so the jobs past the DP's window are not held to
  /// their mandatory parts while they could already share the slack.
  int wide_window() const override {
    if (window() == config_.planning_window) return 0;
    return config_.planning_window > 0 ? config_.planning_window : std::numeric_limits<int>::max();
  }
  const Plan& solve_wide(const PlanProblem& problem) override { return wide_planner_.solve(problem); }

 private:
  bool oracle_;
  DpPlanner planner_;
  DensityPlanner wide_planner_;
};

}  // namespace imprecise
