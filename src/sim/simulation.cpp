// The discrete-event simulator: a virtual clock around the PolicyHost; arrivals, stage completions,
// deadline expiries, wake-ups and control intervals drive the Policy, with stage times sampled from
// the profiles (at the lanes' concurrency).
#include "imprecise/sim/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <queue>

#include <fmt/format.h>

#include "imprecise/core/nearest_rank.hpp"
#include "imprecise/error.hpp"
#include "imprecise/sched/control_loop.hpp"
#include "imprecise/sched/policy_host.hpp"
#include "imprecise/sim/jobs.hpp"
#include "imprecise/sim/random.hpp"
#include "run_windows.hpp"

namespace imprecise::sim {
namespace {

// Salts of the stage-time random stream and of the load schedule's thinning (arrivals and samples: jobs.cpp).
constexpr std::uint64_t kStageSalt = 0x73746167ULL;
constexpr std::uint64_t kScheduleSalt = 0x7363686dULL;

/// One executor's clock-side state (the batch itself is the host's LaneBatch).
struct Lane {
  Duration length = 0;
  Duration busy_time = 0;
};

// Same-time events run in this order: a stage that ends exactly at a deadline counts, then
// expiries, then arrivals, then the end of a control interval (which sees those arrivals), then wake-ups.
enum class EventKind : int { completion = 0, expiry = 1, control = 2, wake = 3 };

struct Event {
  Time at;
  EventKind kind;
  std::uint64_t key;  // lane (completion), job (expiry), 0 (control, wake)
  bool operator>(const Event& o) const {
    if (at != o.at) return at > o.at;
    if (kind != o.kind) return kind > o.kind;
    return key > o.key;
  }
};

/// Collects the wall time of every Policy::next call (the metrics' decision p50/p99).
class DecisionTimes final : public Observer {
 public:
  void on_decision(Time, Duration took, DecisionKind) override { ns.push_back(took); }
  std::vector<std::int64_t> ns;
};

/// External control: keeps what the interval showed and answers with the settings apply() set.
class HeldController final : public Controller {
 public:
  explicit HeldController(std::vector<ModelControl> start) : held(std::move(start)) {}
  std::string_view name() const override { return "external"; }
  void decide(const ControlObservation& o, std::span<ModelControl> next) override {
    seen = o;
    windows.assign(o.models.begin(), o.models.end());
    std::copy(held.begin(), held.end(), next.begin());
  }
  std::vector<ModelControl> held;
  ControlObservation seen;  // its spans are replaced by windows/held when handed out
  std::vector<ModelWindow> windows;
};

std::vector<int> batch_limits(const Scenario& sc, int max_batch) {
  std::vector<int> limits;
  for (const Model& m : sc.models) limits.push_back(std::min(max_batch, m.profile.max_batch()));
  return limits;
}

// Which of a model's profiles profile_at(lanes) gives: 0 = alone, i = concurrent[i - 1].
std::size_t profile_index(const Model& m, int lanes) {
  if (lanes <= 1 || m.concurrent.empty()) return 0;
  return std::min(static_cast<std::size_t>(lanes - 2), m.concurrent.size() - 1) + 1;
}
const Profile& profile_by_index(const Model& m, std::size_t i) { return i == 0 ? m.profile : m.concurrent[i - 1]; }

double percentile_us(std::vector<std::int64_t>& v, double q) { return static_cast<double>(nearest_rank(v, q)) / 1e3; }

}  // namespace

/// One run: its jobs, host, lanes, events and control loop.
class Run final : public HostClient {
 public:
  Run(const Scenario& scenario, Policy& policy, const SimConfig& config, ControlMode mode)
      : sc_(scenario), policy_(policy), cfg_(config), mode_(mode) {
    horizon_ = config.duration > 0 ? config.duration : scenario.duration;
    max_batch_ = config.max_batch > 0 ? config.max_batch : scenario.max_batch;
    if (horizon_ <= 0) throw Error("simulate: duration must be > 0");
    if (max_batch_ < 1) throw Error("simulate: max_batch must be >= 1");
    if (config.lanes < 1) throw Error(fmt::format("simulate: lanes must be >= 1, got {}", config.lanes));
    if (sc_.test_sets.size() != sc_.models.size())
      throw Error(fmt::format("simulate: scenario '{}' has {} models but {} test sets", sc_.name,
                              sc_.models.size(), sc_.test_sets.size()));
    for (std::size_t m = 0; m < sc_.models.size(); ++m) {
      if (sc_.test_sets[m].samples() == 0 || sc_.test_sets[m].exits != sc_.models[m].stages())
        throw Error(fmt::format("simulate: model '{}': test set must have samples with {} exits",
                                sc_.models[m].name, sc_.models[m].stages()));
    }
    validate(config.load_schedule, "simulate: load_schedule");
    lanes_.resize(static_cast<std::size_t>(config.lanes));
    make_jobs();
    PolicyHostConfig hc;
    hc.slots = std::max<std::size_t>(jobs_.size(), 1);
    hc.lanes = static_cast<int>(lanes_.size());
    hc.max_batch = batch_limits(sc_, max_batch_);
    host_.emplace(policy_, sc_.models, std::move(hc), *this);
    std::vector<std::shared_ptr<Observer>> observers = cfg_.observers;
    observers.insert(observers.begin(), decisions_);
    make_control_loop();
    if (loop_) observers.push_back(loop_->observer());
    host_->set_observers(std::move(observers));
    confidence_.resize(static_cast<std::size_t>(max_batch_));
    dispatches_.assign(sc_.models.size(), {});
    take_spreads();
    const HostInfo info{sc_.models, static_cast<int>(lanes_.size()), policy_.name(), jobs_.size(), "simulator"};
    host_->notify([&](Observer& ob) { ob.on_start(info); });
    if (loop_) {
      next_control_ = loop_->start(0, policy_);
      events_.push({next_control_, EventKind::control, 0});
    }
  }

  bool run_until(Time until) {
    const auto wall_start = std::chrono::steady_clock::now();
    if (decide_pending_) {
      decide_pending_ = false;
      decide();
    }
    const std::size_t n = jobs_.size();
    while (true) {
      const Time t_event = events_.empty() ? kNever : events_.top().at;
      const Time t_arrival = next_arrival_ < n ? jobs_[next_arrival_].release : kNever;
      const Time t = std::min(t_event, t_arrival);
      if (t == kNever) {
        done_ = true;
        break;
      }
      if (t > until) break;
      now_ = t;
      bool ticked = false, changed = false, other = false;
      // Same-time order: completions, expiries, arrivals, the control interval, wake-ups (see EventKind).
      while (true) {
        if (!events_.empty() && events_.top().at == t && events_.top().kind < EventKind::control) {
          const Event e = events_.top();
          events_.pop();
          other = true;
          if (e.kind == EventKind::completion) complete(static_cast<int>(e.key));
          else expire(static_cast<JobId>(e.key));
        } else if (next_arrival_ < n && jobs_[next_arrival_].release == t) {
          other = true;
          release(static_cast<JobId>(next_arrival_++));
        } else if (!events_.empty() && events_.top().at == t && events_.top().kind == EventKind::control) {
          events_.pop();
          changed = tick() || changed;
          ticked = true;
        } else if (!events_.empty() && events_.top().at == t) {
          other = true;
          if (wake_at_ == t) {  // a later Idle supersedes earlier wake-ups
            ++events_count_;
            wake_at_ = kNever;
          }
          events_.pop();
        } else {
          break;
        }
      }
      if (ticked && mode_ == ControlMode::external) {  // the caller's settings first (apply)
        decide_pending_ = true;
        break;
      }
      // An interval that changed nothing asks the policy nothing: a controller that holds the
      // defaults leaves the run exactly as it is without one.
      if (!other && !changed) continue;
      decide();
    }
    wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return !done_;
  }

  bool done() const { return done_; }
  Time now() const { return now_; }
  Time next_control() const { return loop_ ? next_control_ : kNever; }

  ControlObservation observation() const {
    if (!held_) throw Error("simulation: observation() needs external control (ControlMode::external)");
    ControlObservation o = held_->seen;
    o.lanes = static_cast<int>(lanes_.size());
    o.models = held_->windows;
    o.current = in_force_;
    return o;
  }
  double last_utility() const { return slo_utility(held_ ? std::span<const ModelWindow>(held_->windows) : std::span<const ModelWindow>{}, cfg_.control.utility); }

  void apply(std::span<const ModelControl> controls) {
    if (!held_) throw Error("simulation: apply() needs external control (ControlMode::external)");
    if (controls.size() != sc_.models.size())
      throw Error(fmt::format("simulation: controls: expected {} (one per model), got {}", sc_.models.size(), controls.size()));
    for (std::size_t m = 0; m < controls.size(); ++m) {
      const ModelControl& c = controls[m];
      if (c.max_batch < 0 || c.batch_wait < 0 || c.lanes < 0)
        throw Error(fmt::format("simulation: controls[{}] ('{}'): max_batch, batch_wait and lanes must be >= 0", m,
                                sc_.models[m].name));
    }
    held_->held.assign(controls.begin(), controls.end());
    in_force_ = held_->held;
    // In force from now on: the loop hands the same settings over again at the next interval's end.
    for (std::size_t m = 0; m < controls.size(); ++m) policy_.set_control(static_cast<ModelId>(m), controls[m]);
  }
  const std::vector<ModelControl>& controls() const {
    static const std::vector<ModelControl> none;
    if (held_) return in_force_;
    return loop_ ? loop_->controls() : none;
  }

  SimResult finish() {
    while (run_until(kNever)) {
    }
    if (decide_pending_) {  // cannot be: done means no event, so no interval ended last
      decide_pending_ = false;
      decide();
    }
    finish_unended();
    host_->notify([&](Observer& ob) { ob.on_stop(now_); });
    return result();
  }

  // --- HostClient ---
  void start_lane(int index, Time now) override {
    const LaneBatch& batch = host_->lane(index);
    int busy = 0;  // lanes running once this batch starts, itself included
    for (int l = 0; l < host_->lanes(); ++l) busy += host_->lane(l).busy ? 1 : 0;
    Lane& lane = lanes_[static_cast<std::size_t>(index)];
    const int size = static_cast<int>(batch.jobs.size());
    lane.length = stage_time(batch.model, batch.stage, batch.jobs.front(), size, std::max(busy, 1));
    lane.busy_time += lane.length;
    end_of_work_ = std::max(end_of_work_, now + lane.length);
    events_.push({now + lane.length, EventKind::completion, static_cast<std::uint64_t>(index)});
    auto& d = dispatches_[static_cast<std::size_t>(batch.model)];
    ++d.count;
    d.jobs += size;
  }
  void answer(std::uint32_t slot, int depth, Outcome& o) override {
    const ExitRecord& r = jobs_[slot].oracle[static_cast<std::size_t>(depth - 1)];
    o.exit = depth;
    o.confidence = r.confidence;
    o.correct = r.correct;
  }
  void deliver(std::uint32_t slot, Outcome&& o) override { outcomes_[slot] = std::move(o); }

 private:
  void make_jobs() {
    const LoadSchedule& schedule = cfg_.load_schedule;
    const double scale = cfg_.rate_scale > 0.0 ? cfg_.rate_scale : rate_scale_for_load(sc_, cfg_.load);
    if (schedule.empty()) {  // exactly the jobs of a run without a schedule
      jobs_ = cfg_.rate_scale > 0.0 ? plan_jobs_at_scale(sc_, cfg_.rate_scale, cfg_.seed, horizon_).jobs
                                     : plan_jobs(sc_, cfg_.load, cfg_.seed, horizon_).jobs;
    } else {
      // Drawn at the peak rate, then thinned to the schedule; ids renumbered in release order.
      std::vector<Job> all = plan_jobs_at_scale(sc_, scale * schedule.peak(), cfg_.seed, horizon_).jobs;
      std::vector<Time> releases(all.size());
      for (std::size_t i = 0; i < all.size(); ++i) releases[i] = all[i].release;
      for (const std::size_t i : thin_by_schedule(releases, schedule, hash_of({cfg_.seed, kScheduleSalt}))) {
        jobs_.push_back(all[i]);
        jobs_.back().id = static_cast<JobId>(jobs_.size() - 1);
      }
    }
    outcomes_.assign(jobs_.size(), Outcome{});
  }

  void make_control_loop() {
    std::unique_ptr<Controller> controller;
    if (mode_ == ControlMode::external) {
      auto held = std::make_unique<HeldController>(std::vector<ModelControl>(sc_.models.size(), cfg_.control.fixed));
      held_ = held.get();
      in_force_ = held_->held;
      controller = std::move(held);
    } else if (cfg_.controller) {
      controller = share_controller(cfg_.controller);
    } else {
      return;
    }
    if (cfg_.control.interval <= 0)
      throw Error(fmt::format("simulate: control.interval must be > 0, got {} ns", cfg_.control.interval));
    ControllerConfig cc = cfg_.control;
    cc.lanes = static_cast<int>(lanes_.size());
    loop_.emplace(std::move(controller), sc_.models, std::move(cc));
  }

  /// Ends a control interval; returns whether the settings changed.
  bool tick() {
    const std::vector<ModelControl> before = loop_->controls();
    const Time next = loop_->tick(now_, policy_);
    if (held_) {
      in_force_ = held_->held;
      held_->seen.now = now_;
    }
    // The intervals go on while anything can still happen.
    const bool alive = next_arrival_ < jobs_.size() || host_->live() > 0 || host_->any_lane_busy();
    next_control_ = alive ? next : kNever;
    if (alive) events_.push({next, EventKind::control, 0});
    return loop_->controls() != before;
  }

  void decide() {
    const Time wake = host_->decide(now_);
    if (wake != kNever) {
      wake_at_ = wake;
      events_.push({wake, EventKind::wake, 0});
    }
  }

  // Stage time of one batch: lognormal with the profile's median, spread by its p99 and mean, clipped to its max;
  // drawn from a hash of (seed, model, stage, first job, batch size) for common random numbers. The
  // profile is the model's at `busy` lanes (Model::profile_at).
  Duration stage_time(ModelId model, int stage, JobId first, int batch, int busy) const {
    const Model& m = sc_.models[static_cast<std::size_t>(model)];
    const std::size_t p = profile_index(m, busy);
    const Profile& profile = profile_by_index(m, p);
    const int b = std::min(batch, profile.max_batch());  // a concurrent table measured to a smaller batch
    const StageTiming& timing = profile.timing(stage, b);
    Duration d = 0;
    if (cfg_.deterministic_times) {
      d = figure_of(timing, cfg_.policy.figure);
    } else {
      const double u = unit_open(hash_of({cfg_.seed, static_cast<std::uint64_t>(model),
                                          static_cast<std::uint64_t>(stage), first,
                                          static_cast<std::uint64_t>(batch), kStageSalt}));
      const double p50 = static_cast<double>(timing.p50);
      const double sigma = spread_[static_cast<std::size_t>(model)][p][spread_index(profile, stage, b)];
      const double x = p50 * std::exp(sigma * normal_quantile(u));
      d = static_cast<Duration>(std::llround(std::min(x, static_cast<double>(std::max(timing.max, timing.p50)))));
    }
    return std::max<Duration>(d, 1);
  }

  // The spread fits the p99, but never so wide that the mean exceeds the measured mean: stage
  // times are tight with rare long stalls (preemption), which a lognormal through the p99 would
  // turn into a mean far above the real one, and the mean is what sets the device's throughput.
  static double spread_of(const StageTiming& timing) {
    const double p50 = static_cast<double>(timing.p50);
    const double sigma_p99 = timing.p99 > timing.p50 ? std::log(static_cast<double>(timing.p99) / p50) / 2.326 : 0.0;
    const double sigma_mean = timing.mean > timing.p50 ? std::sqrt(2.0 * std::log(static_cast<double>(timing.mean) / p50)) : 0.0;
    return std::min(sigma_p99, sigma_mean);
  }

  // The spread of every (model, profile, stage, batch) the profiles have a timing for, taken once: the
  // profiles do not change during a run, and the logarithms were a good part of each dispatch's cost.
  void take_spreads() {
    spread_.resize(sc_.models.size());
    for (std::size_t m = 0; m < sc_.models.size(); ++m) {
      const Model& model = sc_.models[m];
      spread_[m].resize(model.concurrent.size() + 1);
      for (std::size_t p = 0; p < spread_[m].size(); ++p) {
        const Profile& profile = profile_by_index(model, p);
        spread_[m][p].assign(static_cast<std::size_t>(profile.stages() * (profile.max_batch() + 1)), 0.0);
        for (int stage = 0; stage < profile.stages(); ++stage)
          for (int batch = 1; batch <= profile.max_batch(); ++batch)
            spread_[m][p][spread_index(profile, stage, batch)] = spread_of(profile.timing(stage, batch));
      }
    }
  }
  // Where a profile's spreads hold (stage, batch), batch in [1, its max batch] like Profile::timing.
  static std::size_t spread_index(const Profile& profile, int stage, int batch) {
    return static_cast<std::size_t>(stage * (profile.max_batch() + 1) + batch);
  }

  void release(JobId id) {
    ++events_count_;
    events_.push({jobs_[id].deadline, EventKind::expiry, id});
    host_->admit(jobs_[id], now_);
  }

  void complete(int index) {
    ++events_count_;
    const LaneBatch& batch = host_->lane(index);
    const std::size_t size = batch.jobs.size();
    const int stage = batch.stage;
    for (std::size_t i = 0; i < size; ++i)
      confidence_[i] = jobs_[batch.jobs[i]].oracle[static_cast<std::size_t>(stage)].confidence;
    const Lane& lane = lanes_[static_cast<std::size_t>(index)];
    const std::size_t dead = host_->complete(index, std::span<const double>(confidence_.data(), size),
                                             now_ - lane.length, now_, nullptr, now_);
    wasted_ += static_cast<double>(lane.length) * static_cast<double>(dead) / static_cast<double>(size);
  }

  void expire(JobId id) {
    if (!host_->is_live(id)) return;
    ++events_count_;
    host_->expire(id, now_);
  }

  // Cannot happen (every job has an expiry event); kept so the invariant holds even if it did.
  void finish_unended() {
    for (std::size_t i = 0; i < jobs_.size(); ++i)
      host_->abandon(static_cast<std::uint32_t>(i), now_, "simulation ended with the job unresolved");
  }

  SimResult result() {
    SimResult r;
    SimMetrics& m = r.metrics;
    m.policy = std::string(policy_.name());
    m.load = cfg_.load;
    m.seed = cfg_.seed;
    m.total = summarize_stream("total", jobs_, outcomes_);
    for (std::size_t s = 0; s < sc_.streams.size(); ++s)
      m.streams.push_back(summarize_stream(sc_.streams[s].name, jobs_, outcomes_, static_cast<int>(s)));
    Duration busy = 0;
    for (const Lane& l : lanes_) busy += l.busy_time;
    const Time end = std::max({horizon_, now_, end_of_work_});
    m.utilization = static_cast<double>(busy) / (static_cast<double>(end) * static_cast<double>(lanes_.size()));
    m.wasted_ms = wasted_ / 1e6;
    std::vector<std::int64_t>& decision_ns = decisions_->ns;
    m.decisions = static_cast<std::int64_t>(decision_ns.size());
    m.decision_p50_us = percentile_us(decision_ns, 0.50);
    m.decision_p99_us = percentile_us(decision_ns, 0.99);
    m.events = events_count_;
    m.events_per_second = wall_s_ > 0.0 ? static_cast<double>(events_count_) / wall_s_ : 0.0;
    const PlanningStats planning = policy_.planning_stats();
    m.delta_used_max = planning.delta_used_max;
    m.coarsened_decisions = planning.coarsened_decisions;
    r.windows = detail::run_windows(sc_, jobs_, outcomes_, dispatches_);
    if (loop_ && !held_) {
      r.control = loop_->history();
      for (const ControlRecord& c : r.control) r.control_decisions.push_back(c.decision);
    }
    r.horizon = horizon_;
    r.jobs = std::move(jobs_);
    r.outcomes = std::move(outcomes_);
    r.protocol_violations = host_->protocol_violations();
    return r;
  }

  const Scenario& sc_;
  Policy& policy_;
  const SimConfig& cfg_;
  ControlMode mode_;
  std::vector<Lane> lanes_;
  Duration horizon_ = 0;
  int max_batch_ = 1;
  std::vector<Job> jobs_;
  std::vector<Outcome> outcomes_;
  std::optional<PolicyHost> host_;
  std::optional<ControlLoop> loop_;
  HeldController* held_ = nullptr;    // external control: the loop's controller
  std::vector<ModelControl> in_force_;  // external control: what apply() set last
  std::shared_ptr<DecisionTimes> decisions_ = std::make_shared<DecisionTimes>();
  std::vector<double> confidence_;
  std::vector<detail::DispatchCount> dispatches_;  // per model
  std::vector<std::vector<std::vector<double>>> spread_;  // [model][profile][spread_index]: lognormal sigma
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::size_t next_arrival_ = 0;
  Time now_ = 0;
  Time wake_at_ = kNever;
  Time end_of_work_ = 0;
  Time next_control_ = kNever;
  std::int64_t events_count_ = 0;
  double wasted_ = 0.0;
  double wall_s_ = 0.0;
  bool done_ = false;
  bool decide_pending_ = false;
};

struct Simulation::Impl {
  Impl(const Scenario& sc, std::string policy_spec, SimConfig c, ControlMode m)
      : scenario(sc), spec(std::move(policy_spec)), config(std::move(c)), mode(m) {}
  const Scenario& scenario;
  std::string spec;
  SimConfig config;
  ControlMode mode;
  Policy* external_policy = nullptr;
  std::unique_ptr<Policy> owned;
  std::unique_ptr<Run> run;
  bool finished = false;

  void start() {
    run.reset();
    Policy* policy = external_policy;
    if (!policy) {
      PolicyConfig pc = config.policy;
      pc.max_batch = config.max_batch > 0 ? config.max_batch : scenario.max_batch;
      pc.lanes = config.lanes;
      owned = make_policy(spec, scenario.models, pc);
      policy = owned.get();
    }
    run = std::make_unique<Run>(scenario, *policy, config, mode);
    finished = false;
  }
  Run& live() {
    if (finished) throw Error("simulation: the run is finished; reset() starts another");
    return *run;
  }
};

Simulation::Simulation(const Scenario& scenario, std::string policy_spec, SimConfig config, ControlMode mode)
    : impl_(std::make_unique<Impl>(scenario, std::move(policy_spec), std::move(config), mode)) {
  impl_->start();
}

Simulation::Simulation(const Scenario& scenario, Policy& policy, SimConfig config)
    : impl_(std::make_unique<Impl>(scenario, std::string(), std::move(config), ControlMode::config)) {
  impl_->external_policy = &policy;
  impl_->start();
}

Simulation::~Simulation() = default;

void Simulation::reset(std::uint64_t seed) {
  if (impl_->external_policy) throw Error("simulation: reset() needs a policy spec (the caller's policy runs once)");
  impl_->config.seed = seed;
  impl_->start();
}

bool Simulation::run_until(Time until) { return impl_->live().run_until(until); }
bool Simulation::done() const { return impl_->finished || impl_->run->done(); }
Time Simulation::now() const { return impl_->run->now(); }
Time Simulation::next_control() const { return impl_->run->next_control(); }
ControlObservation Simulation::observation() const { return impl_->run->observation(); }
double Simulation::last_utility() const { return impl_->run->last_utility(); }
void Simulation::apply(std::span<const ModelControl> controls) { impl_->live().apply(controls); }
const std::vector<ModelControl>& Simulation::controls() const { return impl_->run->controls(); }
const Scenario& Simulation::scenario() const { return impl_->scenario; }
const SimConfig& Simulation::config() const { return impl_->config; }

SimResult Simulation::finish() {
  SimResult r = impl_->live().finish();
  impl_->finished = true;
  return r;
}

}  // namespace imprecise::sim
