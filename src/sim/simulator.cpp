// Discrete-event simulator: arrivals, stage completions, deadline expiries and wake-ups drive a Policy.
#include "imprecise/sim/simulator.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <queue>
#include <variant>

#include <fmt/format.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/jobs.hpp"
#include "imprecise/sim/random.hpp"

namespace imprecise::sim {
namespace detail {

// Salt of the stage-time random stream (arrivals and samples: jobs.cpp).
inline constexpr std::uint64_t kStageSalt = 0x73746167ULL;

/// One executor. A single lane today; the loop already treats lanes as a set so more can come.
struct Lane {
  bool busy = false;
  ModelId model = 0;
  int stage = 0;
  Duration length = 0;
  std::vector<JobId> batch;
  Duration busy_time = 0;
};

struct JobState {
  int depth = 0;
  bool released = false;
  bool ended = false;
  bool in_flight = false;
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

class Simulation {
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
  }

  SimResult run() {
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
          if (e.kind == EventKind::completion) complete(static_cast<std::size_t>(e.key));
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
      decide();
    }
    const auto wall_end = std::chrono::steady_clock::now();
    finish_unended();
    return result(std::chrono::duration<double>(wall_end - wall_start).count());
  }

 private:
  void make_jobs() {
    jobs_ = cfg_.rate_scale > 0.0 ? plan_jobs_at_scale(sc_, cfg_.rate_scale, cfg_.seed, horizon_).jobs
                                   : plan_jobs(sc_, cfg_.load, cfg_.seed, horizon_).jobs;
    state_.assign(jobs_.size(), JobState{});
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
      // The spread fits the p99, but never so wide that the mean exceeds the measured mean: stage
      // times are tight with rare long stalls (preemption), which a lognormal through the p99 would
      // turn into a mean far above the real one, and the mean is what sets the device's throughput.
      const double sigma_p99 = timing.p99 > timing.p50 ? std::log(static_cast<double>(timing.p99) / p50) / 2.326 : 0.0;
      const double sigma_mean = timing.mean > timing.p50 ? std::sqrt(2.0 * std::log(static_cast<double>(timing.mean) / p50)) : 0.0;
      const double sigma = std::min(sigma_p99, sigma_mean);
      const double x = p50 * std::exp(sigma * normal_quantile(u));
      d = static_cast<Duration>(std::llround(std::min(x, static_cast<double>(std::max(timing.max, timing.p50)))));
    }
    return std::max<Duration>(d, 1);
  }

  void release(JobId id) {
    ++events_count_;
    state_[id].released = true;
    events_.push({jobs_[id].deadline, EventKind::expiry, id});
    policy_.on_release(jobs_[id], now_);
  }

  void complete(std::size_t lane_index) {
    ++events_count_;
    Lane& lane = lanes_[lane_index];
    lane.busy = false;
    int dead = 0;
    for (JobId id : lane.batch) {
      JobState& st = state_[id];
      st.in_flight = false;
      if (st.ended) {
        ++dead;  // expired while running: the work is wasted
        continue;
      }
      st.depth = lane.stage + 1;
      policy_.on_stage_done(id, st.depth, jobs_[id].oracle[static_cast<std::size_t>(st.depth - 1)].confidence, now_);
    }
    wasted_ += static_cast<double>(lane.length) * dead / static_cast<double>(lane.batch.size());
  }

  void expire(JobId id) {
    if (state_[id].ended) return;
    ++events_count_;
    policy_.on_expire(id, now_);
    const JobState& st = state_[id];
    end_job(id, st.depth >= jobs_[id].mandatory_depth ? OutcomeStatus::completed : OutcomeStatus::missed, "");
  }

  void end_job(JobId id, OutcomeStatus status, std::string message) {
    JobState& st = state_[id];
    assert(!st.ended);
    st.ended = true;
    ++ended_;
    Outcome& o = outcomes_[id];
    o.job = id;
    o.status = status;
    o.depth = st.depth;
    o.finish = now_;
    o.message = std::move(message);
    if (status == OutcomeStatus::completed && st.depth > 0) {
      const ExitRecord& r = jobs_[id].oracle[static_cast<std::size_t>(st.depth - 1)];
      o.exit = st.depth;
      o.confidence = r.confidence;
      o.correct = r.correct;
    }
  }

  /// A job the policy may still act on: released, not ended, not in flight.
  bool idle_job(JobId id) const {
    return id < jobs_.size() && state_[id].released && !state_[id].ended && !state_[id].in_flight;
  }

  // Ending a job the policy mishandled keeps the run going and the one-outcome invariant intact.
  void fail_job(JobId id, const std::string& what) {
    if (idle_job(id)) {
      policy_.on_expire(id, now_);
      end_job(id, OutcomeStatus::failed, fmt::format("policy protocol violation: {}", what));
    }
  }

  void decide() {
    Lane* lane = nullptr;
    for (Lane& l : lanes_)
      if (!l.busy) lane = &l;
    if (lane == nullptr) return;
    // Every valid Finish/Drop ends a job, so more rounds than live jobs means a stuck policy.
    std::size_t guard = jobs_.size() - ended_ + 8;
    while (guard-- > 0) {
      const auto t0 = std::chrono::steady_clock::now();
      const Decision d = policy_.next(now_);
      const auto t1 = std::chrono::steady_clock::now();
      decision_ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
      if (const auto* f = std::get_if<Finish>(&d)) {
        if (!idle_job(f->job)) {
          ++violations_;
          continue;
        }
        const int depth = state_[f->job].depth;
        end_job(f->job, depth >= jobs_[f->job].mandatory_depth ? OutcomeStatus::completed : OutcomeStatus::missed, "");
      } else if (const auto* r = std::get_if<Drop>(&d)) {
        if (!idle_job(r->job)) {
          ++violations_;
          continue;
        }
        end_job(r->job, OutcomeStatus::rejected, "shed by the policy under overload");
      } else if (const auto* idle = std::get_if<Idle>(&d)) {
        if (idle->until != kNever && idle->until > now_) {
          wake_at_ = idle->until;
          events_.push({idle->until, EventKind::wake, 0});
        }
        return;
      } else {
        const auto& dispatch = std::get<Dispatch>(d);
        if (start(*lane, dispatch)) return;
      }
    }
    ++violations_;  // stuck: wait for the next event
  }

  bool start(Lane& lane, const Dispatch& d) {
    const auto fail_all = [&](const std::string& what) {
      ++violations_;
      for (JobId id : d.jobs) fail_job(id, what);
      return false;
    };
    if (d.model < 0 || static_cast<std::size_t>(d.model) >= sc_.models.size())
      return fail_all(fmt::format("dispatch of unknown model {}", d.model));
    const Model& model = sc_.models[static_cast<std::size_t>(d.model)];
    const int batch = static_cast<int>(d.jobs.size());
    if (d.jobs.empty()) return fail_all("empty dispatch");
    if (d.stage < 0 || d.stage >= model.stages()) return fail_all(fmt::format("dispatch of stage {} of '{}'", d.stage, model.name));
    if (batch > std::min(max_batch_, model.profile.max_batch()))
      return fail_all(fmt::format("batch of {} exceeds the limit {}", batch, std::min(max_batch_, model.profile.max_batch())));
    for (std::size_t i = 0; i < d.jobs.size(); ++i) {
      const JobId id = d.jobs[i];
      const bool ok = idle_job(id) && jobs_[id].model == d.model && state_[id].depth == d.stage &&
                      std::find(d.jobs.begin(), d.jobs.begin() + static_cast<std::ptrdiff_t>(i), id) ==
                          d.jobs.begin() + static_cast<std::ptrdiff_t>(i);
      if (!ok) return fail_all(fmt::format("job {} cannot run stage {} of '{}' now", id, d.stage, model.name));
    }
    // As the runtime Engine does: work that can no longer help is not started. A job whose stage would
    // end after its deadline even by the profile's median is answered now from what it has.
    const Time end_estimate = now_ + model.profile.planned(d.stage, batch, PlanningFigure::p50);
    lane.batch.assign(d.jobs.begin(), d.jobs.end());  // copied first: on_expire ends the span's validity
    std::size_t kept = 0;
    for (const JobId id : lane.batch) {
      if (end_estimate > jobs_[id].deadline) {
        policy_.on_expire(id, now_);
        end_job(id, state_[id].depth >= jobs_[id].mandatory_depth ? OutcomeStatus::completed : OutcomeStatus::missed, "");
        continue;
      }
      lane.batch[kept++] = id;
    }
    lane.batch.resize(kept);
    if (lane.batch.empty()) return false;
    lane.busy = true;
    lane.model = d.model;
    lane.stage = d.stage;
    for (JobId id : lane.batch) state_[id].in_flight = true;
    lane.length = stage_time(d.model, d.stage, lane.batch.front(), static_cast<int>(lane.batch.size()));
    lane.busy_time += lane.length;
    end_of_work_ = std::max(end_of_work_, now_ + lane.length);
    const auto lane_index = static_cast<std::uint64_t>(&lane - lanes_.data());
    events_.push({now_ + lane.length, EventKind::completion, lane_index});
    return true;
  }

  // Cannot happen (every job has an expiry event); kept so the invariant holds even if it did.
  void finish_unended() {
    for (std::size_t i = 0; i < jobs_.size(); ++i)
      if (!state_[i].ended) {
        ++violations_;
        end_job(static_cast<JobId>(i), OutcomeStatus::failed, "simulation ended with the job unresolved");
      }
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
    m.decisions = static_cast<std::int64_t>(decision_ns_.size());
    m.decision_p50_us = percentile_us(decision_ns_, 0.50);
    m.decision_p99_us = percentile_us(decision_ns_, 0.99);
    m.events = events_count_;
    m.events_per_second = wall_s > 0.0 ? static_cast<double>(events_count_) / wall_s : 0.0;
    r.jobs = std::move(jobs_);
    r.outcomes = std::move(outcomes_);
    r.protocol_violations = violations_;
    return r;
  }

  const Scenario& sc_;
  Policy& policy_;
  const SimConfig& cfg_;
  std::vector<Lane> lanes_;
  Duration horizon_ = 0;
  int max_batch_ = 1;
  std::vector<Job> jobs_;
  std::vector<JobState> state_;
  std::vector<Outcome> outcomes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  Time now_ = 0;
  Time wake_at_ = kNever;
  Time end_of_work_ = 0;
  std::size_t ended_ = 0;
  std::int64_t events_count_ = 0;
  std::int64_t violations_ = 0;
  double wasted_ = 0.0;
  std::vector<std::int64_t> decision_ns_;
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
