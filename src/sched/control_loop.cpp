// ControlLoop: gathers each interval's ModelWindows through an Observer, asks the Controller, applies its settings.
#include "imprecise/sched/control_loop.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>

#include <fmt/format.h>

#include "imprecise/core/nearest_rank.hpp"
#include "imprecise/core/thread_cpu_time.hpp"
#include "imprecise/error.hpp"

namespace imprecise {

namespace {

/// The id the runtime gives an outcome answered inside submit (runtime::kNotAdmitted): never admitted.
constexpr JobId kRefusedAtSubmit = std::numeric_limits<JobId>::max();

/// The admitted jobs not yet answered, with their model: an open-addressing set (linear probing,
/// backward-shift deletion) sized once from the host's job slots, so the hooks do not allocate. It
/// tells an outcome of an admitted job from one answered without admission (refused at submit, or
/// expired before it was admitted), which counts as an arrival of its own.
class AdmittedJobs {
 public:
  void reserve(std::size_t jobs) {
    std::size_t cap = 64;
    while (cap < 2 * jobs) cap *= 2;
    if (cap > slots_.size()) rehash(cap);
  }
  void insert(JobId id, ModelId model) {
    if (2 * (size_ + 1) > slots_.size()) rehash(std::max<std::size_t>(64, 2 * slots_.size()));
    std::size_t i = home(id);
    while (slots_[i].used && slots_[i].id != id) i = (i + 1) & mask_;
    if (!slots_[i].used) ++size_;
    slots_[i] = Slot{id, model, true};
  }
  /// Removes `id`; returns its model, or -1 when it was not admitted.
  ModelId erase(JobId id) {
    if (slots_.empty()) return -1;
    std::size_t i = home(id);
    while (slots_[i].used && slots_[i].id != id) i = (i + 1) & mask_;
    if (!slots_[i].used) return -1;
    const ModelId model = slots_[i].model;
    // Backward shift: move later members of the probe run into the hole so lookups stay correct.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_; slots_[j].used; j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j].id);
      if (((j - h) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].used = false;
    --size_;
    return model;
  }

 private:
  struct Slot {
    JobId id = 0;
    ModelId model = 0;
    bool used = false;
  };
  std::size_t home(JobId id) const { return (static_cast<std::size_t>(id) * 0x9E3779B97F4A7C15ull >> 17) & mask_; }
  void rehash(std::size_t cap) {
    std::vector<Slot> old(cap);
    old.swap(slots_);
    mask_ = cap - 1;
    size_ = 0;
    for (const Slot& s : old)
      if (s.used) insert(s.id, s.model);
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

/// What one model saw so far in the current window.
struct Tally {
  ModelWindow w;            // counts and expected_correct; the rest is derived at close
  double latency_sum = 0.0;
  double slo_sum = 0.0;
  int slo_count = 0;
  std::int64_t batched = 0;  // jobs over all dispatches
  int live = 0;              // admitted and not answered (carries across windows)
  std::vector<Duration> latencies;
};

/// The observer the host calls: every hook takes the one mutex (the Engine may deliver an outcome on
/// a submitting thread while a pass runs).
class WindowGatherer final : public Observer {
 public:
  WindowGatherer(std::span<const Model> models, int lanes) : models_(models), tallies_(models.size()), lanes_(lanes) {
    for (Tally& t : tallies_) t.latencies.reserve(1024);
    admitted_.reserve(1024);
  }

  void on_start(const HostInfo& host) override {
    std::lock_guard lock(mu_);
    lanes_ = std::max(1, host.lanes);
    admitted_.reserve(std::min<std::size_t>(host.max_pending, std::size_t{1} << 22));
  }
  void on_admit(const JobInfo& job, Time) override {
    std::lock_guard lock(mu_);
    Tally* t = tally(job.model);
    if (t == nullptr) return;
    ++t->w.arrived;
    ++t->live;
    add_slo(*t, job.deadline - job.release);
    admitted_.insert(job.id, job.model);
  }
  void on_dispatch(int, ModelId model, int, std::span<const JobInfo> jobs, Time) override {
    std::lock_guard lock(mu_);
    Tally* t = tally(model);
    if (t == nullptr) return;
    ++t->w.dispatches;
    t->batched += static_cast<std::int64_t>(jobs.size());
  }
  void on_stage_done(int, ModelId, int, std::span<const JobInfo>, Time start, Time end, bool) override {
    std::lock_guard lock(mu_);
    busy_ += std::max<Duration>(0, end - std::max(start, window_start_));  // the part inside this window
  }
  void on_outcome(const Outcome& o) override {
    std::lock_guard lock(mu_);
    ModelId model = o.job == kRefusedAtSubmit ? -1 : admitted_.erase(o.job);
    Tally* t = nullptr;
    if (model >= 0) {
      t = tally(model);
      if (t != nullptr) --t->live;
    } else {  // answered without admission: an arrival of this window too
      model = o.model;
      t = tally(model);
      if (t == nullptr) return;
      ++t->w.arrived;
      add_slo(*t, o.deadline - o.release);
    }
    if (t == nullptr) return;
    ++t->w.answered;
    switch (o.status) {
      case OutcomeStatus::completed:
        ++t->w.completed;
        if (o.exit > 0) t->w.expected_correct += models_[static_cast<std::size_t>(model)].utility.expected(o.exit, o.exit, o.confidence);
        break;
      case OutcomeStatus::missed: ++t->w.missed; break;
      case OutcomeStatus::rejected: ++t->w.rejected; break;
      case OutcomeStatus::failed: ++t->w.failed; break;
    }
    const Duration latency = std::max<Duration>(0, o.finish - o.release);
    t->latency_sum += static_cast<double>(latency);
    t->latencies.push_back(latency);
  }

  /// Starts a window at `now`, dropping what was gathered (the jobs still live stay counted).
  void open(Time now) {
    std::lock_guard lock(mu_);
    window_start_ = now;
    reset();
  }
  /// Ends the window at `now` into `out` (one per model), opens the next; returns {interval, busy fraction, lanes}.
  struct Closed {
    Duration interval;
    double busy_fraction;
    int lanes;
  };
  Closed close(Time now, std::span<ModelWindow> out) {
    std::lock_guard lock(mu_);
    const Duration interval = std::max<Duration>(0, now - window_start_);
    for (std::size_t m = 0; m < tallies_.size(); ++m) {
      Tally& t = tallies_[m];
      ModelWindow w = t.w;
      if (w.answered > 0) w.latency_mean = static_cast<Duration>(t.latency_sum / w.answered);
      w.latency_p50 = nearest_rank(t.latencies, 0.50);
      w.latency_p99 = nearest_rank(t.latencies, 0.99);
      if (t.slo_count > 0) w.slo = static_cast<Duration>(t.slo_sum / t.slo_count);
      w.mean_batch = w.dispatches > 0 ? static_cast<double>(t.batched) / w.dispatches : 0.0;
      w.pending = std::max(0, t.live);
      out[m] = w;
    }
    const double busy = interval > 0 ? static_cast<double>(busy_) / (static_cast<double>(interval) * lanes_) : 0.0;
    const Closed closed{interval, std::min(1.0, busy), lanes_};
    window_start_ = now;
    reset();
    return closed;
  }

 private:
  Tally* tally(ModelId model) {
    return model >= 0 && static_cast<std::size_t>(model) < tallies_.size() ? &tallies_[static_cast<std::size_t>(model)] : nullptr;
  }
  static void add_slo(Tally& t, Duration relative_deadline) {
    if (relative_deadline <= 0) return;
    t.slo_sum += static_cast<double>(relative_deadline);
    ++t.slo_count;
  }
  void reset() {
    for (Tally& t : tallies_) {
      t.w = ModelWindow{};
      t.latency_sum = t.slo_sum = 0.0;
      t.slo_count = 0;
      t.batched = 0;
      t.latencies.clear();  // keeps the capacity: no allocation once a window held as many answers
    }
    busy_ = 0;
  }

  std::mutex mu_;
  std::span<const Model> models_;
  std::vector<Tally> tallies_;
  AdmittedJobs admitted_;
  int lanes_ = 1;
  Time window_start_ = 0;
  Duration busy_ = 0;
};

}  // namespace

struct ControlLoop::State {
  std::unique_ptr<Controller> controller;
  std::span<const Model> models;
  ControllerConfig config;
  std::shared_ptr<WindowGatherer> gatherer;
  std::vector<ModelWindow> windows;   // the window just closed
  std::vector<ModelControl> current;  // in force
  std::vector<ModelControl> next;     // what decide() writes
  std::vector<ControlRecord> history;
  std::int64_t intervals = 0;  // ticks since start(); the history may hold fewer

  struct Took {
    Duration wall;
    Duration cpu;
  };
  /// Asks the controller over `windows` and applies what it chose; returns how long decide took, on
  /// the wall clock and on this thread's CPU clock (they differ by the time the thread was preempted:
  /// in a real run, behind busy lanes, that can be most of a decision's wall time).
  Took decide(const ControlObservation& observation, Policy& policy) {
    std::copy(current.begin(), current.end(), next.begin());
    const Duration cpu0 = thread_cpu_time();
    const auto t0 = std::chrono::steady_clock::now();
    controller->decide(observation, next);
    const auto t1 = std::chrono::steady_clock::now();
    const Duration cpu1 = thread_cpu_time();
    std::copy(next.begin(), next.end(), current.begin());
    for (std::size_t m = 0; m < current.size(); ++m) policy.set_control(static_cast<ModelId>(m), current[m]);
    return {std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), std::max<Duration>(0, cpu1 - cpu0)};
  }
};

namespace {

class SharedController final : public Controller {
 public:
  explicit SharedController(std::shared_ptr<Controller> c) : c_(std::move(c)) {}
  std::string_view name() const override { return c_->name(); }
  void decide(const ControlObservation& o, std::span<ModelControl> next) override { c_->decide(o, next); }

 private:
  std::shared_ptr<Controller> c_;
};

}  // namespace

std::unique_ptr<Controller> share_controller(std::shared_ptr<Controller> controller) {
  if (controller == nullptr) throw Error("control loop: no controller");
  return std::make_unique<SharedController>(std::move(controller));
}

ControlLoop::ControlLoop(std::unique_ptr<Controller> controller, std::span<const Model> models, ControllerConfig config)
    : state_(std::make_unique<State>()) {
  if (controller == nullptr) throw Error("control loop: no controller");
  if (config.interval <= 0) throw Error(fmt::format("control loop: interval is {} ns, must be > 0", config.interval));
  if (config.lanes < 1) throw Error(fmt::format("control loop: lanes is {}, must be >= 1", config.lanes));
  if (config.max_batch < 1) throw Error(fmt::format("control loop: max_batch is {}, must be >= 1", config.max_batch));
  if (config.max_batch_wait < 0)
    throw Error(fmt::format("control loop: max_batch_wait is {} ns, must be >= 0", config.max_batch_wait));
  State& s = *state_;
  s.controller = std::move(controller);
  s.models = models;
  s.config = std::move(config);
  s.gatherer = std::make_shared<WindowGatherer>(models, s.config.lanes);
  s.windows.resize(models.size());
  s.current.assign(models.size(), s.config.fixed);
  s.next.resize(models.size());
  s.history.reserve(1024);
}

ControlLoop::~ControlLoop() = default;

std::shared_ptr<Observer> ControlLoop::observer() const { return state_->gatherer; }

Time ControlLoop::start(Time now, Policy& policy) {
  State& s = *state_;
  s.gatherer->open(now);
  std::fill(s.windows.begin(), s.windows.end(), ModelWindow{});
  // interval 0 tells a controller this is its starting choice (nothing was observed yet).
  const ControlObservation observation{now, 0, s.config.lanes, 0.0, s.windows, s.current, s.models};
  s.decide(observation, policy);
  return now + s.config.interval;
}

Time ControlLoop::tick(Time now, Policy& policy) {
  State& s = *state_;
  const auto closed = s.gatherer->close(now, s.windows);
  const ControlObservation observation{now,      closed.interval, closed.lanes, closed.busy_fraction,
                                       s.windows, s.current,       s.models};
  const State::Took took = s.decide(observation, policy);
  ++s.intervals;
  s.history.push_back(
      ControlRecord{now, s.windows, slo_utility(s.windows, s.config.utility), s.current, took.wall, took.cpu});
  // Bounded, and trimmed in halves: the oldest go once the history holds twice the limit.
  const std::size_t limit = s.config.history_limit;
  if (limit > 0 && s.history.size() >= 2 * limit)
    s.history.erase(s.history.begin(), s.history.end() - static_cast<std::ptrdiff_t>(limit));
  return now + s.config.interval;
}

const std::vector<ModelControl>& ControlLoop::controls() const { return state_->current; }
const std::vector<ControlRecord>& ControlLoop::history() const { return state_->history; }
const Controller& ControlLoop::controller() const { return *state_->controller; }

ControlStatus ControlLoop::status() const {
  const State& s = *state_;
  ControlStatus status{std::string(s.controller->name()), s.current, s.intervals, std::nullopt};
  if (!s.history.empty()) status.last = s.history.back();
  return status;
}

}  // namespace imprecise
