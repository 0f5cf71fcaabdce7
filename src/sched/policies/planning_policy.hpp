// PlanningPolicy: re-plans every pending job's depth at each event with a Planner (yao-dp, density, oracle).
#pragma once

#include <vector>

#include "imprecise/sched/planner.hpp"
#include "policy_base.hpp"

namespace imprecise::detail {

/// Where a planning policy's rewards come from.
enum class RewardSource {
  predicted,  ///< the utility model: R(l | k, c) from the confidence seen so far
  oracle,     ///< the sample's true correctness per exit (simulation only; reference upper bound)
};

class PlanningPolicy : public PolicyBase {
 public:
  PlanningPolicy(std::span<const Model> models, PolicyConfig config, RewardSource rewards);

  PlanningStats planning_stats() const final { return stats_; }

 protected:
  void plan(Time now) final;
  virtual const Plan& solve(const PlanProblem& problem) = 0;
  /// How many idle jobs (EDF order) a plan decides; 0: all.
  virtual int window() const { return config_.planning_window; }
  /// Idle jobs a companion plan decides (<= 0: no companion). When it is wider than window(),
  /// solve_wide() plans that many, and plan() keeps whichever plan drops fewer jobs, then earns more
  /// over the wider window's jobs.
  virtual int wide_window() const { return 0; }
  virtual const Plan& solve_wide(const PlanProblem& problem) { return solve(problem); }
  /// The plan's EDF head, or with PolicyConfig::mandatory_first the first job waiting at a mandatory
  /// stage when running that stage first keeps on time every job the plan has on time. An optional
  /// head gives way to that job too when the head's dispatch, run at the mandatory figure, would leave
  /// some mandatory part no time (one lane).
  int pick_head(Time now) override;

 private:
  /// How mandatory_parts_fit costs the queue of mandatory parts.
  enum class QueueCosting {
    alone,    ///< every stage at batch 1 at its mandatory figure
    batched,  ///< jobs waiting at a mandatory stage as the batches they form (batched_stage_cost)
    pooled,   ///< batch 1; each finish at the sum of the medians ahead plus the root-sum-square of
              ///< their margins (mandatory figure - figure): independent stage times' p99 over a queue
  };
  /// The job's planned reward per depth (index = depth, 0 below max(1, done)), refreshed only when its
  /// (done, confidence) changed.
  const double* planned_rewards(PendingJob& p);
  /// One lane, nothing deferred: when every window job fits at its deepest exit, sets each job's
  /// target to its best depth (the plan any planner would give) and returns true.
  bool plan_best_depths_if_all_fit(Time now);
  /// Whether every idle job's mandatory part fits, in order, from `from` on, costed one way; shed
  /// jobs count with `with_shed`; on the lanes seen as one (shared()).
  template <QueueCosting costing>
  bool mandatory_parts_fit(Time from, bool with_shed);
  /// Whether they fit costed any of the three ways (each is a schedule the device can keep).
  bool mandatory_parts_fit_somehow(Time from, bool with_shed);
  /// The plan's EDF head, or with mandatory_first a full batch's mandatory stage within its slack.
  int mandatory_first_head(int head, Time now) const;
  /// Whether dispatching the optional stage of jobs_[head], were it to take its mandatory figure
  /// (p99) instead of its planned one, still leaves every mandatory part time (costed any way).
  bool optional_overrun_is_safe(int head, Time now);
  /// The first job (in order) waiting at a mandatory stage the plan serves, or -1.
  int first_at_mandatory_stage() const;
  /// Empties `problem` for a plan at `now` over the lanes' free times (one lane: from now).
  void reset_for_lanes(PlanProblem& problem, Time now);
  /// The latest the first `planned` idle jobs may end so that every later one still meets its deadline
  /// with its mandatory part run back to back after them, in EDF order (kNever: no such job).
  Time reserve_after(std::size_t planned) const;
  /// Appends a row to `problem` for each of `planned` (indices in jobs_) not shed, each due by
  /// `reserve_from` at the latest; `rows` maps rows to jobs. `sheds`: no optional work.
  void add_rows(PlanProblem& problem, std::span<const int> planned, Time reserve_from, bool sheds,
                std::vector<int>& rows);
  /// Whether the companion plan (over wide_problem_) drops fewer jobs than the plan (over problem_,
  /// its first rows), or as many and earns more over the wide window.
  bool beats(const Plan& companion, const Plan& narrow) const;
  /// Sets each planned job's target and shed flag from `plan`.
  void apply(const Plan& plan, const std::vector<int>& rows);
  /// Several lanes share the mandatory work: Moore-Hodgson, the deferred jobs' reserve and the batched
  /// check see the device as one lane `lanes` times as fast (a relaxation: it never sheds a job the
  /// lanes could serve); the window's planner, exact for the lanes' list schedule, sheds what that misses.
  Duration shared(Duration cost) const {
    // ceil(cost / lanes) (costs are >= 0). It is taken per pending job, several times a plan: with a
    // power-of-two lane count (1, 2, 4) as a shift, since an integer division per job was a sixth of a
    // plan's own time at a deep backlog on two lanes (perf, load 12).
    if (lanes_shift_ >= 0) return (cost + ((Duration{1} << lanes_shift_) - 1)) >> lanes_shift_;
    const Duration lanes = config_.lanes;
    return (cost + lanes - 1) / lanes;
  }

  RewardSource rewards_;
  int lanes_shift_;  // log2 of the lane count when it is a power of two, else -1 (shared())
  PlanningStats stats_;
  PlanProblem problem_, wide_problem_;
  std::vector<int> rows_;    // problem row -> index in jobs_
  std::vector<int> wide_rows_;  // wide_problem_ row -> index in jobs_
  std::vector<int> window_;  // indices in jobs_ of the jobs planned this time
  std::vector<int> idle_;    // indices in jobs_ of every job not in flight (EDF order)
  std::vector<DropCandidate> drop_heap_;
};

}  // namespace imprecise::detail
