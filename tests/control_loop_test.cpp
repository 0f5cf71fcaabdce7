// ControlLoop: windows gathered from hand-fed observer events; start and tick apply the controller's settings.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <thread>
#include <vector>

#include <time.h>

#include "control_fixtures.hpp"
#include "imprecise/error.hpp"
#include "imprecise/sched/control_loop.hpp"

namespace imprecise {
namespace {

using testing::RecordingPolicy;

/// Remembers what it saw; sets model 0's max batch to 1 + the decisions so far.
class ProbeController final : public Controller {
 public:
  std::string_view name() const override { return "probe"; }
  void decide(const ControlObservation& o, std::span<ModelControl> next) override {
    seen.push_back(Seen{o.now, o.interval, o.lanes, o.busy_fraction,
                        std::vector<ModelWindow>(o.models.begin(), o.models.end()),
                        std::vector<ModelControl>(o.current.begin(), o.current.end()), o.planned_models});
    next[0].max_batch = static_cast<int>(seen.size());
    next[0].batch_wait = from_ms(1.0);
  }
  struct Seen {
    Time now;
    Duration interval;
    int lanes;
    double busy;
    std::vector<ModelWindow> windows;
    std::vector<ModelControl> current;
    std::span<const Model> planned;
  };
  std::vector<Seen> seen;
};

JobInfo job(JobId id, ModelId model, double release_ms, double deadline_ms) {
  return JobInfo{id, model, from_ms(release_ms), from_ms(deadline_ms), 1.0, 0};
}

Outcome outcome(const JobInfo& j, OutcomeStatus status, double finish_ms, int exit = 0, double confidence = 0.0) {
  Outcome o;
  o.job = j.id;
  o.status = status;
  o.depth = exit;
  o.exit = exit;
  o.confidence = confidence;
  o.finish = from_ms(finish_ms);
  o.model = j.model;
  o.release = j.release;
  o.deadline = j.deadline;
  return o;
}

class ControlLoopTest : public ::testing::Test {
 protected:
  ControlLoopTest() : models_(testing::three_models()) {
    ControllerConfig config;
    config.interval = from_ms(100);
    config.lanes = 2;
    config.fixed = ModelControl{4, 0, 1};
    auto probe = std::make_unique<ProbeController>();
    probe_ = probe.get();
    loop_ = std::make_unique<ControlLoop>(std::move(probe), models_, config);
    observer_ = loop_->observer();
    observer_->on_start(HostInfo{models_, 2, "recording", 64, "simulator"});
  }
  std::vector<Model> models_;
  ProbeController* probe_ = nullptr;
  std::unique_ptr<ControlLoop> loop_;
  std::shared_ptr<Observer> observer_;
  RecordingPolicy policy_;
};

TEST_F(ControlLoopTest, StartAsksOnAnEmptyWindowAndAppliesEveryModel) {
  EXPECT_EQ(loop_->start(from_ms(5), policy_), from_ms(105));
  ASSERT_EQ(probe_->seen.size(), 1u);
  EXPECT_EQ(probe_->seen[0].interval, 0);  // the starting choice
  for (const ModelControl& c : probe_->seen[0].current) EXPECT_EQ(c, (ModelControl{4, 0, 1}));  // config.fixed
  ASSERT_EQ(policy_.calls.size(), 3u);
  EXPECT_EQ(policy_.calls[0], std::make_pair(ModelId{0}, ModelControl{1, from_ms(1.0), 1}));
  EXPECT_EQ(policy_.calls[1], std::make_pair(ModelId{1}, ModelControl{4, 0, 1}));
  EXPECT_EQ(policy_.calls[2], std::make_pair(ModelId{2}, ModelControl{4, 0, 1}));
  EXPECT_TRUE(loop_->history().empty());
}

TEST_F(ControlLoopTest, TickClosesTheWindowFromObserverEvents) {
  loop_->start(0, policy_);
  // Model 0: four jobs (SLO 10, 10, 20, 20 ms), three answered: completed x2, missed; one still pending.
  const JobInfo a = job(1, 0, 0, 10), b = job(2, 0, 1, 11), c = job(3, 0, 2, 22), d = job(4, 0, 50, 70);
  for (const JobInfo& j : {a, b, c, d}) observer_->on_admit(j, j.release);
  const std::vector<JobInfo> batch{a, b};
  observer_->on_dispatch(0, 0, 0, batch, from_ms(1));
  observer_->on_stage_done(0, 0, 0, batch, from_ms(1), from_ms(5), false);   // 4 ms on lane 0
  observer_->on_dispatch(1, 0, 0, std::span(&c, 1), from_ms(2));
  observer_->on_stage_done(1, 0, 0, std::span(&c, 1), from_ms(2), from_ms(18), false);  // 16 ms on lane 1
  observer_->on_outcome(outcome(a, OutcomeStatus::completed, 5, 1, 0.9));    // latency 5, R = 0.9
  observer_->on_outcome(outcome(b, OutcomeStatus::completed, 6, 1, 0.2));    // latency 5, R = 0.4
  observer_->on_outcome(outcome(c, OutcomeStatus::missed, 22));              // latency 20
  // Model 1: one refused at submit (never admitted: an arrival all the same), SLO 30 ms.
  Outcome refused = outcome(job(0, 1, 10, 40), OutcomeStatus::rejected, 10);
  refused.job = std::numeric_limits<JobId>::max();
  observer_->on_outcome(refused);

  EXPECT_EQ(loop_->tick(from_ms(100), policy_), from_ms(200));
  ASSERT_EQ(probe_->seen.size(), 2u);
  for (const auto& s : probe_->seen) {  // the host's own models (in the runtime: profiled while serving)
    EXPECT_EQ(s.planned.data(), models_.data());
    EXPECT_EQ(s.planned.size(), models_.size());
  }
  const auto& seen = probe_->seen[1];
  EXPECT_EQ(seen.interval, from_ms(100));
  EXPECT_EQ(seen.lanes, 2);
  EXPECT_NEAR(seen.busy, 20.0 / 200.0, 1e-12);
  const ModelWindow& w0 = seen.windows[0];
  EXPECT_EQ(w0.arrived, 4);
  EXPECT_EQ(w0.answered, 3);
  EXPECT_EQ(w0.completed, 2);
  EXPECT_EQ(w0.missed, 1);
  EXPECT_EQ(w0.rejected, 0);
  EXPECT_NEAR(w0.expected_correct, 0.9 + 0.4, 1e-12);
  EXPECT_EQ(w0.latency_mean, from_ms(10));
  EXPECT_EQ(w0.latency_p50, from_ms(5));
  EXPECT_EQ(w0.latency_p99, from_ms(20));
  EXPECT_EQ(w0.slo, from_ms(15));
  EXPECT_EQ(w0.dispatches, 2);
  EXPECT_NEAR(w0.mean_batch, 1.5, 1e-12);
  EXPECT_EQ(w0.pending, 1);
  const ModelWindow& w1 = seen.windows[1];
  EXPECT_EQ(w1.arrived, 1);
  EXPECT_EQ(w1.answered, 1);
  EXPECT_EQ(w1.rejected, 1);
  EXPECT_EQ(w1.slo, from_ms(30));
  EXPECT_EQ(w1.pending, 0);
  EXPECT_EQ(seen.windows[2].arrived, 0);
  // What start chose was in force; tick applied the new choice to every model.
  EXPECT_EQ(seen.current[0], (ModelControl{1, from_ms(1.0), 1}));
  ASSERT_EQ(policy_.calls.size(), 6u);
  EXPECT_EQ(policy_.calls[3], std::make_pair(ModelId{0}, ModelControl{2, from_ms(1.0), 1}));
  EXPECT_EQ(loop_->controls()[0], (ModelControl{2, from_ms(1.0), 1}));

  ASSERT_EQ(loop_->history().size(), 1u);
  const ControlRecord& r = loop_->history()[0];
  EXPECT_EQ(r.at, from_ms(100));
  EXPECT_EQ(r.windows[0].answered, 3);
  EXPECT_EQ(r.chosen, loop_->controls());
  EXPECT_GE(r.decision, 0);
  EXPECT_NEAR(r.utility, slo_utility(std::span<const ModelWindow>(r.windows), ControllerConfig{}.utility), 1e-12);

  // The next window starts empty but the pending job carries over; its outcome is no new arrival.
  observer_->on_outcome(outcome(d, OutcomeStatus::completed, 120, 2, 0.95));
  loop_->tick(from_ms(200), policy_);
  const ModelWindow& next0 = probe_->seen[2].windows[0];
  EXPECT_EQ(next0.arrived, 0);
  EXPECT_EQ(next0.answered, 1);
  EXPECT_EQ(next0.pending, 0);
  EXPECT_EQ(next0.latency_p99, from_ms(70));
  EXPECT_EQ(next0.slo, 0);  // nothing released in it
  EXPECT_EQ(loop_->history().size(), 2u);
}

TEST_F(ControlLoopTest, StageTimeBeforeTheWindowIsNotCounted) {
  loop_->start(0, policy_);
  loop_->tick(from_ms(100), policy_);
  const JobInfo a = job(9, 2, 90, 190);
  observer_->on_stage_done(0, 2, 0, std::span(&a, 1), from_ms(90), from_ms(110), false);  // 10 ms inside
  loop_->tick(from_ms(200), policy_);
  EXPECT_NEAR(probe_->seen.back().busy, 10.0 / 200.0, 1e-12);
}

TEST_F(ControlLoopTest, ManyJobsAnsweredInAnyOrderLeaveNothingPending) {
  loop_->start(0, policy_);
  std::vector<JobInfo> jobs;
  for (JobId i = 0; i < 3000; ++i) jobs.push_back(job(i * 2654435761u % 1000003u, static_cast<ModelId>(i % 3), 1, 50));
  for (const JobInfo& j : jobs) observer_->on_admit(j, j.release);  // grows past the 64 slots on_start sized
  loop_->tick(from_ms(100), policy_);
  EXPECT_EQ(probe_->seen.back().windows[1].pending, 1000);
  for (std::size_t i = 0; i < jobs.size(); ++i) {  // a stride through all of them: not the admission order
    const JobInfo& j = jobs[(i * 7919) % jobs.size()];
    observer_->on_outcome(outcome(j, OutcomeStatus::missed, 150));
  }
  loop_->tick(from_ms(200), policy_);
  for (const ModelWindow& w : probe_->seen.back().windows) {
    EXPECT_EQ(w.arrived, 0);
    EXPECT_EQ(w.answered, 1000);
    EXPECT_EQ(w.pending, 0);
  }
}

TEST_F(ControlLoopTest, HooksFromOtherThreadsWhileTicking) {
  // The Engine may deliver an outcome on a submitting thread while a pass runs: every job is counted
  // once, in some window.
  loop_->start(0, policy_);
  const auto feed = [&](JobId first) {
    for (JobId id = first; id < first + 2000; ++id) {
      const JobInfo j = job(id, static_cast<ModelId>(id % 3), 0, 10);
      observer_->on_admit(j, 0);
      observer_->on_outcome(outcome(j, OutcomeStatus::completed, 1, 1, 0.9));
    }
  };
  std::thread a(feed, 0), b(feed, 100000);
  for (int t = 1; t <= 50; ++t) loop_->tick(from_ms(t), policy_);
  a.join();
  b.join();
  loop_->tick(from_ms(51), policy_);
  int arrived = 0, answered = 0;
  for (const ControlRecord& r : loop_->history())
    for (const ModelWindow& w : r.windows) {
      arrived += w.arrived;
      answered += w.answered;
    }
  EXPECT_EQ(arrived, 4000);
  EXPECT_EQ(answered, 4000);
  for (const ModelWindow& w : loop_->history().back().windows) EXPECT_EQ(w.pending, 0);
}

/// Spends its decision either sleeping (as a preempted thread would: wall time, no CPU) or computing.
class TimedController final : public Controller {
 public:
  explicit TimedController(bool sleep) : sleep_(sleep) {}
  std::string_view name() const override { return "timed"; }
  void decide(const ControlObservation&, std::span<ModelControl>) override {
    if (sleep_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return;
    }
    const auto cpu = [] {
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<Duration>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    };
    const Duration until = cpu() + from_ms(3);
    while (cpu() < until) {
    }
  }

 private:
  bool sleep_;
};

TEST(ControlLoop, RecordsEachDecisionsWallAndCpuTime) {
  const std::vector<Model> models = testing::three_models();
  ControllerConfig config;
  config.interval = from_ms(100);
  RecordingPolicy policy;
  for (const bool sleep : {true, false}) {
    ControlLoop loop(std::make_unique<TimedController>(sleep), models, config);
    loop.start(0, policy);
    loop.tick(from_ms(100), policy);
    ASSERT_EQ(loop.history().size(), 1u);
    const ControlRecord& r = loop.history()[0];
    if (sleep) {
      EXPECT_GE(r.decision, from_ms(20)) << "the wall clock counts the time the thread did not run";
      EXPECT_LT(r.decision_cpu, from_ms(10)) << "the CPU clock does not";
    } else {
      EXPECT_GE(r.decision_cpu, from_ms(3));
      EXPECT_GE(r.decision + from_ms(1), r.decision_cpu) << "CPU time within the wall time (less the clock reads)";
    }
  }
}

TEST(ControlLoop, TheHistoryKeepsTheNewestIntervalsWithinTwiceItsLimit) {
  // A host serving for days must not grow without bound: past twice the limit the oldest go.
  const std::vector<Model> models = testing::three_models();
  ControllerConfig config;
  config.interval = from_ms(100);
  config.history_limit = 3;
  RecordingPolicy policy;
  ControlLoop loop(std::make_unique<ProbeController>(), models, config);
  loop.start(0, policy);
  for (int i = 1; i <= 20; ++i) {
    loop.tick(from_ms(100) * i, policy);
    const auto& h = loop.history();
    ASSERT_GE(h.size(), std::min<std::size_t>(static_cast<std::size_t>(i), 3u)) << "after " << i << " intervals";
    ASSERT_LT(h.size(), 6u) << "after " << i << " intervals";
    EXPECT_EQ(h.back().at, from_ms(100) * i) << "the newest is kept";
    for (std::size_t k = 1; k < h.size(); ++k) EXPECT_EQ(h[k].at - h[k - 1].at, from_ms(100)) << "in order, none missing";
  }
  config.history_limit = 0;  // every interval
  ControlLoop all(std::make_unique<ProbeController>(), models, config);
  all.start(0, policy);
  for (int i = 1; i <= 20; ++i) all.tick(from_ms(100) * i, policy);
  EXPECT_EQ(all.history().size(), 20u);
}

TEST(ControlLoop, RejectsABadConfig) {
  const std::vector<Model> models = testing::three_models();
  ControllerConfig config;
  config.interval = 0;
  EXPECT_THROW(ControlLoop(std::make_unique<ProbeController>(), models, config), Error);
  EXPECT_THROW(ControlLoop(nullptr, models, ControllerConfig{}), Error);
}

}  // namespace
}  // namespace imprecise
