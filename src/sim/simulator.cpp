// Discrete-event simulator: a virtual clock around the PolicyHost; arrivals, stage completions, deadline
// expiries and wake-ups drive the Policy, with stage times sampled from the profiles.
#include "imprecise/sim/simulator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <queue>

#include <fmt/format.h>

#include "imprecise/error.hpp"
#include "imprecise/sched/policy_host.hpp"
#include "imprecise/sim/jobs.hpp"
#include "imprecise/sim/random.hpp"

namespace imprecise::sim {
namespace detail {

// Salt of the stage-time random stream (arrivals and samples: jobs.cpp).
inline constexpr std::uint64_t kStageSalt = 0x73746167ULL;

/// One executor's clock-side state (the batch itself is the host's LaneBatch).
struct Lane {
  Duration length = 0;
  Duration busy_time = 0;
};

// Same-time events run in this order: a stage that ends exactly at a deadline counts, then
// expiries, then wake-ups; arrivals are handled between expiries and wake-ups.
enum class EventKind : int { completion = 0, expiry = 1, wake = 3 };

struct Event {
  Time at;
  EventKind kind;
  std::uint64_t key;  // lane (completion), job (expiry), 0 (wake)
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

std::vector<int> batch_limits(const Scenario& sc, int max_batch) {
  std::vector<int> limits;
  for (const Model& m : sc.models) limits.push_back(std::min(max_batch, m.profile.max_batch()));
  return limits;
}

/// A virtual clock and a stage-time sampler around the PolicyHost.
class Simulation final : public HostClient {
 public:
  Simulation(const Scenario& scenario, Policy& policy, const SimConfig& config)
      : sc_(scenario), policy_(policy), cfg_(config), lanes_(1) {
    horizon_ = config.duration > 0 ? config.duration : scenario.duration;
    max_batch_ = config.max_batch > 0 ? config.max_batch : scenario.max_batch;
    if (horizon_ <= 0) throw Error("simulate: duration must be > 0");
    if (max_batch_ < 1) throw Error("simulate: max_batch must be >= 1");
    if (sc_.test_sets.size() != sc_.models.size())
      throw Error(fmt::format("simulate: scenario '{}' has {} models but {} test sets", sc_.name,
                              sc_.models.size(), sc_.test_sets.size()));
    for (std::size_t m = 0; m < sc_.models.size(); ++m) {
      if (sc_.test_sets[m].samples() == 0 || sc_.test_sets[m].exits != sc_.models[m].stages())
        throw Error(fmt::format("simulate: model '{}': test set must have samples with {} exits",
                                sc_.models[m].name, sc_.models[m].stages()));
    }
    make_jobs();
    PolicyHostConfig hc;
    hc.slots = std::max<std::size_t>(jobs_.size(), 1);
    hc.lanes = static_cast<int>(lanes_.size());
    hc.max_batch = batch_limits(sc_, max_batch_);
    host_.emplace(policy_, sc_.models, std::move(hc), *this);
    std::vector<std::shared_ptr<Observer>> observers = cfg_.observers;
    observers.insert(observers.begin(), decisions_);
    host_->set_observers(std::move(observers));
    confidence_.resize(static_cast<std::size_t>(max_batch_));
    take_spreads();
  }

  SimResult run() {
    const HostInfo info{sc_.models, static_cast<int>(lanes_.size()), policy_.name(), jobs_.size(), "simulator"};
    host_->notify([&](Observer& ob) { ob.on_start(info); });
    const auto wall_start = std::chrono::steady_clock::now();
    std::size_t next_arrival = 0;
    const std::size_t n = jobs_.size();
    while (true) {
      const Time t_event = events_.empty() ? kNever : events_.top().at;
      const Time t_arrival = next_arrival < n ? jobs_[next_arrival].release : kNever;
      const Time t = std::min(t_event, t_arrival);
      if (t == kNever) break;
      now_ = t;
      // Same-time order: completions, expiries, arrivals, wake-ups (see EventKind).
      while (true) {
        if (!events_.empty() && events_.top().at == t && events_.top().kind != EventKind::wake) {
          const Event e = events_.top();
          events_.pop();
          if (e.kind == EventKind::completion) complete(static_cast<int>(e.key));
          else expire(static_cast<JobId>(e.key));
        } else if (next_arrival < n && jobs_[next_arrival].release == t) {
          release(static_cast<JobId>(next_arrival++));
        } else if (!events_.empty() && events_.top().at == t) {
          if (wake_at_ == t) {  // a later Idle supersedes earlier wake-ups
            ++events_count_;
            wake_at_ = kNever;
          }
          events_.pop();
        } else {
          break;
        }
      }
      const Time wake = host_->decide(now_);
      if (wake != kNever) {
        wake_at_ = wake;
        events_.push({wake, EventKind::wake, 0});
      }
    }
    const auto wall_end = std::chrono::steady_clock::now();
    finish_unended();
    host_->notify([&](Observer& ob) { ob.on_stop(now_); });
    return result(std::chrono::duration<double>(wall_end - wall_start).count());
  }

  // --- HostClient ---
  void start_lane(int index, Time now) override {
    const LaneBatch& batch = host_->lane(index);
    Lane& lane = lanes_[static_cast<std::size_t>(index)];
    lane.length = stage_time(batch.model, batch.stage, batch.jobs.front(), static_cast<int>(batch.jobs.size()));
    lane.busy_time += lane.length;
    end_of_work_ = std::max(end_of_work_, now + lane.length);
    events_.push({now + lane.length, EventKind::completion, static_cast<std::uint64_t>(index)});
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
    jobs_ = cfg_.rate_scale > 0.0 ? plan_jobs_at_scale(sc_, cfg_.rate_scale, cfg_.seed, horizon_).jobs
                                   : plan_jobs(sc_, cfg_.load, cfg_.seed, horizon_).jobs;
    outcomes_.assign(jobs_.size(), Outcome{});
  }

  // Stage time of one batch: lognormal with the profile's median, spread by its p99 and mean, clipped to its max;
  // drawn from a hash of (seed, model, stage, first job, batch size) for common random numbers.
  Duration stage_time(ModelId model, int stage, JobId first, int batch) const {
    const StageTiming& timing = sc_.models[static_cast<std::size_t>(model)].profile.timing(stage, batch);
    Duration d = 0;
    if (cfg_.deterministic_times) {
      d = figure_of(timing, cfg_.policy.figure);
    } else {
      const double u = unit_open(hash_of({cfg_.seed, static_cast<std::uint64_t>(model),
                                          static_cast<std::uint64_t>(stage), first,
                                          static_cast<std::uint64_t>(batch), kStageSalt}));
      const double p50 = static_cast<double>(timing.p50);
      const double sigma = spread_[static_cast<std::size_t>(model)][spread_index(model, stage, batch)];
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

  // The spread of every (model, stage, batch) the profile has a timing for, taken once: the profiles
  // do not change during a run, and the logarithms were a good part of each dispatch's cost.
  void take_spreads() {
    spread_.resize(sc_.models.size());
    for (std::size_t m = 0; m < sc_.models.size(); ++m) {
      const Profile& profile = sc_.models[m].profile;
      spread_[m].assign(static_cast<std::size_t>(profile.stages() * (profile.max_batch() + 1)), 0.0);
      for (int stage = 0; stage < profile.stages(); ++stage)
        for (int batch = 1; batch <= profile.max_batch(); ++batch)
          spread_[m][spread_index(static_cast<ModelId>(m), stage, batch)] = spread_of(profile.timing(stage, batch));
    }
  }
  // Where spread_[model] holds (stage, batch), batch in [1, the profile's max batch] like Profile::timing.
  std::size_t spread_index(ModelId model, int stage, int batch) const {
    const int batches = sc_.models[static_cast<std::size_t>(model)].profile.max_batch() + 1;
    return static_cast<std::size_t>(stage * batches + batch);
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

  static double percentile_us(std::vector<std::int64_t>& v, double q) {
    if (v.empty()) return 0.0;
    const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
    const auto idx = std::min(k, v.size() - 1);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
    return static_cast<double>(v[idx]) / 1e3;
  }

  SimResult result(double wall_s) {
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
    m.events_per_second = wall_s > 0.0 ? static_cast<double>(events_count_) / wall_s : 0.0;
    const PlanningStats planning = policy_.planning_stats();
    m.delta_used_max = planning.delta_used_max;
    m.coarsened_decisions = planning.coarsened_decisions;
    r.jobs = std::move(jobs_);
    r.outcomes = std::move(outcomes_);
    r.protocol_violations = host_->protocol_violations();
    return r;
  }

  const Scenario& sc_;
  Policy& policy_;
  const SimConfig& cfg_;
  std::vector<Lane> lanes_;
  Duration horizon_ = 0;
  int max_batch_ = 1;
  std::vector<Job> jobs_;
  std::vector<Outcome> outcomes_;
  std::optional<PolicyHost> host_;
  std::shared_ptr<DecisionTimes> decisions_ = std::make_shared<DecisionTimes>();
  std::vector<double> confidence_;
  std::vector<std::vector<double>> spread_;  // [model][spread_index]: lognormal sigma per (stage, batch)
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  Time now_ = 0;
  Time wake_at_ = kNever;
  Time end_of_work_ = 0;
  std::int64_t events_count_ = 0;
  double wasted_ = 0.0;
};

}  // namespace detail

SimResult simulate(const Scenario& scenario, Policy& policy, const SimConfig& config) {
  detail::Simulation sim(scenario, policy, config);
  return sim.run();
}

SimResult simulate(const Scenario& scenario, const std::string& policy_spec, const SimConfig& config) {
  PolicyConfig pc = config.policy;
  pc.max_batch = config.max_batch > 0 ? config.max_batch : scenario.max_batch;
  auto policy = make_policy(policy_spec, scenario.models, pc);
  return simulate(scenario, *policy, config);
}

}  // namespace imprecise::sim
