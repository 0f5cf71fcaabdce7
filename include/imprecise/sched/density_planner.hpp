// DensityPlanner: the greedy planner (marginal reward per unit of planned time), policy `density`.
#pragma once

#include <span>
#include <vector>

#include "imprecise/sched/plan_problem.hpp"

namespace imprecise {

/// Greedy by marginal reward per unit of planned time, keeping every prefix feasible; drops (if
/// needed) are chosen as few as possible, preferring to keep the most reward at the lowest depth.
class DensityPlanner {
 public:
  const Plan& solve(const PlanProblem& problem);

 private:
  Plan plan_;
  SlackScratch slack_;
  std::vector<Duration> tree_min_, tree_add_;  // segment tree: min slack, pending add per inner node
  std::vector<Duration> base_slack_;
  struct Candidate {
    double density;
    int job;
    int depth;
  };
  std::vector<Candidate> heap_;
  std::vector<DropCandidate> drop_heap_;
  void tree_reset(std::span<const Duration> leaves);
  void tree_apply(int node, Duration value);
  void tree_rebuild_above(int node);
  void tree_add(int from, int to, Duration value);
  Duration tree_min(int from, int to) const;
  int tree_leaves_ = 0;
};

}  // namespace imprecise
