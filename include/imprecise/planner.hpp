// Planner: chooses how deep each pending job goes at one decision point (yao-dp, density, exhaustive).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "imprecise/time.hpp"

namespace imprecise {

/// One decision point: jobs appended in the order they will run (EDF for the planning policies).
/// Job i may stop at any depth in [lo_i, hi_i], or be dropped (depth 0) if droppable and even the
/// mandatory parts cannot all fit. cost(i, l) = planned time, from `now`, that job i alone needs to
/// reach depth l (0 at its current depth, non-decreasing in l); reward(i, l) = predicted reward of
/// stopping at l. A plan is feasible when every job that still has work finishes by its deadline
/// when the chosen work runs back to back in order.
///
/// Buffers only grow, so after warm-up a decision allocates nothing.
class PlanProblem {
 public:
  void reset(Time now);
  /// `done`: depth already finished; `lo` >= done: smallest depth if served; costs/rewards are
  /// indexed by depth and must hold hi+1 entries (entries below `done` are ignored).
  void add(Time deadline, int done, int lo, int hi, std::span<const Duration> cost,
           std::span<const double> reward, bool droppable = true);

  int size() const { return static_cast<int>(deadline_.size()); }
  Time now() const { return now_; }
  Time deadline(int i) const { return deadline_[i]; }
  int done(int i) const { return done_[i]; }
  int lo(int i) const { return lo_[i]; }
  int hi(int i) const { return hi_[i]; }
  bool droppable(int i) const { return droppable_[i] != 0; }
  const Duration& cost(int i, int depth) const { return values_cost_[offset_[i] + depth]; }
  double reward(int i, int depth) const { return depth <= 0 ? 0.0 : values_reward_[offset_[i] + depth]; }

  /// True if running every job to `depths[i]` (0 = dropped) in order meets every deadline.
  bool feasible(std::span<const int> depths) const;
  /// True if every job fits at its lowest depth (no drop needed).
  bool mandatory_fits() const;

 private:
  Time now_ = 0;
  std::vector<Time> deadline_;
  std::vector<int> done_, lo_, hi_, offset_;
  std::vector<std::uint8_t> droppable_;
  std::vector<Duration> values_cost_;
  std::vector<double> values_reward_;
};

namespace detail {
/// Scratch buffers of spend_leftover_slack, kept by each planner so a decision allocates nothing.
struct SlackScratch {
  std::vector<Time> prefix_finish;
  std::vector<Duration> slack_suffix;
};
/// Deepens jobs, in order, into the slack a feasible plan leaves, wherever the reward does not fall.
void spend_leftover_slack(const PlanProblem& problem, std::vector<int>& depths, SlackScratch& scratch);
}  // namespace detail

/// A chosen plan: depth per job (0 = dropped), in the problem's order.
struct Plan {
  std::vector<int> depths;
  double total_reward = 0.0;  ///< sum of reward(i, depths[i]), unquantized
  int dropped = 0;
  bool feasible = true;       ///< false only when not even dropping every droppable job helps
};

/// Greedy by marginal reward per unit of planned time, keeping every prefix feasible; drops (if
/// needed) are chosen as few as possible, preferring to keep the most reward at the lowest depth.
class DensityPlanner {
 public:
  const Plan& solve(const PlanProblem& problem);

 private:
  Plan plan_;
  detail::SlackScratch slack_;
  std::vector<Duration> tree_min_, tree_add_;  // segment tree: min slack, pending add per inner node
  std::vector<Duration> base_slack_;
  struct Candidate {
    double density;
    int job;
    int depth;
  };
  std::vector<Candidate> heap_;
  void tree_reset(std::span<const Duration> leaves);
  void tree_apply(int node, Duration value);
  void tree_rebuild_above(int node);
  void tree_add(int from, int to, Duration value);
  Duration tree_min(int from, int to) const;
  int tree_leaves_ = 0;
};

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
  detail::SlackScratch slack_;
  std::vector<Time> finish_, next_finish_;  // [drops][reward] rolling rows
  std::vector<std::int16_t> choice_;        // [job][drops][reward] depth chosen, -1 = dropped
  std::vector<int> quant_, quant_offset_, reach_;
  std::vector<Time> drop_finish_, drop_next_;
  DensityPlanner bound_;  // a feasible plan whose reward bounds the search from below
};

/// Reference: enumerates every combination (fewest drops, then most reward). For tests and the
/// `plan --policy exhaustive` CLI; exponential, throws Error for more than 10 jobs.
Plan solve_exhaustive(const PlanProblem& problem);

}  // namespace imprecise
