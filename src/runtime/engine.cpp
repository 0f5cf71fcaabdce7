// Engine: submit path, the dispatcher loop (arrivals, completions, expiries, policy decisions) and the lanes.
#include "imprecise/runtime/engine.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "deadline_heap.hpp"
#include "imprecise/error.hpp"
#include "online_profile.hpp"

namespace imprecise::runtime {

namespace {

/// One finished exit of a job: what it answered and how sure it was.
struct ExitAnswer {
  int prediction = -1;
  float confidence = 0.0f;
};

/// Per-job storage, allocated once for max_pending jobs and reused. Ownership moves between threads:
/// free (in free_, under mu_) -> the submitter fills it -> the dispatcher (after the inbox hand-off)
/// -> a lane reads/writes `state` while the job is in flight -> back to free_ once the job is answered
/// and no lane holds it.
struct Slot {
  Job job;
  nn::JobState state;
  std::optional<std::promise<Outcome>> promise;
  Engine::Callback callback;
  std::uint32_t generation = 0;
  // Dispatcher only.
  int depth = 0;
  bool live = false;       // released to the policy and not answered yet
  bool in_flight = false;  // a lane is running a stage for it
  Time start = kNever;
  Duration run = 0;
  std::vector<ExitAnswer> exits;
};

struct Lane {
  std::thread thread;
  std::condition_variable cv;
  // Guarded by Impl::mu_.
  bool has_work = false;
  bool done = false;
  bool exit = false;
  bool poke = false;  // arrivals wait while every lane is idle: this lane runs a scheduling pass
  // Written by the dispatcher before has_work, read by the lane after it.
  ModelId model = 0;
  int stage = 0;
  std::size_t count = 0;
  std::vector<JobId> ids;
  std::vector<nn::JobState*> states;
  // Written by the lane before done, read by the dispatcher after it.
  std::vector<nn::ExitResult> results;
  Time started = 0;
  Time ended = 0;
  Time cycle_start = 0;  // start of the scheduling pass that dispatched the running batch
  bool failed = false;
  std::string error;
  // Dispatcher only.
  bool busy = false;
  bool collected = false;  // done seen, completion not processed yet
};

/// Deadlines further than this from submit are clamped to it (~52 days).
constexpr Duration kMaxHorizon = Duration{1} << 52;

/// now + within, saturating at time_point::max() (a deadline "never").
Clock::time_point deadline_in(Clock::duration within) {
  const Clock::time_point now = Clock::now();
  if (within > Clock::time_point::max() - now) return Clock::time_point::max();
  return now + within;
}

DecisionKind kind_of(const Decision& d) {
  if (std::holds_alternative<Dispatch>(d)) return DecisionKind::dispatch;
  if (std::holds_alternative<Finish>(d)) return DecisionKind::finish;
  if (std::holds_alternative<Drop>(d)) return DecisionKind::drop;
  return DecisionKind::idle;
}

}  // namespace

struct Engine::Impl {
  Impl(std::vector<ServedModel> models, EngineConfig config);

  // --- set up once, read-only afterwards (except the profiles, see profile_mu_) ---
  EngineConfig config_;
  Clock::time_point epoch_ = Clock::now();
  std::vector<nn::MultiExitModel> networks_;
  std::vector<Model> plan_models_;  // what the policy sees; profiles updated online by the dispatcher
  std::unique_ptr<Policy> policy_;
  std::string policy_name_;
  std::vector<std::shared_ptr<Observer>> observers_;
  unsigned slot_bits_ = 1;
  std::vector<Slot> slots_;
  std::vector<Lane> lanes_;
  int max_stages_ = 1;

  // --- shared, guarded by mu_ ---
  mutable std::mutex mu_;
  std::condition_variable cv_;  // wakes the dispatcher
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> inbox_;
  bool stop_requested_ = false;
  bool stop_seen_ = false;    // a service pass ran after the stop request
  bool finished_ = false;     // stopping, and nothing is pending or running: the threads may exit
  Time wake_at_ = kNever;     // earliest deadline or policy timer: when the dispatcher must service next
  bool lanes_busy_ = false;   // every lane runs a stage: a lane's next pass takes new arrivals in
  StopMode stop_mode_ = StopMode::cancel;
  mutable std::mutex profile_mu_;  // plan_models_[*].profile: written by the dispatcher, copied by profile()
  std::mutex join_mu_;
  std::thread dispatcher_;

  // --- scheduling state, guarded by sched_mu_: serviced by the dispatcher thread (arrivals, timers) or by
  // a lane that just finished a stage (so under load a lane picks its next batch itself, with no
  // thread hand-off in between). Lock order: sched_mu_, then mu_.
  std::mutex sched_mu_;
  std::vector<std::uint32_t> arrivals_;
  std::vector<std::uint32_t> freeing_;
  std::vector<JobInfo> infos_;
  detail::DeadlineHeap deadlines_;
  detail::OnlineProfile online_;
  std::size_t live_ = 0;
  Time idle_until_ = kNever;
  Time pass_start_ = 0;  // when the current scheduling pass began

  Time now() const { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch_).count(); }
  std::uint32_t slot_of(JobId id) const { return id & ((1u << slot_bits_) - 1u); }

  // submit path
  JobId submit(ModelId model, const nn::Tensor& input, Time deadline, double weight, std::promise<Outcome>* promise,
               Callback* callback);
  void answer_now(Outcome o, std::promise<Outcome>* promise, Callback* callback);

  void warm_up_policy();

  // dispatcher
  void dispatcher_main();
  void lane_main(int index);
  /// One pass over what happened: completions, expiries, arrivals, the stop, then decisions. Caller holds sched_mu_.
  void service();
  void release(std::uint32_t slot, Time now);
  void complete(int lane, Time now);
  void expire_due(Time now);
  void cancel_all(Time now);
  void decide(Time now);
  bool start_lane(int lane, const Dispatch& d, Time now);
  void end_job(std::uint32_t slot, OutcomeStatus status, Time now, const char* message = "");
  void fail_job(JobId id, Time now, const std::string& what);
  bool idle_job(JobId id) const;
  JobInfo info_of(const Slot& s) const {
    return JobInfo{s.job.id, s.job.model, s.job.release, s.job.deadline, s.job.weight, s.depth};
  }
  void fill_infos(const Lane& lane);
  /// Calls `f` on every observer; an observer that throws is ignored (the dispatcher must go on).
  template <typename F>
  void notify(F&& f) {
    for (const auto& o : observers_) {
      try {
        f(*o);
      } catch (...) {
      }
    }
  }
};

Engine::Impl::Impl(std::vector<ServedModel> models, EngineConfig config)
    : config_(std::move(config)),
      deadlines_(std::max<std::size_t>(config_.max_pending, 1)),
      online_(std::vector<Model>{}, OnlineProfileConfig{false, false, 1, 1, 1}) {
  if (models.empty()) throw Error("engine: no models given");
  if (config_.max_pending < 1 || config_.max_pending > (std::size_t{1} << 20))
    throw Error(fmt::format("engine: max_pending is {}, must be in [1, {}]", config_.max_pending, std::size_t{1} << 20));
  for (std::size_t m = 0; m < models.size(); ++m) {
    ServedModel& served = models[m];
    Model& d = served.description;
    const std::string name = d.name.empty() ? fmt::format("model {}", m) : d.name;
    if (d.stages() != served.network.stages())
      throw Error(fmt::format("engine: model '{}': description has {} stages, the network {}", name, d.stages(),
                              served.network.stages()));
    if (d.utility.exits() != d.stages())
      throw Error(fmt::format("engine: model '{}': utility has {} exits, the model {} stages (see nn::describe)", name,
                              d.utility.exits(), d.stages()));
    if (d.profile.max_batch() > served.network.max_batch())
      throw Error(fmt::format("engine: model '{}': profile has batch {} but the network was compiled for at most {}",
                              name, d.profile.max_batch(), served.network.max_batch()));
    if (d.name.empty()) d.name = name;
    max_stages_ = std::max(max_stages_, d.stages());
    plan_models_.push_back(std::move(d));
    networks_.push_back(std::move(served.network));
  }
  policy_ = make_policy(config_.policy, plan_models_, config_.policy_config);
  policy_name_ = std::string(policy_->name());
  online_ = detail::OnlineProfile(plan_models_, config_.online_profile);
  observers_ = config_.observers;
  for (const auto& o : observers_)
    if (!o) throw Error("engine: observers holds a null pointer");

  const std::size_t n = config_.max_pending;
  slot_bits_ = std::max(1u, static_cast<unsigned>(std::bit_width(n - 1)));
  slots_.resize(n);
  free_.reserve(n);
  inbox_.reserve(n);
  arrivals_.reserve(n);
  freeing_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    slots_[i].exits.resize(static_cast<std::size_t>(max_stages_));
    free_.push_back(static_cast<std::uint32_t>(n - 1 - i));  // hand out slot 0 first
  }

  // Every buffer a stage's results need, sized for the largest batch and the widest exit.
  int max_batch = 1;
  std::size_t max_classes = 1;
  for (const auto& net : networks_) {
    max_batch = std::max(max_batch, net.max_batch());
    for (int k = 0; k < net.stages(); ++k) max_classes = std::max(max_classes, static_cast<std::size_t>(net.classes(k)));
  }
  infos_.reserve(static_cast<std::size_t>(max_batch));
  lanes_ = std::vector<Lane>(1);  // one lane per device; one device for now
  for (Lane& lane : lanes_) {
    lane.ids.resize(static_cast<std::size_t>(max_batch));
    lane.states.resize(static_cast<std::size_t>(max_batch));
    lane.results.resize(static_cast<std::size_t>(max_batch));
    for (nn::ExitResult& r : lane.results) {
      r.logits.reserve(max_classes);
      r.probabilities.reserve(max_classes);
    }
  }
  warm_up_policy();
}

// Policies grow their buffers to the largest pending set they have planned for. Drive the policy once,
// before serving, through max_pending synthetic jobs (on simulated time, no network runs) so those
// buffers start at their working size and the dispatcher does not allocate when a burst first fills
// the queue. The jobs are all expired at the end: the policy starts serving with nothing pending.
void Engine::Impl::warm_up_policy() {
  const std::size_t n = config_.max_pending;
  std::vector<Job> jobs(n);
  std::vector<int> depth(n, 0);
  std::vector<std::uint8_t> ended(n, 0);
  Time now = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto m = static_cast<ModelId>(i % plan_models_.size());
    const Model& model = plan_models_[static_cast<std::size_t>(m)];
    Job& j = jobs[i];
    j.id = static_cast<JobId>(i);
    j.model = m;
    j.mandatory_depth = model.mandatory_depth;
    // Deadlines from tight to loose, so the plans mix drops, mandatory-only and full-depth jobs.
    j.deadline = static_cast<Time>(i + 1) * std::max<Duration>(model.profile.planned_span(0, model.stages(), config_.policy_config.figure), 1) / 2;
    policy_->on_release(j, now);
  }
  std::vector<JobId> batch;
  for (std::size_t step = 0; step < 4 * n * static_cast<std::size_t>(max_stages_) + 16; ++step) {
    const Decision d = policy_->next(now);
    if (const auto* f = std::get_if<Finish>(&d)) {
      if (f->job < n) ended[f->job] = 1;
    } else if (const auto* r = std::get_if<Drop>(&d)) {
      if (r->job < n) ended[r->job] = 1;
    } else if (const auto* dispatch = std::get_if<Dispatch>(&d)) {
      batch.assign(dispatch->jobs.begin(), dispatch->jobs.end());
      if (batch.empty() || dispatch->model < 0 || static_cast<std::size_t>(dispatch->model) >= plan_models_.size()) break;
      const Profile& profile = plan_models_[static_cast<std::size_t>(dispatch->model)].profile;
      const int size = std::clamp(static_cast<int>(batch.size()), 1, profile.max_batch());
      now += std::max<Duration>(profile.planned(dispatch->stage, size, config_.policy_config.figure), 1);
      for (const JobId id : batch)
        if (id < n) policy_->on_stage_done(id, ++depth[id], 0.5, now);
    } else {
      break;  // Idle: nothing left to do
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    if (!ended[i]) policy_->on_expire(static_cast<JobId>(i), now);
}

// ------------------------------------------------------------------------------------------------
// Submit path (any thread)

void Engine::Impl::answer_now(Outcome o, std::promise<Outcome>* promise, Callback* callback) {
  notify([&](Observer& ob) { ob.on_outcome(o); });
  if (promise != nullptr) {
    promise->set_value(std::move(o));
  } else if (callback != nullptr && *callback) {
    try {
      (*callback)(std::move(o));
    } catch (...) {  // a caller's callback must not take the engine down
    }
  }
}

JobId Engine::Impl::submit(ModelId model, const nn::Tensor& input, Time deadline, double weight,
                           std::promise<Outcome>* promise, Callback* callback) {
  const Time release = now();
  const auto refuse = [&](OutcomeStatus status, std::string message) {
    Outcome o;
    o.job = kNotAdmitted;
    o.status = status;
    o.model = model;
    o.release = release;
    o.deadline = deadline;
    o.finish = now();
    o.message = std::move(message);
    answer_now(std::move(o), promise, callback);
    return kNotAdmitted;
  };
  if (model < 0 || static_cast<std::size_t>(model) >= networks_.size())
    return refuse(OutcomeStatus::failed, fmt::format("unknown model {} (the engine serves {})", model, networks_.size()));
  if (!(weight > 0.0) || !std::isfinite(weight))
    return refuse(OutcomeStatus::failed, fmt::format("weight is {}, must be > 0", weight));
  // The planners do arithmetic on deadlines (slack plus large offsets): keep them in a safe range.
  deadline = std::min(deadline, release + kMaxHorizon);
  if (deadline <= release)
    return refuse(OutcomeStatus::rejected, fmt::format("deadline already passed at submit ({:.3f} ms ago)",
                                                       (static_cast<double>(release) - static_cast<double>(deadline)) / 1e6));
  std::uint32_t index = 0;
  {
    std::lock_guard lock(mu_);
    if (stop_requested_) return refuse(OutcomeStatus::rejected, "engine is stopping");
    if (free_.empty())
      return refuse(OutcomeStatus::rejected, fmt::format("queue full: {} jobs pending (max_pending)", config_.max_pending));
    index = free_.back();
    free_.pop_back();
  }
  Slot& s = slots_[index];
  const auto give_back = [&] {
    std::lock_guard lock(mu_);
    free_.push_back(index);
  };
  try {
    s.state = networks_[static_cast<std::size_t>(model)].start(input);  // copies the input: the only per-job allocation
  } catch (const std::exception& e) {
    give_back();
    return refuse(OutcomeStatus::failed, e.what());
  }
  ++s.generation;
  const std::uint32_t generation_mask = slot_bits_ >= 32 ? 0u : (0xffffffffu >> slot_bits_);
  JobId id = ((s.generation & generation_mask) << slot_bits_) | index;
  if (id == kNotAdmitted) {  // skip the one id reserved for refusals
    ++s.generation;
    id = ((s.generation & generation_mask) << slot_bits_) | index;
  }
  s.job = Job{};
  s.job.id = id;
  s.job.model = model;
  s.job.release = release;
  s.job.deadline = deadline;
  s.job.weight = weight;
  s.job.mandatory_depth = plan_models_[static_cast<std::size_t>(model)].mandatory_depth;
  if (promise != nullptr) {
    s.promise.emplace(std::move(*promise));
  } else {
    s.callback = std::move(*callback);
  }
  bool stopping = false;
  bool wake = true;
  {
    std::lock_guard lock(mu_);
    stopping = stop_requested_;
    if (!stopping) inbox_.push_back(index);
    // While every lane is busy the lane that finishes first takes the arrival in (one pass per stage,
    // not one wake-up per job: under overload those cost the lane its CPU). Otherwise the idle lane is
    // woken to run the pass itself: one thread hand-off from submit() to the stage, not two.
    wake = !lanes_busy_ && !stopping;
    if (wake) lanes_[0].poke = true;  // one lane per device; one device for now
  }
  if (stopping) {  // stop() came while the input was copied: refuse through the slot's receiver, free the slot
    std::optional<std::promise<Outcome>> p = std::move(s.promise);
    s.promise.reset();
    Callback cb = std::move(s.callback);
    s.callback = nullptr;
    give_back();
    promise = p ? &*p : nullptr;
    callback = p ? nullptr : &cb;
    return refuse(OutcomeStatus::rejected, "engine is stopping");
  }
  if (wake) lanes_[0].cv.notify_one();
  return id;
}

// ------------------------------------------------------------------------------------------------
// Dispatcher (one thread)

bool Engine::Impl::idle_job(JobId id) const {
  const std::uint32_t i = slot_of(id);
  if (i >= slots_.size()) return false;
  const Slot& s = slots_[i];
  return s.live && !s.in_flight && s.job.id == id;
}

void Engine::Impl::end_job(std::uint32_t index, OutcomeStatus status, Time now, const char* message) {
  Slot& s = slots_[index];
  assert(s.live);
  s.live = false;
  --live_;
  deadlines_.remove(index);
  Outcome o;
  o.job = s.job.id;
  o.status = status;
  o.depth = s.depth;
  o.finish = now;
  o.model = s.job.model;
  o.release = s.job.release;
  o.deadline = s.job.deadline;
  o.start = s.start;
  o.run = s.run;
  if (message[0] != '\0') o.message = message;
  if (status == OutcomeStatus::completed && s.depth > 0) {
    int best = s.depth;
    if (config_.answer == AnswerRule::calibrated_best) {
      const UtilityModel& u = plan_models_[static_cast<std::size_t>(s.job.model)].utility;
      double best_r = -1.0;
      for (int l = 1; l <= s.depth; ++l) {
        const double r = u.expected(l, l, s.exits[static_cast<std::size_t>(l - 1)].confidence);
        if (r >= best_r) {
          best_r = r;
          best = l;
        }
      }
    }
    const ExitAnswer& a = s.exits[static_cast<std::size_t>(best - 1)];
    o.exit = best;
    o.prediction = a.prediction;
    o.confidence = a.confidence;
  }
  notify([&](Observer& ob) { ob.on_outcome(o); });
  if (s.promise) {
    s.promise->set_value(std::move(o));
    s.promise.reset();
  } else if (s.callback) {
    try {
      s.callback(std::move(o));
    } catch (...) {  // a caller's callback must not take the dispatcher down
    }
    s.callback = nullptr;
  }
  if (!s.in_flight) freeing_.push_back(index);
}

void Engine::Impl::fail_job(JobId id, Time now, const std::string& what) {
  if (!idle_job(id)) return;
  policy_->on_expire(id, now);
  const std::string message = fmt::format("policy protocol violation: {}", what);
  end_job(slot_of(id), OutcomeStatus::failed, now, message.c_str());
}

void Engine::Impl::release(std::uint32_t index, Time now) {
  Slot& s = slots_[index];
  s.depth = 0;
  s.in_flight = false;
  s.start = kNever;
  s.run = 0;
  s.live = true;
  ++live_;
  deadlines_.push(index, s.job.deadline);
  if (s.job.deadline <= now) {  // it expired between submit and now: never worth running
    end_job(index, OutcomeStatus::missed, now);
    return;
  }
  const JobInfo info = info_of(s);
  notify([&](Observer& ob) { ob.on_admit(info, now); });
  policy_->on_release(s.job, now);
}

void Engine::Impl::fill_infos(const Lane& lane) {
  infos_.clear();
  for (std::size_t i = 0; i < lane.count; ++i) infos_.push_back(info_of(slots_[slot_of(lane.ids[i])]));
}

void Engine::Impl::complete(int lane_index, Time now) {
  Lane& lane = lanes_[static_cast<std::size_t>(lane_index)];
  lane.busy = false;
  lane.collected = false;
  const Duration took = lane.ended - lane.started;
  if (!observers_.empty()) {
    fill_infos(lane);
    notify([&](Observer& ob) {
      ob.on_stage_done(lane_index, lane.model, lane.stage, infos_, lane.started, lane.ended, lane.failed);
    });
  }
  for (std::size_t i = 0; i < lane.count; ++i) {
    const JobId id = lane.ids[i];
    const std::uint32_t index = slot_of(id);
    Slot& s = slots_[index];
    s.in_flight = false;
    s.run += took;
    if (!s.live) {  // answered while its stage ran (deadline or stop): the work is wasted
      freeing_.push_back(index);
      continue;
    }
    if (lane.failed) {
      policy_->on_expire(id, now);
      end_job(index, OutcomeStatus::failed, now, lane.error.c_str());
      continue;
    }
    s.depth = lane.stage + 1;
    const nn::ExitResult& r = lane.results[i];
    s.exits[static_cast<std::size_t>(lane.stage)] = ExitAnswer{r.prediction, r.confidence};
    policy_->on_stage_done(id, s.depth, r.confidence, now);
  }
  std::size_t column = 0;
  StageTiming timing;
  // What the batch cost the schedule: the stage alone, or (by default) the whole cycle from the pass
  // that dispatched it to this one, so the engine's own overheads are planned for too.
  const Duration cost = config_.online_profile.include_overhead ? now - lane.cycle_start : took;
  if (!lane.failed && online_.record(lane.model, lane.stage, static_cast<int>(lane.count), cost, column, timing)) {
    {
      std::lock_guard lock(profile_mu_);
      plan_models_[static_cast<std::size_t>(lane.model)].profile.set_timing(lane.stage, column, timing);
    }
    const int batch = plan_models_[static_cast<std::size_t>(lane.model)].profile.batch_sizes()[column];
    notify([&](Observer& ob) { ob.on_profile_update(lane.model, lane.stage, batch, timing); });
  }
}

void Engine::Impl::expire_due(Time now) {
  while (!deadlines_.empty() && deadlines_.top_key() <= now) {
    const std::uint32_t index = deadlines_.top();
    Slot& s = slots_[index];
    policy_->on_expire(s.job.id, now);
    end_job(index, s.depth >= s.job.mandatory_depth ? OutcomeStatus::completed : OutcomeStatus::missed, now);
  }
}

void Engine::Impl::cancel_all(Time now) {
  while (!deadlines_.empty()) {
    const std::uint32_t index = deadlines_.top();
    Slot& s = slots_[index];
    policy_->on_expire(s.job.id, now);
    if (s.depth >= s.job.mandatory_depth)
      end_job(index, OutcomeStatus::completed, now);
    else
      end_job(index, OutcomeStatus::rejected, now, "cancelled: engine stopped before its mandatory part ran");
  }
}

bool Engine::Impl::start_lane(int lane_index, const Dispatch& d, Time now) {
  const auto fail_all = [&](const std::string& what) {
    const std::vector<JobId> ids(d.jobs.begin(), d.jobs.end());  // on_expire may invalidate d.jobs
    for (const JobId id : ids) fail_job(id, now, what);
    return false;
  };
  if (d.model < 0 || static_cast<std::size_t>(d.model) >= plan_models_.size())
    return fail_all(fmt::format("dispatch of unknown model {}", d.model));
  const Model& model = plan_models_[static_cast<std::size_t>(d.model)];
  const nn::MultiExitModel& net = networks_[static_cast<std::size_t>(d.model)];
  if (d.jobs.empty()) return false;
  if (d.stage < 0 || d.stage >= model.stages())
    return fail_all(fmt::format("dispatch of stage {} of '{}'", d.stage, model.name));
  const int limit = std::min({config_.policy_config.max_batch, model.profile.max_batch(), net.max_batch()});
  if (static_cast<int>(d.jobs.size()) > limit)
    return fail_all(fmt::format("batch of {} exceeds the limit {}", d.jobs.size(), limit));
  for (std::size_t i = 0; i < d.jobs.size(); ++i) {
    const JobId id = d.jobs[i];
    const bool ok = idle_job(id) && slots_[slot_of(id)].job.model == d.model && slots_[slot_of(id)].depth == d.stage &&
                    std::find(d.jobs.begin(), d.jobs.begin() + static_cast<std::ptrdiff_t>(i), id) ==
                        d.jobs.begin() + static_cast<std::ptrdiff_t>(i);
    if (!ok) return fail_all(fmt::format("job {} cannot run stage {} of '{}' now", id, d.stage, model.name));
  }
  // Work that can no longer help: if even the profile's median says this stage ends after a job's
  // deadline, answer the job now (from what it has) rather than run it.
  const Time end_estimate = now + model.profile.planned(d.stage, static_cast<int>(d.jobs.size()), PlanningFigure::p50);
  Lane& lane = lanes_[static_cast<std::size_t>(lane_index)];
  // Copied first: calling into the policy (on_expire below) ends the span's validity.
  std::copy(d.jobs.begin(), d.jobs.end(), lane.ids.begin());
  const std::size_t n = d.jobs.size();
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const JobId id = lane.ids[i];
    const std::uint32_t index = slot_of(id);
    Slot& s = slots_[index];
    if (end_estimate > s.job.deadline) {
      policy_->on_expire(id, now);
      end_job(index, s.depth >= s.job.mandatory_depth ? OutcomeStatus::completed : OutcomeStatus::missed, now);
      continue;
    }
    lane.ids[count] = id;
    lane.states[count] = &s.state;
    ++count;
  }
  if (count == 0) return false;
  for (std::size_t i = 0; i < count; ++i) {
    Slot& s = slots_[slot_of(lane.ids[i])];
    s.in_flight = true;
    if (s.start == kNever) s.start = now;
  }
  lane.model = d.model;
  lane.stage = d.stage;
  lane.count = count;
  lane.cycle_start = pass_start_;
  lane.busy = true;
  if (!observers_.empty()) {
    fill_infos(lane);
    notify([&](Observer& ob) { ob.on_dispatch(lane_index, d.model, d.stage, infos_, now); });
  }
  {
    std::lock_guard lock(mu_);
    lane.has_work = true;
  }
  lane.cv.notify_one();
  return true;
}

void Engine::Impl::decide(Time now) {
  idle_until_ = kNever;
  int lane = -1;
  for (std::size_t l = 0; l < lanes_.size(); ++l)
    if (!lanes_[l].busy) lane = static_cast<int>(l);
  if (lane < 0) return;
  // Every valid Finish/Drop ends a job, so more rounds than live jobs means a stuck policy.
  std::size_t guard = live_ + 8;
  while (guard-- > 0) {
    const auto t0 = Clock::now();
    const Decision d = policy_->next(now);
    const Duration took = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
    if (!observers_.empty()) notify([&](Observer& ob) { ob.on_decision(now, took, kind_of(d)); });
    if (const auto* f = std::get_if<Finish>(&d)) {
      if (!idle_job(f->job)) continue;  // protocol violation: ignore
      const std::uint32_t index = slot_of(f->job);
      const Slot& s = slots_[index];
      end_job(index, s.depth >= s.job.mandatory_depth ? OutcomeStatus::completed : OutcomeStatus::missed, now);
    } else if (const auto* r = std::get_if<Drop>(&d)) {
      if (!idle_job(r->job)) continue;
      const std::uint32_t index = slot_of(r->job);
      const JobInfo info = info_of(slots_[index]);
      notify([&](Observer& ob) { ob.on_drop(info, now); });
      end_job(index, OutcomeStatus::rejected, now, "shed by the policy under overload");
    } else if (const auto* idle = std::get_if<Idle>(&d)) {
      if (idle->until > now) idle_until_ = idle->until;
      return;
    } else if (start_lane(lane, std::get<Dispatch>(d), now)) {
      return;
    }
  }
}

namespace {
/// The engine whose dispatcher or lane runs on this thread (a callback calling stop() must not join it).
thread_local const void* serving_engine = nullptr;
}  // namespace

void Engine::Impl::service() {
  bool stopping = false;
  StopMode mode = StopMode::cancel;
  {
    std::lock_guard lock(mu_);
    arrivals_.swap(inbox_);
    for (Lane& l : lanes_) l.poke = false;  // this pass takes the arrivals in
    for (Lane& l : lanes_)
      if (l.done) {
        l.done = false;
        l.collected = true;
      }
    stopping = stop_requested_;
    stop_seen_ = stop_seen_ || stopping;
    mode = stop_mode_;
  }
  const Time t = now();
  pass_start_ = t;
  // Same order as the simulator: completions (a stage that ends at a deadline counts), expiries,
  // arrivals, then decisions.
  for (std::size_t l = 0; l < lanes_.size(); ++l)
    if (lanes_[l].collected) complete(static_cast<int>(l), t);
  expire_due(t);
  for (const std::uint32_t index : arrivals_) release(index, t);
  arrivals_.clear();
  if (stopping && mode == StopMode::cancel) cancel_all(t);
  if (!(stopping && mode == StopMode::cancel)) decide(t);

  bool lanes_idle = true;
  for (const Lane& l : lanes_) lanes_idle = lanes_idle && !l.busy;
  const Time wake = std::min(deadlines_.empty() ? kNever : deadlines_.top_key(), idle_until_);
  bool wake_dispatcher = false;
  bool poke_lane = false;
  {
    std::lock_guard lock(mu_);
    for (const std::uint32_t index : freeing_) free_.push_back(index);
    freeing_.clear();
    wake_dispatcher = wake < wake_at_;  // a timer the sleeping dispatcher does not know about yet
    wake_at_ = wake;
    lanes_busy_ = !lanes_idle;
    // Arrivals that came in during this pass while lanes_busy_ still said "a lane will take them".
    poke_lane = lanes_idle && !inbox_.empty();
    if (poke_lane) lanes_[0].poke = true;
    if (stop_requested_ && live_ == 0 && inbox_.empty() && lanes_idle && !finished_) {
      finished_ = true;
      wake_dispatcher = true;
    }
  }
  if (wake_dispatcher) cv_.notify_one();
  if (poke_lane) lanes_[0].cv.notify_one();
}

void Engine::Impl::dispatcher_main() {
  serving_engine = this;
  notify([](Observer& ob) { ob.on_thread_start(ThreadRole::dispatcher, 0); });
  std::unique_lock lock(mu_);
  while (!finished_) {
    const auto due = [&] {
      if (!inbox_.empty() || finished_ || (stop_requested_ && !stop_seen_)) return true;
      for (const Lane& l : lanes_)
        if (l.done) return true;
      return wake_at_ != kNever && wake_at_ <= now();
    };
    while (!due()) {
      if (wake_at_ == kNever)
        cv_.wait(lock);
      else
        // Capped so a deadline far in the future cannot overflow the clock (waking early is harmless).
        cv_.wait_until(lock, epoch_ + std::chrono::nanoseconds(std::min(wake_at_, now() + from_seconds(3600))));
    }
    if (finished_) break;
    lock.unlock();
    {
      std::lock_guard sched(sched_mu_);
      service();
    }
    lock.lock();
  }
  for (Lane& l : lanes_) l.exit = true;
  lock.unlock();
  for (Lane& l : lanes_) l.cv.notify_one();
  const Time t = now();
  notify([&](Observer& ob) { ob.on_stop(t); });
}

void Engine::Impl::lane_main(int index) {
  serving_engine = this;
  notify([&](Observer& ob) { ob.on_thread_start(ThreadRole::lane, index); });
  Lane& lane = lanes_[static_cast<std::size_t>(index)];
  std::unique_lock lock(mu_);
  while (true) {
    lane.cv.wait(lock, [&] { return lane.has_work || lane.exit || lane.poke; });
    if (!lane.has_work) {
      if (lane.exit) break;
      lock.unlock();  // poked: arrivals while idle; the pass usually hands this lane its first batch
      {
        std::lock_guard sched(sched_mu_);
        service();
      }
      lock.lock();
      continue;
    }
    lane.has_work = false;
    lock.unlock();
    nn::MultiExitModel& net = networks_[static_cast<std::size_t>(lane.model)];
    lane.failed = false;
    lane.started = now();
    try {
      net.run_stage(lane.stage, std::span<nn::JobState* const>(lane.states.data(), lane.count),
                    std::span<nn::ExitResult>(lane.results.data(), lane.count));
    } catch (const std::exception& e) {
      lane.failed = true;
      lane.error = fmt::format("stage {} of '{}' failed: {}", lane.stage, plan_models_[static_cast<std::size_t>(lane.model)].name,
                               e.what());
    } catch (...) {
      lane.failed = true;
      lane.error = "stage failed with an unknown exception";
    }
    lane.ended = now();
    lock.lock();
    lane.done = true;
    lock.unlock();
    // The lane takes the completion in and decides what runs next itself (the next batch usually
    // lands on this very lane) instead of waking the dispatcher and waiting to be woken in turn.
    {
      std::lock_guard sched(sched_mu_);
      service();
    }
    lock.lock();
  }
}

// ------------------------------------------------------------------------------------------------
// Engine

Engine::Engine(std::vector<ServedModel> models, EngineConfig config)
    : impl_(std::make_unique<Impl>(std::move(models), std::move(config))) {
  Impl& im = *impl_;
  const EngineInfo info{im.plan_models_, static_cast<int>(im.lanes_.size()), im.policy_name_, im.config_.max_pending};
  im.notify([&](Observer& ob) { ob.on_start(info); });
  for (std::size_t l = 0; l < im.lanes_.size(); ++l)
    im.lanes_[l].thread = std::thread([&im, l] { im.lane_main(static_cast<int>(l)); });
  im.dispatcher_ = std::thread([&im] { im.dispatcher_main(); });
}

Engine::~Engine() { stop(impl_->config_.stop); }

void Engine::stop() { stop(impl_->config_.stop); }

void Engine::stop(StopMode mode) {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu_);
    if (!im.stop_requested_) {
      im.stop_requested_ = true;
      im.stop_mode_ = mode;
    } else if (mode == StopMode::cancel) {
      im.stop_mode_ = StopMode::cancel;  // a cancel overrides a drain in progress
    }
  }
  im.cv_.notify_one();
  if (serving_engine == &im) return;  // from a callback on an engine thread: it cannot wait for itself
  std::lock_guard join(im.join_mu_);
  if (im.dispatcher_.joinable()) im.dispatcher_.join();
  for (Lane& l : im.lanes_)
    if (l.thread.joinable()) l.thread.join();
}

std::future<Outcome> Engine::submit(ModelId model, const nn::Tensor& input, Clock::time_point deadline, double weight) {
  std::promise<Outcome> promise;
  std::future<Outcome> future = promise.get_future();
  impl_->submit(model, input, to_time(deadline), weight, &promise, nullptr);
  return future;
}

std::future<Outcome> Engine::submit(ModelId model, const nn::Tensor& input, Clock::duration within, double weight) {
  return submit(model, input, deadline_in(within), weight);
}

JobId Engine::submit(ModelId model, const nn::Tensor& input, Clock::time_point deadline, Callback on_outcome,
                     double weight) {
  return impl_->submit(model, input, to_time(deadline), weight, nullptr, &on_outcome);
}

JobId Engine::submit(ModelId model, const nn::Tensor& input, Clock::duration within, Callback on_outcome,
                     double weight) {
  return submit(model, input, deadline_in(within), std::move(on_outcome), weight);
}

Time Engine::now() const { return impl_->now(); }
Time Engine::to_time(Clock::time_point t) const {
  // Saturating: time_point::max() (or anything beyond the clock's range) is kNever, never an overflow.
  if (t == Clock::time_point::max()) return kNever;
  const std::int64_t a = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  const std::int64_t b = std::chrono::duration_cast<std::chrono::nanoseconds>(impl_->epoch_.time_since_epoch()).count();
  std::int64_t d = 0;
  if (__builtin_sub_overflow(a, b, &d)) return a > b ? kNever : std::numeric_limits<Time>::min();
  return d;
}
Clock::time_point Engine::to_time_point(Time t) const { return impl_->epoch_ + std::chrono::nanoseconds(t); }
std::size_t Engine::models() const { return impl_->networks_.size(); }
const nn::MultiExitModel& Engine::network(ModelId model) const {
  return impl_->networks_.at(static_cast<std::size_t>(model));
}
Profile Engine::profile(ModelId model) const {
  std::lock_guard lock(impl_->profile_mu_);
  return impl_->plan_models_.at(static_cast<std::size_t>(model)).profile;
}
const std::string& Engine::policy_name() const { return impl_->policy_name_; }
std::size_t Engine::max_pending() const { return impl_->config_.max_pending; }
int Engine::lanes() const { return static_cast<int>(impl_->lanes_.size()); }

}  // namespace imprecise::runtime
