// Observer: read-only hooks on what a PolicyHost does (taskflow style), for tracing and metrics, in the
// runtime Engine and in the simulator alike.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "imprecise/core/job.hpp"
#include "imprecise/core/model.hpp"
#include "imprecise/core/outcome.hpp"
#include "imprecise/core/profile.hpp"
#include "imprecise/core/time.hpp"

namespace imprecise {

/// What an observer sees of one job. Times are on the host's clock (Engine::now(), or simulated time).
struct JobInfo {
  JobId id = 0;
  ModelId model = 0;
  Time release = 0;   ///< when it was submitted
  Time deadline = 0;
  double weight = 1.0;
  int depth = 0;      ///< stages finished
};

/// What the host serves, given once to each observer before anything else happens.
struct HostInfo {
  std::span<const Model> models;  ///< indexed by ModelId; valid for the host's lifetime
  int lanes = 1;                  ///< executor lanes, numbered 0..lanes-1
  std::string_view policy;        ///< the policy's name
  std::size_t max_pending = 0;    ///< job slots (the simulator: every job of the run)
  std::string_view host = "engine";  ///< "engine" (real time) or "simulator"
};

enum class ThreadRole { dispatcher, lane };

/// What a policy decision turned out to be (for on_decision).
enum class DecisionKind { dispatch, finish, drop, idle };

/// Every hook has an empty default. In the Engine, hooks run inside the scheduling passes, on the
/// dispatcher or a lane thread but never two at once, except on_thread_start (on the thread it names)
/// and on_outcome for jobs answered inside submit() (rejected or failed at once: on the submitting
/// thread). An observer must therefore be thread-safe, and fast: the device waits for it. It must not
/// call back into the Engine's submit/stop; an exception it throws is swallowed. Spans are valid
/// during the call only. The simulator calls the same hooks on simulated time (no thread hooks).
class Observer {
 public:
  virtual ~Observer() = default;
  Observer() = default;
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  virtual void on_start(const HostInfo& /*host*/) {}
  /// First thing each engine thread does: a place to set its name, priority or affinity.
  virtual void on_thread_start(ThreadRole /*role*/, int /*index*/) {}
  /// The host admitted a job and gave it to the policy.
  virtual void on_admit(const JobInfo& /*job*/, Time /*now*/) {}
  /// One call of Policy::next took `took` (wall time).
  virtual void on_decision(Time /*now*/, Duration /*took*/, DecisionKind /*kind*/) {}
  /// Stage `stage` (0-based) of `model` handed to `lane` for `jobs` (depth = stages done before it).
  virtual void on_dispatch(int /*lane*/, ModelId /*model*/, int /*stage*/, std::span<const JobInfo> /*jobs*/,
                           Time /*now*/) {}
  /// The lane ran that stage over [start, end); `failed` if the backend threw.
  virtual void on_stage_done(int /*lane*/, ModelId /*model*/, int /*stage*/, std::span<const JobInfo> /*jobs*/,
                             Time /*start*/, Time /*end*/, bool /*failed*/) {}
  /// The policy shed `job` under overload (its outcome, rejected, follows).
  virtual void on_drop(const JobInfo& /*job*/, Time /*now*/) {}
  /// Every job's one outcome, just before it is delivered to the caller.
  virtual void on_outcome(const Outcome& /*outcome*/) {}
  /// The online profile of (model, stage) at batch `batch` was replaced by `timing`.
  virtual void on_profile_update(ModelId /*model*/, int /*stage*/, int /*batch*/, const StageTiming& /*timing*/) {}
  /// The host stopped: every job has its outcome and no hook follows (but on_outcome of a late submit).
  virtual void on_stop(Time /*now*/) {}
};

}  // namespace imprecise
