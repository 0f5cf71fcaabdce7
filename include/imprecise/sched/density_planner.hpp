// DensityPlanner: the greedy planner (marginal reward per unit of planned time), policy `density`.
#pragma once

#include <span>
#include <vector>

#include "imprecise/sched/plan_problem.hpp"
#include "imprecise/sched/suffix_slack.hpp"

namespace imprecise {

/// Greedy by marginal reward per unit of planned time, keeping every prefix feasible; drops (if
/// needed) are chosen as few as possible, preferring to keep the most reward at the lowest depth.
/// Several lanes: the same greedy, each extension checked against the list schedule (ListScheduleSlack:
/// O(1) where the slack proves it, else a re-run from the job on); drops by a heuristic (see
/// solve_lanes), not always the fewest.
class DensityPlanner {
 public:
  const Plan& solve(const PlanProblem& problem);

 private:
  /// lanes() > 1 (density_lanes.cpp).
  const Plan& solve_lanes(const PlanProblem& problem);
  Plan plan_;
  SlackScratch slack_;
  std::vector<Duration> base_slack_;
  struct Candidate {
    double density;
    int job;
    int depth;
  };
  std::vector<Candidate> heap_;
  std::vector<DropCandidate> drop_heap_;
  SuffixSlack prefix_slack_;
};

}  // namespace imprecise
