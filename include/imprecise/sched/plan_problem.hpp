// PlanProblem and Plan: one decision point for a planner (jobs in run order, costs and rewards per depth) and its answer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "imprecise/core/time.hpp"

namespace imprecise {

/// One decision point: jobs appended in the order they will run (EDF for the planning policies).
/// Job i may stop at any depth in [lo_i, hi_i], or be dropped (depth 0) if droppable(i) and even the
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

  int size() const { return static_cast<int>(rows_.size()); }
  Time now() const { return now_; }
  Time deadline(int i) const { return rows_[i].deadline; }
  int done(int i) const { return rows_[i].done; }
  int lo(int i) const { return rows_[i].lo; }
  int hi(int i) const { return rows_[i].hi; }
  /// The one definition of "may be dropped" every planner, feasible() and the exhaustive search use:
  /// the caller allowed it and the job still has mandatory work (lo > done), partly run or not. A job
  /// whose lowest depth is already done is answered, never dropped.
  bool droppable(int i) const { return rows_[i].droppable; }
  const Duration& cost(int i, int depth) const { return values_cost_[rows_[i].offset + depth]; }
  double reward(int i, int depth) const { return depth <= 0 ? 0.0 : values_reward_[rows_[i].offset + depth]; }

  /// True if running every job to `depths[i]` (0 = dropped, only where droppable(i)) in order meets
  /// every deadline.
  bool feasible(std::span<const int> depths) const;
  /// True if every job fits at its lowest depth (no drop needed).
  bool mandatory_fits() const;

 private:
  /// One job's scalars, together: a job is added with one append, and a planner reading one job's
  /// deadline, bounds and row finds them side by side.
  struct Row {
    Time deadline;
    int done, lo, hi, offset;  ///< offset: where its costs and rewards start in values_*
    bool droppable;
  };
  Time now_ = 0;
  std::vector<Row> rows_;
  std::vector<Duration> values_cost_;
  std::vector<double> values_reward_;
};

/// Buffers a planner keeps between decisions for handing out leftover slack, so a decision allocates nothing.
struct SlackScratch {
  std::vector<Time> prefix_finish;
  std::vector<Duration> slack_suffix;
};

/// A job that Moore-Hodgson (fewest drops over mandatory parts) may shed: its mandatory cost, the
/// reward it keeps if served, its index. Planners and policies keep a heap of these between decisions.
struct DropCandidate {
  Duration cost = 0;
  double reward = 0.0;
  int index = 0;
};

/// A chosen plan: depth per job (0 = dropped), in the problem's order.
struct Plan {
  std::vector<int> depths;
  double total_reward = 0.0;  ///< sum of reward(i, depths[i]), unquantized
  int dropped = 0;
  bool feasible = true;       ///< false only when not even dropping every droppable job helps
  /// The reward quantum the planner really used (yao-dp; 0 for planners that do not quantize). It is
  /// larger than the one asked for when `coarsened`: the DP's state cap relaxed the (1 - eps) bound.
  double delta_used = 0.0;
  bool coarsened = false;
};

}  // namespace imprecise
