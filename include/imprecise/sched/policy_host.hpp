// PolicyHost: the host side of the Policy protocol, written once for the simulator and the runtime Engine.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "imprecise/core/job.hpp"
#include "imprecise/core/model.hpp"
#include "imprecise/core/outcome.hpp"
#include "imprecise/sched/policy.hpp"
#include "imprecise/sched/observer.hpp"
#include "imprecise/core/time.hpp"

namespace imprecise {

/// What a host's surroundings (a virtual clock and a sampler in the simulator; a steady clock, lane
/// threads and promises in the Engine) do when the PolicyHost decides something. Called inside the
/// host's methods, on the thread that called them.
class HostClient {
 public:
  virtual ~HostClient() = default;
  /// Lane `lane` was handed a batch (PolicyHost::lane(lane)): start running it.
  virtual void start_lane(int lane, Time now) = 0;
  /// Job in `slot` finished the stage of `lane`'s batch, at `index` in it: keep its exit's answer. Called
  /// before the policy hears of it.
  virtual void on_stage_result(int /*lane*/, std::uint32_t /*slot*/, std::size_t /*index*/) {}
  /// Fill the answer of a completed job that finished `depth` >= 1 stages (exit, confidence, ...).
  virtual void answer(std::uint32_t slot, int depth, Outcome& outcome) = 0;
  /// The job's one outcome (observers have seen it): hand it to whoever waits for it.
  virtual void deliver(std::uint32_t slot, Outcome&& outcome) = 0;
  /// The slot holds no live job and no lane holds it any more: it may be reused.
  virtual void on_slot_free(std::uint32_t /*slot*/) {}
};

/// One executor lane as the host sees it: the batch it runs.
struct LaneBatch {
  bool busy = false;
  ModelId model = 0;
  int stage = 0;
  Time dispatched = 0;
  std::vector<JobId> jobs;  ///< capacity: the largest batch; size: the jobs running
};

struct PolicyHostConfig {
  std::size_t slots = 1;  ///< job slots; JobIds carry the slot in their low bits (and a generation above)
  int lanes = 1;          ///< executor lanes
  /// Largest batch per model (ModelId order): the policy's max_batch, the profile's and the backend's.
  std::vector<int> max_batch;
};

/// Validates every decision, never starts work that can no longer help (a stage that even by the
/// profile's median ends after a job's deadline: the job is answered instead), applies Finish, Drop and
/// Idle, decides each outcome (`completed` when the mandatory depth was reached, else `missed`), counts
/// protocol violations (the offending jobs fail with a message) and emits observer events. It owns the
/// per-job protocol state; it reads no clock of its own except to time Policy::next. Not thread-safe:
/// one caller at a time (the Engine holds its scheduling lock). Allocates nothing after construction.
class PolicyHost {
 public:
  /// `models` (the profiles the policy plans with) must outlive the host.
  PolicyHost(Policy& policy, std::span<const Model> models, PolicyHostConfig config, HostClient& client);

  void set_observers(std::vector<std::shared_ptr<Observer>> observers);
  const std::vector<std::shared_ptr<Observer>>& observers() const { return observers_; }
  /// Calls `f` on every observer; an observer that throws is ignored (the host must go on).
  template <typename F>
  void notify(F&& f) const {
    for (const auto& o : observers_) {
      try {
        f(*o);
      } catch (...) {
      }
    }
  }

  /// A job enters `slot` (job.id's low bits). If its deadline has passed it is answered `missed` at once
  /// (returns false); else the policy is told.
  bool admit(const Job& job, Time now);
  /// The job's deadline: answered from what it has (completed or missed). No-op for a slot not live.
  void expire(std::uint32_t slot, Time now);
  /// Stopping: the job is answered from what it has, or `rejected` with `message` if its mandatory part is not done.
  void cancel(std::uint32_t slot, Time now, const char* message);
  /// Ends a live job as `failed` with `message` (nothing else could answer it).
  void abandon(std::uint32_t slot, Time now, const char* message);

  /// Lane `lane`'s batch ran over [started, ended). `confidence[i]` is at the exit of lane(lane).jobs[i];
  /// `error` non-null: the stage failed and its jobs fail with that message. Returns how many of the
  /// batch's jobs had already been answered (their work was wasted).
  std::size_t complete(int lane, std::span<const double> confidence, Time started, Time ended, const char* error,
                       Time now);

  /// Asks the policy what to run while a lane is free: Finish and Drop end jobs, a Dispatch starts a lane
  /// (HostClient::start_lane). Returns when every lane is busy or the policy answers Idle; the result is
  /// when to ask again unless an event comes first (kNever: only on an event).
  Time decide(Time now);

  const LaneBatch& lane(int index) const { return lanes_[static_cast<std::size_t>(index)]; }
  int lanes() const { return static_cast<int>(lanes_.size()); }
  bool any_lane_busy() const;
  std::size_t live() const { return live_; }
  bool is_live(std::uint32_t slot) const { return jobs_[slot].live; }
  int depth(std::uint32_t slot) const { return jobs_[slot].depth; }
  const Job& job(std::uint32_t slot) const { return jobs_[slot].job; }
  std::uint32_t slot_of(JobId id) const { return id & slot_mask_; }
  /// The id of a job in `slot`, generation `generation` (only its low bits are kept); immutable after
  /// construction, so any thread may call it.
  JobId job_id(std::uint32_t slot, std::uint32_t generation) const {
    return slot_bits_ >= 32 ? slot : ((generation & (0xffffffffu >> slot_bits_)) << slot_bits_) | slot;
  }
  /// Decisions the policy got wrong (a Finish or Drop of a job it may not act on, an invalid dispatch, a
  /// policy that never settles); each offending job failed with a message. Safe to read from any thread.
  std::int64_t protocol_violations() const { return violations_.load(std::memory_order_relaxed); }

 private:
  struct HostJob {
    Job job;
    int depth = 0;
    bool live = false;
    bool in_flight = false;
    Time start = kNever;
    Duration run = 0;
  };

  bool idle_job(JobId id) const;
  void end_job(std::uint32_t slot, OutcomeStatus status, Time now, const char* message = "");
  OutcomeStatus status_from_depth(const HostJob& j) const;
  void fail_job(JobId id, Time now, const char* what);
  bool start(int lane, const Dispatch& d, Time now);
  bool reject_dispatch(int lane, const Dispatch& d, Time now, const char* what);
  JobInfo info_of(const HostJob& j) const;
  void fill_infos(const LaneBatch& lane);

  Policy& policy_;
  std::span<const Model> models_;
  PolicyHostConfig config_;
  HostClient& client_;
  unsigned slot_bits_ = 1;
  std::uint32_t slot_mask_ = 0;
  std::vector<HostJob> jobs_;
  std::vector<LaneBatch> lanes_;
  std::vector<JobInfo> infos_;
  std::vector<JobId> rejected_;  // a refused dispatch's jobs (its span dies with the first policy call)
  std::vector<std::shared_ptr<Observer>> observers_;
  std::size_t live_ = 0;
  std::atomic<std::int64_t> violations_{0};
};

}  // namespace imprecise
