// Policy: the one scheduling interface that both the simulator and the real-time runtime drive.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "imprecise/core/job.hpp"
#include "imprecise/core/model.hpp"
#include "imprecise/core/profile.hpp"
#include "imprecise/core/time.hpp"
#include "imprecise/sched/model_control.hpp"
#include "imprecise/sched/reward_quantum.hpp"

namespace imprecise {

/// Run stage `stage` (0-based; the jobs have finished exactly `stage` stages) of `model` for `jobs`
/// as one batch. The span stays valid until the next call into the policy.
struct Dispatch {
  ModelId model = 0;
  int stage = 0;
  std::span<const JobId> jobs;
  /// The lane to run it on, which must be free; -1: any free lane (the host picks one).
  int lane = -1;
};
/// The policy is done with `job`: answer it from its deepest finished exit now.
struct Finish {
  JobId job = 0;
};
/// Overload: `job`'s mandatory part cannot be fitted; shed it now (outcome `rejected`). The planning
/// policies issue it only once the deadline proves it: the job alone, started at the next decision,
/// could no longer finish its mandatory part in time. Until then a job the plan sheds stays pending.
struct Drop {
  JobId job = 0;
};
/// Nothing to dispatch before `until` (kNever: nothing pending) unless an event arrives first.
struct Idle {
  Time until = kNever;
};
using Decision = std::variant<Dispatch, Finish, Drop, Idle>;

/// What forming a batch must not break. `planned_depth` (the default) forbids making late any job
/// the current plan had on time; `mandatory` lets a batch squeeze planned optional work (it is
/// re-planned at the next event anyway) but never a job's mandatory part. On the edge scenario the
/// two gave the planning policies the same accuracy and edf-full more with `planned_depth`.
enum class BatchGuard { planned_depth, mandatory };

/// Settings shared by every policy. Defaults are what the CLI uses.
struct PolicyConfig {
  /// Stage-time figure budgeted with. The median: the runtime's online profile records whole dispatch
  /// cycles, whose p99 is set by the slowest decisions and would make plans shed work the device can
  /// do (real edge-server run, load 3: yao-dp 0.57-0.73 with p99, 0.90 with p50, no miss either way).
  /// A job whose stage overruns is still answered at its deadline from its deepest finished exit.
  PlanningFigure figure = PlanningFigure::p50;
  /// The figure the planning policies budget mandatory stages with (baselines use `figure` for every
  /// stage). A mandatory stage that overruns its plan can make a job miss; an optional one only costs
  /// depth (the next decision re-plans). The p99 keeps the misses of sampled stage times out
  /// (simulated edge sweep: 1.8-4.8 misses per run at loads 3-5 with p50, none with p99) while
  /// optional work is still planned at the median.
  PlanningFigure mandatory_figure = PlanningFigure::p99;
  /// The DP's reward quantum (yao-dp, oracle-utility): by default delta.eps = 0.01, i.e. each decision
  /// quantizes by eps * Rmax / n of its own jobs (the (1 - eps) bound); delta.absolute > 0 fixes it.
  RewardQuantum delta;
  int max_batch = 8;                            ///< largest batch a dispatch may carry (clamped to the profile)
  int fixed_depth = 2;                          ///< edf-fixed:K
  double threshold = 0.8;                       ///< edf-threshold:T
  BatchGuard batch_guard = BatchGuard::planned_depth;
  /// Planning policies (yao-dp, density) choose depths for the first this many idle jobs in EDF
  /// order; the rest keep their mandatory part reserved and are planned once they move up. Bounds a
  /// decision's cost (the DP grows with the square of the jobs planned) under heavy load. 0 = all.
  int planning_window = 32;
  /// Batch-aware planning: jobs waiting at a mandatory stage are planned as the batches they form
  /// (in order, batches of max_batch; each batch's measured cost on its first member), instead of
  /// every stage at batch 1. Batches are formed at dispatch either way (the batch guard). Off by
  /// default: on the simulated edge sweep it shed 0.5 % of the jobs at load 5 where batch-1 plans
  /// (which shed only when the deadline proves it) shed none, for no accuracy gained (docs/design.md).
  bool batch_aware = false;
  /// At most this many jobs the plan sheds stay pending, waiting for their deadline to prove the
  /// Drop (those with the latest deadlines); beyond it the earliest are dropped at once. Each pending
  /// job costs every later decision a little, and under sustained overload an unbounded set of them
  /// made decisions slow enough to cost the device its capacity. 0: drop as soon as planned;
  /// negative: no limit.
  int shed_pending_limit = 32;
  /// Planning policies (one lane): run a job's mandatory stage ahead of the plan's optional stages
  /// whenever the plan's slack allows it (no job the plan has on time becomes late). The plan's depths
  /// do not change; its mandatory work is banked early, so that a burst of arrivals or a stage that
  /// overruns cuts optional work instead of shedding or missing a job.
  bool mandatory_first = true;
  /// Executor lanes the host runs (concurrent model instances). The planning policies plan over all
  /// of them (EDF list scheduling: each job's remaining stages on the lane that frees first) and cost
  /// stages with Model::profile_at(lanes); a Dispatch names its lane. Set by the host (simulator, Engine).
  int lanes = 1;
  /// yao-dp's (and oracle-utility's) planning window when lanes > 1. Its DP then keeps Pareto fronts
  /// over every lane's free time, much wider than one lane's: at 32 jobs x 4 stages a decision took
  /// 2.3 ms with 2 lanes (25 us with one). On the edge-server scenario at load 2 with 2 lanes, a window
  /// of 12 gave 0.881 accuracy at a 41 us decision p99 against 0.885 and 4.1 ms with 32 (simulator).
  int lanes_dp_window = 12;
};

/// What a planning policy's planner did over a run (zeros for policies that do not plan).
struct PlanningStats {
  std::int64_t plans = 0;                ///< planner calls
  std::int64_t coarsened_decisions = 0;  ///< plans whose reward quantum was coarsened (bound relaxed)
  double delta_used_max = 0.0;           ///< largest reward quantum a plan used (0: none quantized)
};

/// Protocol: the host calls on_release/on_stage_done/on_expire as events happen and next() whenever
/// its lane is free, repeating while the answer is Finish or Drop. Jobs inside a Dispatch are "in
/// flight" until on_stage_done (or on_expire) for each. After on_expire the host ends the job itself
/// and the policy forgets it. A policy never reads a clock and never sleeps.
class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;
  virtual void on_release(const Job& job, Time now) = 0;
  /// `depth` = stages now finished by the job, `confidence` = at exit `depth`.
  virtual void on_stage_done(JobId job, int depth, double confidence, Time now) = 0;
  /// At the job's deadline, or earlier when the host finds that the stage dispatched for it could not
  /// end in time (by the profile's median): that work is not started and the job is answered.
  virtual void on_expire(JobId job, Time now) = 0;
  virtual Decision next(Time now) = 0;
  /// Lane `lane` finished its batch (after on_stage_done of its jobs): it is free again.
  virtual void on_lane_free(int /*lane*/, Time /*now*/) {}
  /// A controller's setting for `model` (model_control.hpp), in force from the next decision on.
  virtual void set_control(ModelId /*model*/, const ModelControl& /*control*/) {}
  /// How the planner fared so far (yao-dp reports a coarsened delta here; see DpPlanner).
  virtual PlanningStats planning_stats() const { return {}; }
};

/// Names accepted by make_policy: yao-dp, density, edf-full, edf-mandatory, edf-fixed:K,
/// edf-threshold:T, fifo-full, round-robin, oracle-utility.
std::vector<std::string> policy_names();
/// Throws Error("unknown policy '...'") for a bad name or parameter.
std::unique_ptr<Policy> make_policy(const std::string& spec, std::span<const Model> models,
                                    PolicyConfig config = {});

}  // namespace imprecise
