// PolicyBase: the protocol every policy shares (pending set, Finish/Drop emission, feasible batching).
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "imprecise/core/model.hpp"
#include "imprecise/sched/policy.hpp"
#include "job_rows.hpp"

namespace imprecise::detail {

/// A job the policy holds, with what it knows of its progress and what the current plan wants.
struct PendingJob {
  Job job;
  int done = 0;             ///< stages finished
  double confidence = 0.0;  ///< at exit `done` (meaningless while done == 0)
  int target = 0;           ///< depth the current plan stops at
  bool drop = false;        ///< the current plan sheds it
  bool in_flight = false;   ///< inside a dispatched batch
  bool in_batch = false;    ///< scratch flag while forming a batch
  bool leaving = false;     ///< scratch flag: marked to leave the pending set (PolicyBase::take_out_leaving)
  bool deferred = false;    ///< beyond the planning window: only its mandatory part is decided yet
  int cost_slot = -1;       ///< its row of planned stage costs (PolicyBase::job_cost; batch_aware only)
  int reward_slot = -1;     ///< its row of planned rewards per depth (PolicyBase::reward_row; planning policies)
  bool rewards_current = false;  ///< that row holds the rewards of its current (done, confidence)
};

/// In which order a policy runs its jobs (and checks feasibility).
enum class JobOrder { earliest_deadline, first_released };

class PolicyBase : public Policy {
 public:
  PolicyBase(std::span<const Model> models, PolicyConfig config, JobOrder order);

  void on_release(const Job& job, Time now) override;
  void on_stage_done(JobId job, int depth, double confidence, Time now) override;
  void on_expire(JobId job, Time now) override;
  Decision next(Time now) override;
  void on_lane_free(int lane, Time now) override;
  void set_control(ModelId model, const ModelControl& control) override;

  /// Jobs not answered yet (those whose Finish or Drop is owed included).
  std::size_t pending() const { return jobs_.size() + (owed_.size() - owed_next_); }

 protected:
  /// Sets `target` (>= done) and `drop` of every job that is not in flight. Called once per event.
  virtual void plan(Time now) = 0;
  /// Index in jobs_ of the job whose next stage runs now, or -1. Default: the first job in order
  /// that still needs a stage.
  virtual int pick_head(Time now);

  const Model& model_of(const PendingJob& job) const { return models_[job.job.model]; }
  /// The stage times plans budget with: measured with every lane busy (Model::profile_at), since
  /// instances running together slow each other.
  const Profile& planning_profile(const Model& model) const { return model.profile_at(config_.lanes); }
  const Profile& planning_profile(ModelId model) const { return planning_profile(models_[model]); }
  /// When each lane frees, as this policy dispatched them: `now` for a free lane, else its batch's
  /// start plus its planned time (never before `now`). One entry per lane.
  std::span<const Time> lane_free_times(Time now);
  int stages_of(const PendingJob& job) const { return model_of(job).stages(); }
  /// The largest batch `model` may dispatch now (PolicyConfig::max_batch, its control, its profile).
  int max_batch_of(ModelId model) const;
  /// Jobs that need `stage` of `model` next and could join a batch of it now.
  int waiting_at(ModelId model, int stage) const;
  /// Planned time of `stage` of `model` at `batch`: PolicyConfig::mandatory_figure for a mandatory
  /// stage, PolicyConfig::figure for an optional one. The one rule every plan and check budgets with.
  Duration planned_time(ModelId model, int stage, int batch) const;
  PlanningFigure figure_of(ModelId model, int stage) const;
  /// Planned time to take `job` from its current depth to `depth`, each stage at its per-job cost
  /// in this decision's batches (job_cost).
  Duration remaining_cost(const PendingJob& job, int depth) const {
    if (!config_.batch_aware) return alone_cost(job, depth);
    const Duration* cost = stage_costs_.row(job.cost_slot);
    Duration total = 0;
    for (int s = job.done; s < depth; ++s) total += cost[s];
    return total;
  }
  /// Planned time of `stage` for `job` in this decision: batch 1, or with batch_aware planning, for
  /// jobs waiting at a mandatory stage, the cost of the batches they form (refresh_job_costs).
  Duration job_cost(const PendingJob& job, int stage) const {
    if (!config_.batch_aware) return alone_prefix(job.job.model)[stage + 1] - alone_prefix(job.job.model)[stage];
    return stage_costs_.row(job.cost_slot)[stage];
  }
  /// Planned time to take `job` alone (batch 1) from depth `from` (default: its current depth) to
  /// `depth`: the least it can take, so what proves that a deadline can no longer be met.
  Duration alone_cost(const PendingJob& job, int depth) const { return alone_cost(job, job.done, depth); }
  Duration alone_cost(const PendingJob& job, int from, int depth) const {
    if (depth <= from) return 0;
    const Duration* prefix = alone_prefix(job.job.model);
    return prefix[std::min(depth, prefix_stride_ - 1)] - prefix[from];
  }
  /// Batch-1 planned time of stages [0, depth) of `model`, for depth in [0, max stages] (constant past
  /// the model's own stages). One flat table: the per-job cost lookups of a plan are its hottest loads.
  const Duration* alone_prefix(ModelId model) const {
    return alone_prefix_.data() + static_cast<std::ptrdiff_t>(model) * prefix_stride_;
  }
  /// A stage at batch 1 as a queue budgeted at the p99 of its sum sees it: its median
  /// (PolicyConfig::figure) and its squared margin (mandatory figure - median, ns^2).
  struct PooledStage {
    Duration median = 0;
    double margin_squared = 0.0;
  };
  const PooledStage& pooled_stage(ModelId model, int stage) const {
    return pooled_stages_[static_cast<std::size_t>(model)][static_cast<std::size_t>(stage)];
  }
  /// weight x R(depth | exit done, confidence).
  double predicted_reward(const PendingJob& job, int depth) const;
  /// reward[l] = predicted_reward(job, l) for l in [from, to].
  void predicted_rewards(const PendingJob& job, int from, int to, double* reward) const;
  bool needs_stage(const PendingJob& job) const { return !job.in_flight && !job.drop && job.target > job.done; }
  /// The row of planned rewards per depth (index = depth, max_stages + 1 entries) kept for `job`,
  /// and whether it still holds them: a job's rewards change only at its stage completions
  /// (on_stage_done marks the row stale), so a decision recomputes only those; the caller fills a
  /// stale row. Only for policies that called keep_reward_rows() before any release.
  double* reward_row(PendingJob& job, bool& current) {
    current = job.rewards_current;
    job.rewards_current = true;
    return reward_rows_.row(job.reward_slot);
  }
  void keep_reward_rows() {
    keeps_reward_rows_ = true;
    reward_rows_.reserve(256);
  }
  /// Batch groups at mandatory stages: every idle job waiting at a mandatory stage (and the jobs the
  /// plan sheds, with `with_shed`) is ranked in order within its (model, stage). rank_batch_groups()
  /// starts a pass; batched_stage_cost() then gives each such job (and only those), called in order,
  /// its share: the first of every max_batch_of(model) pays its whole batch's planned time, the others
  /// nothing.
  void rank_batch_groups(bool with_shed);
  Duration batched_stage_cost(const PendingJob& job);
  /// Not in flight, its next stage is mandatory, and (unless `with_shed`) not shed by the last plan:
  /// a member of the batch groups.
  bool in_batch_group(const PendingJob& job, bool with_shed) const {
    return !job.in_flight && (with_shed || !job.drop) && job.done < std::min(job.job.mandatory_depth, stages_of(job));
  }
  /// in_batch_group without the shed ones: the job waits at a mandatory stage the plan serves.
  bool waits_at_mandatory_stage(const PendingJob& job) const { return in_batch_group(job, false); }
  /// A plan that defers jobs must be redone once jobs left the window and nothing planned remains to run.
  void set_replan_on_leave(bool value) { replan_on_leave_ = value; }

  std::span<const Model> models_;
  PolicyConfig config_;
  std::vector<PendingJob> jobs_;  // kept in JobOrder

 private:
  int find(JobId id) const;
  void erase_job(std::size_t index);
  void release_rows(const PendingJob& job);
  /// Done with what the plan wants and answerable: its Finish is due.
  static bool settled(const PendingJob& p) {
    return !p.in_flight && !p.drop && !p.deferred && p.done >= p.target && p.done >= p.job.mandatory_depth;
  }
  /// Takes every job marked `leaving` out of jobs_ at once, owes each its Finish (or Drop, with
  /// `as_drop`) in order, and returns the first.
  Decision take_out_leaving(bool as_drop);
  Decision owed_decision();
  /// A fresh plan of every pending job (refresh_job_costs, plan) and what follows from it.
  void replan(Time now);
  /// The first lane this policy has not dispatched to (or -1), and whether `model` may take one more
  /// lane under its ModelControl::lanes.
  int free_lane() const;
  bool under_lane_limit(ModelId model) const;
  /// Index of the first job (in order) that needs a stage and whose model may take a lane, or -1.
  int first_dispatchable(Time now);
  /// With a batching wait: when the batch in batch_ (led by jobs_[head]) may go at the latest while
  /// it is smaller than its max batch (its oldest member's release plus the wait, never past what
  /// keeps every job of the plan on time); `now` or earlier: go now.
  Time hold_until(int head, Time now) const;
  void take_lane(int lane, ModelId model, int stage, Time now);
  static int max_stages(std::span<const Model> models);
  void refresh_job_costs();
  void refresh_model_costs();
  /// Marks `leaving` every job the plan sheds whose mandatory part waiting longer would make impossible
  /// (`just_one`: the first only); returns how many. `wake` gets the earliest time another becomes due.
  int mark_due_drops(Time now, Duration next_dispatch, Time& wake, bool just_one);
  /// Marks `leaving` the jobs the plan sheds beyond PolicyConfig::shed_pending_limit (the earliest
  /// first; `just_one`: the first only); returns how many.
  int mark_over_limit_drops(bool just_one);
  void refresh_shed();
  /// The latest time `job` could start its mandatory part alone and still meet its deadline.
  Time latest_start(const PendingJob& job) const;
  /// Adds to the batch led by jobs_[head] (already in batch_) the jobs at its (model, stage) that keep
  /// every job the batch-1 plan had on time on time (batch_forming.cpp).
  void form_batch(int head, Time now);
  /// Returns, for the planned jobs' pass, whether a rider (a shed job this stage would serve) waits
  /// beside the batch when it is not full: without one the riders' pass would add nobody.
  bool grow_batch(int model, int stage, Time now, bool riders);
  /// Depth a job must still reach for a batch to be acceptable (BatchGuard).
  int guarded_depth(const PendingJob& job) const;

  JobOrder order_;
  bool dirty_ = true;
  bool replan_on_leave_ = false;
  bool plan_current_ = false;  // no job has left since the last plan
  std::vector<JobId> batch_;
  struct Owed {
    JobId job;
    bool drop;  // a Drop, else a Finish
  };
  std::vector<Owed> owed_;    // jobs out of jobs_ whose decision next() owes, from owed_next_ on
  std::size_t owed_next_ = 0;
  bool settle_due_ = false;   // a plan ran since jobs_ was last scanned for settled jobs
  JobRows<Duration> stage_costs_;
  bool keeps_reward_rows_ = false;
  JobRows<double> reward_rows_;
  std::vector<std::vector<int>> runs_, rank_;  // [model][stage] scratch: jobs waiting there, ranked
  std::vector<int> group_limit_;                // [model]: max_batch_of at the last rank_batch_groups
  int prefix_stride_;                   // max stages + 1
  std::vector<Duration> alone_prefix_;  // [model * prefix_stride_ + depth]: batch-1 time of stages [0, depth)
  std::vector<std::vector<PooledStage>> pooled_stages_;  // [model][stage]
  // Longest planned dispatch of any stage: the most time that can pass before the next decision.
  Duration longest_dispatch_ = 0;
  std::vector<std::uint64_t> costed_revision_;  // [model]: the profile revision alone_prefix_ was taken from
  std::vector<Duration> model_longest_dispatch_;  // [model]: its longest stage at its largest batch
  // What mark_due_drops knows since the last plan (shed_known_): jobs the plan sheds still pending (shed_),
  // how many of them must still go for the pending limit (over_limit_, taken in order from
  // scan_from_), and the earliest time another falls due (next_due_).
  bool shed_known_ = false;
  Time next_due_ = kNever;
  int shed_ = 0, over_limit_ = 0;
  std::size_t scan_from_ = 0;
  std::vector<Duration> slack_, suffix_slack_;  // form_batch scratch
  // Lanes as this policy dispatched them (the host reports each one free again: on_lane_free).
  std::vector<ModelId> lane_model_;  // -1: free
  std::vector<Time> lane_until_;     // a busy lane's planned end
  std::vector<Time> lane_free_;      // lane_free_times scratch
  std::vector<int> lanes_in_use_;    // [model]
  std::vector<ModelControl> controls_;  // [model]: Policy::set_control
};


}  // namespace imprecise::detail
