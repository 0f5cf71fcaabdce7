// Engine: the real-time runtime: owns models, one dispatcher thread running a Policy on a steady clock, and executor lanes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "imprecise/core/job.hpp"
#include "imprecise/core/model.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/tensor.hpp"
#include "imprecise/core/outcome.hpp"
#include "imprecise/sched/control_loop.hpp"
#include "imprecise/sched/policy.hpp"
#include "imprecise/core/profile.hpp"
#include "imprecise/sched/observer.hpp"
#include "imprecise/core/time.hpp"

namespace imprecise::runtime {

using Clock = std::chrono::steady_clock;

/// Outcome::job of a job answered inside submit() (never admitted: rejected or failed at once).
inline constexpr JobId kNotAdmitted = std::numeric_limits<JobId>::max();

/// One model the engine serves: the network and the scheduler's description of it (stages' profile,
/// utility, mandatory depth), e.g. nn::describe(network, nn::profile_stages(network)).
struct ServedModel {
  nn::MultiExitModel network;
  Model description;
};

/// What stop() does with jobs not answered yet.
enum class StopMode {
  cancel,  ///< answer each at once from its best finished exit (`rejected`, "cancelled: ...", if its mandatory part is not done)
  drain,   ///< keep serving them (each ends by its deadline at the latest); refuse new ones
};

/// Which finished exit answers a job.
enum class AnswerRule {
  deepest,          ///< the deepest finished exit
  calibrated_best,  ///< the finished exit l with the highest R(l | l, c_l) (ties: the deeper)
};

/// Re-profiling while serving: stage times measured on the lanes replace the planning figures, so a
/// device that slows down (thermal throttling, a noisy neighbour) is planned for.
///
/// Per (model, stage, measured batch size) the times go into an exponentially decayed histogram (log
/// bins, fixed memory): a time's weight halves with every `half_life` newer times of its column, so
/// about 1.44 * half_life recent times count. Its figures are the decayed mean, p50 and p99, and as
/// `max` the larger of the decayed p99.9 and the largest time of the last one to two half-lives. A
/// slowdown reaches the p99 within a few times; once it is over, the p99 comes back within about 7
/// half-lives and `max` within about 10 (sooner after a short one). Planning uses whichever figure
/// PolicyConfig::figure names.
struct OnlineProfileConfig {
  /// With EngineConfig::lanes > 1 the times are measured while up to that many lanes run at once: they
  /// are recorded into the table the policy plans with, Model::profile_at(lanes) (the model's measured
  /// table for that concurrency, else its alone profile).
  bool enabled = true;
  /// Record what a batch costs the schedule: from the scheduling pass that dispatched it to the pass
  /// that takes its completion in (the stage plus hand-off, bookkeeping and the next decision), not
  /// the stage alone. With stages of tens of microseconds those overheads are a good part of the cost;
  /// planning without them over-commits the device.
  bool include_overhead = true;
  /// Times after which a time's weight has halved. Larger: steadier quantiles (the p99 rests on
  /// ~3.7 effective times beyond it at 256), slower to forget; smaller: the reverse.
  int half_life = 256;
  int min_samples = 16;  ///< times needed before the figures are replaced
  int every = 8;         ///< figures re-computed after this many new times
};

struct EngineConfig {
  std::string policy = "yao-dp";  ///< any make_policy name
  /// Shared with the simulator (figure, delta, max_batch, ...). Its `lanes` is set from `lanes` below.
  PolicyConfig policy_config;
  /// Executor lanes (>= 1): threads that each run a stage at a time on their own instance of every
  /// model (lane 0 the ServedModel's network, lane i >= 1 a MultiExitModel::replica), so up to `lanes`
  /// batches run at once. The policy plans with Model::profile_at(lanes): give each model's
  /// `concurrent` tables (`imprecise profile --concurrency N`), or its stages are planned at their
  /// alone times until the online profile has measured them. A CPU backend's intra-op threads
  /// (OnednnBackendOptions::threads, default 1) times `lanes` should not exceed the cores.
  int lanes = 1;
  /// Pin lane i's thread to one CPU: the (i mod n)-th of the n CPUs this process may run on
  /// (sched_getaffinity; with no restriction, CPU i mod hardware_concurrency), with
  /// pthread_setaffinity_np. Steadier stage times when lanes <= cores; a pin the system refuses is
  /// ignored (the lane runs unpinned).
  bool pin_lanes = false;
  /// Jobs admitted and not yet answered. Beyond it submit() answers `rejected` ("queue full") at once,
  /// so memory stays bounded under any load. Every job buffer is allocated up front for this many.
  std::size_t max_pending = 256;
  AnswerRule answer = AnswerRule::deepest;
  StopMode stop = StopMode::cancel;  ///< what the destructor does
  /// Keep every finished exit's logits and hand the answering exit's over in Outcome::logits (what a
  /// server returns). Costs one copy per stage and job and one allocation per outcome.
  bool keep_logits = false;
  OnlineProfileConfig online_profile;
  std::vector<std::shared_ptr<Observer>> observers;
  /// Sets each model's max batch, batching wait and lanes every `control.interval` (a ControlLoop run
  /// inside the scheduling passes, as in the simulator); null: the policy's own settings throughout.
  /// E.g. control::make_controller("model-based", models, control) from imprecise::control.
  std::shared_ptr<Controller> controller;
  /// Or (never both): builds the controller inside the engine, from the models as the engine plans
  /// with them and `control` with lanes and max_batch set, for a caller that does not hold the models
  /// (serve::InferenceService loads its own). An Error it throws ends the construction.
  std::function<std::shared_ptr<Controller>(std::span<const Model> models, const ControllerConfig& control)>
      make_controller;
  ControllerConfig control;  ///< its interval, limits and objective; lanes and max_batch are set by the engine
};

/// Serves multi-exit models under deadlines. Thread-safe: submit() from any number of threads.
///
/// Guarantees: every submitted job gets exactly one Outcome (through its future or callback); a
/// deadline already past at submit is rejected at once, as is a job beyond max_pending; at its deadline
/// a job is answered from its best finished exit at the latest (a stage still running for it is
/// wasted); jobs that a stage cannot help any more (it would end after their deadline) are answered
/// early instead of run; errors on the real-time path are outcomes (`failed`, with a message), never
/// exceptions. The dispatcher and the lanes allocate nothing while serving (the constructor sizes every
/// buffer for max_pending jobs, compiles each lane's model replicas and drives the policy through that
/// many synthetic jobs first, on all lanes), except the
/// message string of a rejected or failed outcome
/// and, with EngineConfig::keep_logits, the outcome's logits.
class Engine {
 public:
  /// Receives the job's outcome on an engine thread (dispatcher or lane; inside submit() when answered at once).
  /// Keep it short; an exception it throws is swallowed.
  using Callback = std::function<void(Outcome)>;

  /// Builds the policy, allocates every job buffer, warms the policy up and starts the threads. Throws Error for a bad
  /// config or a model whose description does not match its network (naming the model).
  explicit Engine(std::vector<ServedModel> models, EngineConfig config = {});
  /// stop(config.stop) and joins the threads.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Submits one input ([1, ...] or the sample shape) for `model`, due at `deadline` (a deadline more
  /// than 2^52 ns, about 52 days, away is clamped to that; time_point::max() means "no deadline").
  std::future<Outcome> submit(ModelId model, const nn::Tensor& input, Clock::time_point deadline, double weight = 1.0);
  /// Due `within` from now.
  std::future<Outcome> submit(ModelId model, const nn::Tensor& input, Clock::duration within, double weight = 1.0);
  /// Callback form; returns the job's id (kNotAdmitted when answered at once). Ids are unique among
  /// the jobs pending at the same time and reused over time (they name a job slot and its generation).
  JobId submit(ModelId model, const nn::Tensor& input, Clock::time_point deadline, Callback on_outcome,
               double weight = 1.0);
  JobId submit(ModelId model, const nn::Tensor& input, Clock::duration within, Callback on_outcome,
               double weight = 1.0);

  /// Refuses new jobs, ends the pending ones per `mode` (each gets its outcome), waits for the threads.
  /// Idempotent. Called from a callback it only requests the stop.
  void stop(StopMode mode);
  void stop();

  /// The engine's clock: nanoseconds since it was built (the Time of every Outcome and observer hook).
  Time now() const;
  Time to_time(Clock::time_point t) const;
  Clock::time_point to_time_point(Time t) const;

  std::size_t models() const;
  const nn::MultiExitModel& network(ModelId model) const;
  /// The profile the policy plans the model with (Model::profile_at(lanes()), online updates included), copied.
  Profile profile(ModelId model) const;
  const std::string& policy_name() const;
  /// Every control interval so far (EngineConfig::controller; empty without one), copied.
  std::vector<ControlRecord> control_history() const;
  /// The controller's name, the settings in force, the intervals decided and the last one (a server's
  /// metrics read it); nullopt without a controller.
  std::optional<ControlStatus> control_status() const;
  std::size_t max_pending() const;
  int lanes() const;
  /// Decisions of the policy that broke the protocol so far (each offending job failed with a message).
  std::int64_t protocol_violations() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imprecise::runtime
