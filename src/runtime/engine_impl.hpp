// Engine::Impl: the steady clock, the job slots, the lane threads and the submit path around one PolicyHost.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "deadline_heap.hpp"
#include "free_slots.hpp"
#include "imprecise/runtime/engine.hpp"
#include "imprecise/sched/policy_host.hpp"
#include "online_profile.hpp"

namespace imprecise::runtime {

/// One finished exit of a job: what it answered and how sure it was.
struct ExitAnswer {
  int prediction = -1;
  float confidence = 0.0f;
};

/// Per-job storage, allocated once for max_pending jobs and reused. Ownership moves between threads:
/// free (in free_, under mu_) -> the submitter fills it -> a scheduling pass (after the inbox hand-off)
/// -> a lane reads/writes `state` while the job is in flight -> back to free_ once the host says the
/// slot is free (answered, and no lane holds it).
struct Slot {
  Job job;
  nn::JobState state;
  ModelId shaped_for = -1;  // the model whose tensors `state` holds (-1: none yet); set by the submitter
  std::optional<std::promise<Outcome>> promise;
  Engine::Callback callback;
  std::uint32_t generation = 0;
  std::vector<ExitAnswer> exits;  // scheduling passes only
  std::vector<std::vector<float>> logits;  // per exit, with EngineConfig::keep_logits (capacity reserved up front)
};

/// One executor thread. The batch it runs is the host's LaneBatch of the same index.
struct Lane {
  std::thread thread;
  std::condition_variable cv;
  /// Lane i >= 1: its own instance of every model (ModelId order); lane 0 runs Impl::networks_. A
  /// model instance keeps per-run buffers, so two threads never share one.
  std::vector<nn::MultiExitModel> replicas;
  // Guarded by Impl::mu_.
  bool has_work = false;
  bool done = false;
  bool exit = false;
  bool poke = false;  // arrivals wait while this lane is idle: it runs a scheduling pass
  bool idle = true;   // the last pass left it without a batch (an arrival may poke it)
  // Written by a pass before has_work, read by the lane after it.
  ModelId model = 0;
  int stage = 0;
  std::size_t count = 0;
  std::vector<nn::JobState*> states;
  Time cycle_start = 0;  // start of the scheduling pass that dispatched the running batch
  // Written by the lane before done, read by a pass after it.
  std::vector<nn::ExitResult> results;
  Time started = 0;  // (during the warm-up: simulated times, set by start_lane)
  Time ended = 0;
  bool failed = false;
  std::string error;
  // Scheduling passes only.
  bool collected = false;  // done seen, completion not processed yet
};

struct Engine::Impl final : HostClient {
  Impl(std::vector<ServedModel> models, EngineConfig config);

  // --- set up once, read-only afterwards (except the profiles, see profile_mu_) ---
  EngineConfig config_;
  Clock::time_point epoch_ = Clock::now();
  std::vector<nn::MultiExitModel> networks_;
  std::vector<Model> plan_models_;  // what the policy sees; profiles updated online by the passes
  std::unique_ptr<Policy> policy_;
  std::string policy_name_;
  std::vector<Slot> slots_;
  std::vector<Lane> lanes_;
  int max_stages_ = 1;

  // --- shared, guarded by mu_ ---
  mutable std::mutex mu_;
  std::condition_variable cv_;  // wakes the dispatcher
  detail::FreeSlots free_;
  std::vector<std::uint32_t> inbox_;
  bool stop_requested_ = false;
  bool stop_seen_ = false;   // a pass ran after the stop request
  bool finished_ = false;    // stopping, and nothing is pending or running: the threads may exit
  Time wake_at_ = kNever;    // earliest deadline or policy timer: when the dispatcher must run a pass next
  bool lanes_busy_ = false;  // every lane runs a stage: a lane's next pass takes new arrivals in, no poke
  StopMode stop_mode_ = StopMode::cancel;
  mutable std::mutex profile_mu_;  // plan_models_[*].profile: written by the passes, copied by profile()
  std::mutex join_mu_;
  std::thread dispatcher_;

  // --- scheduling state, guarded by sched_mu_: passes run on the dispatcher thread (arrivals, timers) or on
  // a lane that just finished a stage (so under load a lane picks its next batch itself, with no thread
  // hand-off in between). Lock order: sched_mu_, then mu_.
  std::mutex sched_mu_;
  std::optional<PolicyHost> host_;
  std::optional<ControlLoop> control_;  // EngineConfig::controller
  Time next_control_ = kNever;          // when the current control interval ends
  std::vector<std::uint32_t> arrivals_;
  std::vector<std::uint32_t> freeing_;
  std::vector<double> confidence_;
  detail::DeadlineHeap deadlines_;
  detail::OnlineProfile online_;
  Time pass_start_ = 0;  // when the current scheduling pass began
  bool warming_up_ = false;

  Time now() const;
  /// The table the policy plans `model` with: Model::profile_at(lanes) (online updates go there too).
  Profile& planned(ModelId model);
  const Profile& planned(ModelId model) const;
  /// Marks an idle lane to run a pass for new arrivals, unless one is marked already. Caller holds mu_.
  /// Returns the lane to notify, or -1.
  int poke_idle_lane();
  nn::MultiExitModel& network_of(int lane, ModelId model);

  // submit path (submit.cpp)
  JobId submit(ModelId model, const nn::Tensor& input, Time deadline, double weight, std::promise<Outcome>* promise,
               Callback* callback);
  void answer_now(Outcome o, std::promise<Outcome>* promise, Callback* callback);

  // warm_up.cpp
  void warm_up_policy();

  // scheduling passes (pass.cpp)
  /// One pass over what happened: completions, expiries, arrivals, the stop, then decisions. Caller holds sched_mu_.
  void service();
  void release(std::uint32_t slot, Time now);
  void complete(int lane, Time now);
  void expire_due(Time now);
  void cancel_all(Time now);

  // threads (threads.cpp)
  void dispatcher_main();
  void lane_main(int index);
  void pin_lane(int index) const;

  // HostClient (pass.cpp)
  void start_lane(int lane, Time now) override;
  void on_stage_result(int lane, std::uint32_t slot, std::size_t index) override;
  void answer(std::uint32_t slot, int depth, Outcome& outcome) override;
  void deliver(std::uint32_t slot, Outcome&& outcome) override;
  void on_slot_free(std::uint32_t slot) override;
};

/// The engine whose dispatcher or lane runs on this thread (a callback calling stop() must not join it).
extern thread_local const void* serving_engine;

}  // namespace imprecise::runtime
