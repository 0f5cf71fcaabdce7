// PlanProblem and Plan: one decision point for a planner (jobs in run order, costs and rewards per depth) and its answer.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "imprecise/core/time.hpp"
#include "imprecise/sched/lane_schedule.hpp"
#include "imprecise/sched/list_schedule_slack.hpp"

namespace imprecise {

/// One decision point: jobs appended in the order they will run (EDF for the planning policies).
/// Job i may stop at any depth in [lo_i, hi_i], or be dropped (depth 0) if droppable(i) and even the
/// mandatory parts cannot all fit. cost(i, l) = planned time, from `now`, that job i alone needs to
/// reach depth l (0 at its current depth, non-decreasing in l); reward(i, l) = predicted reward of
/// stopping at l.
///
/// Lanes: the device runs `lanes()` executors at once; lane k frees at lane_free(k) (>= now). The
/// schedule of a choice of depths is EDF list scheduling (LaneSchedule): jobs in problem order; a job
/// with work (cost(i, l) > 0) runs all of its remaining work on the lane that frees first (ties: lowest
/// index), from when it frees, and finishes at that time + cost(i, l). A plan is feasible when every
/// such job finishes by its deadline. With one lane free at `now` that is "back to back in order".
///
/// Buffers only grow, so after warm-up a decision allocates nothing.
class PlanProblem {
 public:
  /// One lane, free at `now`.
  void reset(Time now);
  /// Lane k frees at lane_free[k]; a time before `now` counts as `now`. At least one lane.
  void reset(Time now, std::span<const Time> lane_free);
  /// `done`: depth already finished; `lo` >= done: smallest depth if served; costs/rewards are
  /// indexed by depth and must hold hi+1 entries (entries below `done` are ignored).
  void add(Time deadline, int done, int lo, int hi, std::span<const Duration> cost,
           std::span<const double> reward, bool droppable = true);
  /// add() for a caller that builds its rows anyway: the job's hi+1 cost and reward entries, to be
  /// filled in place (every one of them; costs below `done` with 0). Saves add()'s copies.
  struct RowValues {
    std::span<Duration> cost;
    std::span<double> reward;
  };
  RowValues add_row(Time deadline, int done, int lo, int hi, bool droppable = true) {
    assert(done >= 0 && lo >= done && hi >= lo);
    const std::size_t offset = values_used_;
    const auto width = static_cast<std::size_t>(hi) + 1;
    rows_.push_back(Row{deadline, done, lo, hi, static_cast<int>(offset), droppable && lo > done});
    // The value buffers keep their size between decisions: rows take their entries as they come.
    values_used_ += width;
    if (values_cost_.size() < values_used_) grow_values();
    return RowValues{std::span<Duration>(values_cost_).subspan(offset, width),
                     std::span<double>(values_reward_).subspan(offset, width)};
  }

  int size() const { return static_cast<int>(rows_.size()); }
  Time now() const { return now_; }
  int lanes() const { return static_cast<int>(lane_free_.size()); }
  Time lane_free(int k) const { return lane_free_[static_cast<std::size_t>(k)]; }
  /// The lanes' free times in ascending order (the planners' starting state; lane identity never
  /// changes a finish time).
  std::span<const Time> sorted_lane_free() const { return sorted_lane_free_; }
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

  /// True if the list schedule of every job at `depths[i]` (0 = dropped, only where droppable(i))
  /// meets every deadline. These checks reuse one scratch schedule: one problem, one thread at a time.
  bool feasible(std::span<const int> depths) const;
  /// True if every job fits at its lowest depth (no drop needed).
  bool mandatory_fits() const;
  /// True if every job fits at its highest depth: then no choice of depths can miss (a list schedule's
  /// finishes never fall when a job gets longer), and the best plan takes each job's best depth alone.
  bool deepest_fits() const;
  /// The first job (in order) whose list-scheduled finish at `depths` passes its deadline, or -1.
  /// Depths out of range count as misses there; a dropped job (depth 0, droppable) does not run.
  int first_miss(std::span<const int> depths) const;

 private:
  /// One job's scalars, together: a job is added with one append, and a planner reading one job's
  /// deadline, bounds and row finds them side by side.
  struct Row {
    Time deadline;
    int done, lo, hi, offset;  ///< offset: where its costs and rewards start in values_*
    bool droppable;
  };
  template <class DepthOf>
  int first_miss_at(DepthOf depth_of) const;
  void grow_values();
  Time now_ = 0;
  std::vector<Time> lane_free_{0}, sorted_lane_free_{0};
  mutable LaneSchedule schedule_;  // scratch for first_miss(): a const check allocates nothing
  std::vector<Row> rows_;
  std::vector<Duration> values_cost_;  // entries [0, values_used_) belong to this decision's rows
  std::vector<double> values_reward_;
  std::size_t values_used_ = 0;
};

/// Buffers a planner keeps between decisions for handing out leftover slack, so a decision allocates nothing.
struct SlackScratch {
  std::vector<Time> prefix_finish;
  std::vector<Duration> slack_suffix;
  detail::ListScheduleSlack schedule;  // several lanes
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
  /// The reward quantum the planner really used (yao-dp; 0 for planners that do not quantize, and for a
  /// plan that needed no search because every job fits at full depth: that plan is exact). It is
  /// larger than the one asked for when `coarsened`: the DP's state cap relaxed the (1 - eps) bound.
  double delta_used = 0.0;
  bool coarsened = false;
};

}  // namespace imprecise
