// Engine: futures and callbacks, answers from the right exit, rejections, overload, shutdown, online profile, trace.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "imprecise/error.hpp"
#include "imprecise/runtime/engine.hpp"
#include "imprecise/runtime/metrics.hpp"
#include "imprecise/sched/trace_writer.hpp"
#include "runtime_fixtures.hpp"

namespace imprecise::runtime {
namespace {

using namespace std::chrono_literals;
using testing::full_depth_time;
using testing::inputs;
using testing::measured_profile;
using testing::one_model;
using testing::reference;

constexpr auto kGenerous = 60s;  // a deadline no test run comes near

/// Receives outcomes by callback; counts them per submission index to check exactly-once.
class Collector {
 public:
  explicit Collector(std::size_t jobs) : per_job_(jobs) {}
  Engine::Callback callback(std::size_t index) {
    return [this, index](Outcome o) {
      std::lock_guard lock(mu_);
      per_job_[index].push_back(std::move(o));
      order_.push_back(index);
      ++total_;
      cv_.notify_all();
    };
  }
  bool wait_for(std::size_t total, std::chrono::seconds timeout = 120s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return total_ >= total; });
  }
  std::vector<std::vector<Outcome>> per_job() const {
    std::lock_guard lock(mu_);
    return per_job_;
  }
  std::vector<std::size_t> order() const {
    std::lock_guard lock(mu_);
    return order_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<Outcome>> per_job_;
  std::vector<std::size_t> order_;
  std::size_t total_ = 0;
};

EngineConfig config_with(const std::string& policy, std::size_t max_pending = 256, int max_batch = 8) {
  EngineConfig c;
  c.policy = policy;
  c.max_pending = max_pending;
  c.policy_config.max_batch = max_batch;
  return c;
}

bool ready_now(std::future<Outcome>& f) { return f.wait_for(0s) == std::future_status::ready; }

TEST(Engine, FutureFormAnswersEveryJobFromItsDeepestExitLikeTheOfflineModel) {
  const auto ref = reference("cnn3");
  const auto xs = inputs("cnn3");
  Engine engine(one_model("cnn3"), config_with("edf-full"));
  EXPECT_EQ(engine.policy_name(), "edf-full");
  std::vector<std::future<Outcome>> futures;
  const Time before = engine.now();
  for (const auto& x : xs) futures.push_back(engine.submit(0, x, kGenerous));
  std::set<JobId> ids;
  for (std::size_t i = 0; i < futures.size(); ++i) {
    const Outcome o = futures[i].get();
    ASSERT_EQ(o.status, OutcomeStatus::completed) << o.message;
    EXPECT_EQ(o.depth, 3);
    EXPECT_EQ(o.exit, 3);
    EXPECT_EQ(o.prediction, ref[2][i].prediction) << "input " << i;
    EXPECT_NEAR(o.confidence, ref[2][i].confidence, 1e-4);
    EXPECT_TRUE(o.message.empty());
    EXPECT_EQ(o.model, 0);
    EXPECT_GE(o.release, before);
    EXPECT_NE(o.start, kNever);
    EXPECT_LE(o.release, o.start);
    EXPECT_LE(o.start, o.finish);
    EXPECT_GT(o.run, 0);
    EXPECT_GE(o.queued(), 0);
    EXPECT_GT(o.slack(), 0);  // answered long before a 60 s deadline
    EXPECT_TRUE(ids.insert(o.job).second) << "job ids are unique";
  }
}

TEST(Engine, CallbackFormDeliversOneOutcomePerJobWithItsId) {
  const auto ref = reference("cnn3");
  const auto xs = inputs("cnn3");
  Collector got(xs.size());
  std::vector<JobId> ids;
  {
    Engine engine(one_model("cnn3"), config_with("yao-dp"));
    for (std::size_t i = 0; i < xs.size(); ++i) ids.push_back(engine.submit(0, xs[i], kGenerous, got.callback(i)));
    ASSERT_TRUE(got.wait_for(xs.size()));
  }
  const auto per_job = got.per_job();
  for (std::size_t i = 0; i < xs.size(); ++i) {
    ASSERT_EQ(per_job[i].size(), 1u);
    const Outcome& o = per_job[i][0];
    EXPECT_NE(ids[i], kNotAdmitted);
    EXPECT_EQ(o.job, ids[i]);
    ASSERT_EQ(o.status, OutcomeStatus::completed);
    // yao-dp with the default utility (deeper is better) and a generous deadline runs every stage.
    EXPECT_EQ(o.exit, 3);
    EXPECT_EQ(o.prediction, ref[2][i].prediction);
  }
}

TEST(Engine, PolicyThatStopsAtTheMandatoryExitIsAnsweredFromThatExit) {
  const auto ref = reference("cnn3");
  const auto xs = inputs("cnn3");
  Engine engine(one_model("cnn3"), config_with("edf-mandatory"));
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Outcome o = engine.submit(0, xs[i], kGenerous).get();
    ASSERT_EQ(o.status, OutcomeStatus::completed);
    EXPECT_EQ(o.depth, 1);
    EXPECT_EQ(o.exit, 1);
    EXPECT_EQ(o.prediction, ref[0][i].prediction);
    EXPECT_NEAR(o.confidence, ref[0][i].confidence, 1e-4);
  }
}

TEST(Engine, CalibratedBestAnswerRulePicksTheFinishedExitTheUtilityRatesHighest) {
  const auto ref = reference("cnn3");
  const auto xs = inputs("cnn3");
  // A utility that rates exit 1 above the deeper ones whatever the confidence: the answer must come
  // from exit 1 although all three ran.
  auto models = one_model("cnn3");
  const std::vector<double> accuracy{0.9, 0.5, 0.4};
  models[0].description.utility = nn::utility_from_accuracy(accuracy);
  EngineConfig config = config_with("edf-full");
  config.answer = AnswerRule::calibrated_best;
  Engine engine(std::move(models), config);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Outcome o = engine.submit(0, xs[i], kGenerous).get();
    ASSERT_EQ(o.status, OutcomeStatus::completed);
    EXPECT_EQ(o.depth, 3);
    EXPECT_EQ(o.exit, 1);
    EXPECT_EQ(o.prediction, ref[0][i].prediction);
  }
}

TEST(Engine, DeadlineAlreadyPastIsRejectedAtOnce) {
  const auto xs = inputs("cnn3");
  Engine engine(one_model("cnn3"), config_with("yao-dp"));
  auto f = engine.submit(0, xs[0], Clock::now() - 1ms);
  ASSERT_TRUE(ready_now(f)) << "answered inside submit()";
  const Outcome o = f.get();
  EXPECT_EQ(o.status, OutcomeStatus::rejected);
  EXPECT_EQ(o.job, kNotAdmitted);
  EXPECT_NE(o.message.find("deadline already passed"), std::string::npos) << o.message;
  auto oldest = engine.submit(0, xs[0], Clock::time_point::min());  // no overflow at the clock's edge
  ASSERT_TRUE(ready_now(oldest));
  EXPECT_EQ(oldest.get().status, OutcomeStatus::rejected);

  bool called = false;
  Outcome via_callback;
  const JobId id = engine.submit(0, xs[0], -5ms, [&](Outcome out) {
    called = true;
    via_callback = std::move(out);
  });
  EXPECT_TRUE(called) << "the callback ran before submit() returned";
  EXPECT_EQ(id, kNotAdmitted);
  EXPECT_EQ(via_callback.status, OutcomeStatus::rejected);
}

TEST(Engine, BadRequestsFailWithAMessageAndTheEngineKeepsServing) {
  const auto xs = inputs("cnn3");
  Engine engine(one_model("cnn3"), config_with("yao-dp"));
  auto wrong_shape = engine.submit(0, nn::Tensor({1, 5}), kGenerous);
  ASSERT_TRUE(ready_now(wrong_shape));
  Outcome o = wrong_shape.get();
  EXPECT_EQ(o.status, OutcomeStatus::failed);
  EXPECT_NE(o.message.find("shape"), std::string::npos) << o.message;

  o = engine.submit(7, xs[0], kGenerous).get();
  EXPECT_EQ(o.status, OutcomeStatus::failed);
  EXPECT_NE(o.message.find("unknown model 7"), std::string::npos) << o.message;

  o = engine.submit(0, xs[0], kGenerous, -1.0).get();
  EXPECT_EQ(o.status, OutcomeStatus::failed);
  EXPECT_NE(o.message.find("weight"), std::string::npos) << o.message;

  o = engine.submit(0, xs[0], kGenerous).get();
  EXPECT_EQ(o.status, OutcomeStatus::completed) << "a bad request does not disturb the engine";

  // Deadlines at the end of time neither overflow nor expire.
  o = engine.submit(0, xs[0], Clock::time_point::max()).get();
  EXPECT_EQ(o.status, OutcomeStatus::completed);
  EXPECT_EQ(o.deadline, o.release + (Duration{1} << 52)) << "clamped to about 52 days";
  o = engine.submit(0, xs[0], Clock::duration::max()).get();
  EXPECT_EQ(o.status, OutcomeStatus::completed);
}

TEST(Engine, BeyondMaxPendingJobsAreRejectedAsQueueFull) {
  const auto xs = inputs("cnn3");
  constexpr std::size_t kJobs = 1000;
  Collector got(kJobs);
  {
    Engine engine(one_model("cnn3"), config_with("edf-full", /*max_pending=*/4));
    EXPECT_EQ(engine.max_pending(), 4u);
    // Submitting takes microseconds, serving a job to full depth far longer: the 4 slots fill up.
    for (std::size_t i = 0; i < kJobs; ++i) engine.submit(0, xs[i % xs.size()], kGenerous, got.callback(i));
    ASSERT_TRUE(got.wait_for(kJobs));
  }
  std::size_t completed = 0, queue_full = 0;
  for (const auto& outcomes : got.per_job()) {
    ASSERT_EQ(outcomes.size(), 1u);
    const Outcome& o = outcomes[0];
    if (o.status == OutcomeStatus::completed) ++completed;
    if (o.status == OutcomeStatus::rejected) {
      EXPECT_NE(o.message.find("queue full"), std::string::npos) << o.message;
      ++queue_full;
    }
  }
  EXPECT_EQ(completed + queue_full, kJobs);
  EXPECT_GE(completed, 4u);
  EXPECT_GT(queue_full, 0u);
}

TEST(Engine, AtItsDeadlineAJobIsAnsweredWithoutWaitingForTheBusyLane) {
  // FIFO order and batches of one: a job submitted behind a long queue cannot run before its
  // deadline. It must be answered at that deadline, long before the queue ahead of it drains.
  const auto xs = inputs("cnn3");
  const Duration full = full_depth_time(measured_profile("cnn3", 8));
  const std::size_t ahead = static_cast<std::size_t>(std::clamp<Duration>(from_ms(40) / std::max<Duration>(full, 1), 50, 2000));
  Collector got(ahead + 1);
  {
    Engine engine(one_model("cnn3"), config_with("fifo-full", ahead + 1, /*max_batch=*/1));
    for (std::size_t i = 0; i < ahead; ++i) engine.submit(0, xs[i % xs.size()], kGenerous, got.callback(i));
    engine.submit(0, xs[0], 2ms, got.callback(ahead));
    ASSERT_TRUE(got.wait_for(ahead + 1));
  }
  const auto per_job = got.per_job();
  ASSERT_EQ(per_job[ahead].size(), 1u);
  const Outcome& late = per_job[ahead][0];
  EXPECT_EQ(late.status, OutcomeStatus::missed);
  EXPECT_EQ(late.depth, 0);
  EXPECT_EQ(late.exit, 0);
  EXPECT_EQ(late.prediction, -1);
  EXPECT_GE(late.finish, late.deadline) << "answered at the deadline, not before";
  const auto order = got.order();
  const auto position = std::find(order.begin(), order.end(), ahead) - order.begin();
  EXPECT_LT(static_cast<std::size_t>(position), ahead) << "answered before the jobs ahead of it all finished";
  for (std::size_t i = 0; i < ahead; ++i) {
    ASSERT_EQ(per_job[i].size(), 1u);
    EXPECT_EQ(per_job[i][0].status, OutcomeStatus::completed);
  }
}

TEST(Engine, AtTenTimesTheSustainableRateEveryJobGetsExactlyOneOutcome) {
  const auto xs = inputs("cnn3");
  auto metrics = std::make_shared<MetricsObserver>();
  EngineConfig config = config_with("yao-dp", /*max_pending=*/64);
  config.observers.push_back(metrics);
  Engine engine(one_model("cnn3"), config);
  // The sustainable rate of this engine on this machine, dispatcher overheads included: one job at a
  // time to full depth.
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(engine.submit(0, xs[i % xs.size()], kGenerous).get().exit, 3);
  const auto per_job = (Clock::now() - t0) / 100;
  const auto interval = per_job / 10;
  const auto deadline = std::max<Clock::duration>(5 * per_job, 1ms);
  constexpr std::size_t kJobs = 3000;
  Collector got(kJobs + 1);
  auto next = Clock::now();
  for (std::size_t i = 0; i < kJobs; ++i) {
    std::this_thread::sleep_until(next);  // catches up after an oversleep: the mean rate holds
    next += interval;
    engine.submit(0, xs[i % xs.size()], deadline, got.callback(i));
  }
  // Still serving once the overload has passed (every overload job ends by its deadline).
  ASSERT_TRUE(got.wait_for(kJobs));
  const Outcome after = engine.submit(0, xs[0], kGenerous).get();
  EXPECT_EQ(after.status, OutcomeStatus::completed) << after.message;
  engine.submit(0, xs[1], kGenerous, got.callback(kJobs));
  engine.stop(StopMode::drain);
  std::size_t by_status[4] = {0, 0, 0, 0};
  for (const auto& outcomes : got.per_job()) {
    ASSERT_EQ(outcomes.size(), 1u) << "exactly one outcome per job";
    ++by_status[static_cast<int>(outcomes[0].status)];
  }
  EXPECT_EQ(by_status[0] + by_status[1] + by_status[2] + by_status[3], kJobs + 1);
  std::printf("overload: %.1f us per job alone, %zu jobs every %.2f us: %zu completed, %zu missed, %zu rejected\n",
              to_us(std::chrono::nanoseconds(per_job).count()), kJobs, to_us(std::chrono::nanoseconds(interval).count()),
              by_status[0], by_status[1], by_status[2]);
  EXPECT_EQ(by_status[static_cast<int>(OutcomeStatus::failed)], 0u);
  EXPECT_GT(by_status[static_cast<int>(OutcomeStatus::completed)], 0u);
  EXPECT_GT(by_status[static_cast<int>(OutcomeStatus::rejected)] + by_status[static_cast<int>(OutcomeStatus::missed)], 0u)
      << "10x overload sheds work";
  const MetricsSnapshot m = metrics->snapshot();
  EXPECT_EQ(m.outcomes(), static_cast<std::int64_t>(kJobs + 102));
  EXPECT_LE(m.admitted, static_cast<std::int64_t>(kJobs + 102));
}

TEST(Engine, ConcurrentSubmittersAndAStopMidwayStillGiveEachJobOneOutcome) {
  const auto xs = inputs("cnn3");
  constexpr std::size_t kThreads = 4, kPerThread = 400;
  Collector got(kThreads * kPerThread);
  Engine engine(one_model("cnn3"), config_with("yao-dp", /*max_pending=*/32));
  std::atomic<bool> go{false};
  std::vector<std::thread> submitters;
  for (std::size_t t = 0; t < kThreads; ++t)
    submitters.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (std::size_t i = 0; i < kPerThread; ++i) {
        const std::size_t index = t * kPerThread + i;
        // A mix: generous, tight, already past.
        const auto deadline = i % 3 == 0 ? Clock::now() + kGenerous
                                         : (i % 3 == 1 ? Clock::now() + 300us : Clock::now() - 1us);
        engine.submit(0, xs[index % xs.size()], deadline, got.callback(index));
        if (i == kPerThread / 2 && t == 0) engine.stop(StopMode::cancel);  // stop while the others submit
      }
    });
  go.store(true);
  for (auto& th : submitters) th.join();
  ASSERT_TRUE(got.wait_for(kThreads * kPerThread));
  std::size_t stopping = 0;
  for (const auto& outcomes : got.per_job()) {
    ASSERT_EQ(outcomes.size(), 1u) << "exactly one outcome per job";
    if (outcomes[0].message == "engine is stopping") ++stopping;
  }
  EXPECT_GT(stopping, 0u) << "jobs submitted after the stop were refused";
}

TEST(Engine, CancellingStopGivesEveryJobInFlightItsOutcome) {
  const auto xs = inputs("cnn3");
  std::vector<std::future<Outcome>> futures;
  {
    Engine engine(one_model("cnn3"), config_with("edf-full", 512));
    for (std::size_t i = 0; i < 300; ++i) futures.push_back(engine.submit(0, xs[i % xs.size()], kGenerous));
  }  // the destructor cancels whatever is pending
  std::size_t completed = 0, cancelled = 0;
  for (auto& f : futures) {
    ASSERT_TRUE(ready_now(f));
    const Outcome o = f.get();  // a broken promise would throw here
    if (o.status == OutcomeStatus::completed) {
      ++completed;
      EXPECT_GE(o.exit, 1);
    } else {
      ASSERT_EQ(o.status, OutcomeStatus::rejected);
      EXPECT_NE(o.message.find("cancelled"), std::string::npos) << o.message;
      ++cancelled;
    }
  }
  EXPECT_EQ(completed + cancelled, 300u);
}

TEST(Engine, DrainingStopServesThePendingJobsAndRefusesNewOnes) {
  const auto xs = inputs("cnn3");
  std::vector<std::future<Outcome>> futures;
  Engine engine(one_model("cnn3"), config_with("edf-full", 128));
  for (std::size_t i = 0; i < 100; ++i) futures.push_back(engine.submit(0, xs[i % xs.size()], kGenerous));
  engine.stop(StopMode::drain);
  for (auto& f : futures) {
    ASSERT_TRUE(ready_now(f));
    const Outcome o = f.get();
    EXPECT_EQ(o.status, OutcomeStatus::completed);
    EXPECT_EQ(o.exit, 3);
  }
  auto late = engine.submit(0, xs[0], kGenerous);
  ASSERT_TRUE(ready_now(late));
  const Outcome o = late.get();
  EXPECT_EQ(o.status, OutcomeStatus::rejected);
  EXPECT_NE(o.message.find("stopping"), std::string::npos);
  engine.stop();  // idempotent
}

TEST(Engine, CallbackMaySubmitAgain) {
  const auto xs = inputs("cnn3");
  std::promise<Outcome> second;
  auto second_future = second.get_future();
  Engine engine(one_model("cnn3"), config_with("yao-dp"));
  engine.submit(0, xs[0], kGenerous, [&](Outcome) {
    engine.submit(0, xs[1], kGenerous, [&](Outcome o) { second.set_value(std::move(o)); });
  });
  ASSERT_EQ(second_future.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(second_future.get().status, OutcomeStatus::completed);
}

TEST(Engine, CallbackMayStopTheEngineWithoutDeadlock) {
  // Outcomes are delivered on engine threads (the dispatcher or the lane that ran the pass): stop()
  // from there must only request the stop, and every other job still gets its one outcome.
  const auto xs = inputs("cnn3");
  std::atomic<int> outcomes{0};
  std::promise<void> stopped;
  auto stopped_future = stopped.get_future();
  {
    Engine engine(one_model("cnn3"), config_with("edf-full"));
    engine.submit(0, xs[0], kGenerous, [&](Outcome) {
      ++outcomes;
      engine.stop(StopMode::cancel);
      stopped.set_value();
    });
    for (int i = 1; i < 8; ++i) engine.submit(0, xs[static_cast<std::size_t>(i) % xs.size()], kGenerous, [&](Outcome) { ++outcomes; });
    ASSERT_EQ(stopped_future.wait_for(60s), std::future_status::ready);
  }  // the destructor joins: it must not hang
  EXPECT_EQ(outcomes.load(), 8);
}

TEST(Engine, StageTimesMeasuredWhileServingReplaceTheProfile) {
  // Claim every stage takes 1 us: far below what the CPU really needs.
  const Profile& real = measured_profile("cnn3", 8);
  std::vector<std::vector<StageTiming>> table(3, std::vector<StageTiming>(real.batch_sizes().size(),
                                                                          StageTiming{1000, 1000, 1000, 1000}));
  const Profile claimed(real.batch_sizes(), table);
  auto metrics = std::make_shared<MetricsObserver>();
  EngineConfig config = config_with("edf-full");
  config.online_profile.min_samples = 4;
  config.online_profile.every = 2;
  config.observers.push_back(metrics);
  Engine engine(one_model("cnn3", 8, &claimed), config);
  EXPECT_EQ(engine.profile(0).timing(0, 1).p50, 1000);
  const auto xs = inputs("cnn3");
  for (int i = 0; i < 12; ++i) {  // one at a time: every stage runs at batch 1
    const Outcome o = engine.submit(0, xs[static_cast<std::size_t>(i) % xs.size()], kGenerous).get();
    ASSERT_EQ(o.status, OutcomeStatus::completed);
  }
  const Profile now = engine.profile(0);
  for (int s = 0; s < 3; ++s) {
    const StageTiming& t = now.timing(s, 1);
    EXPECT_GT(t.p50, 1000) << "stage " << s << ": the measured time replaced the claim";
    EXPECT_LE(t.p50, t.p99);
    EXPECT_LE(t.p99, t.max);
  }
  EXPECT_EQ(now.timing(0, 8).p50, 1000) << "batch 8 never ran: its column keeps the claim";
  EXPECT_GE(metrics->snapshot().profile_updates, 3);
}

/// Longest stage time of (model 0, stage 0, batch 1) the lanes reported.
class StageZeroTimes final : public Observer {
 public:
  void on_stage_done(int, ModelId model, int stage, std::span<const JobInfo> jobs, Time start, Time end,
                     bool) override {
    if (model == 0 && stage == 0 && jobs.size() == 1) longest = std::max<Duration>(longest, end - start);
  }
  std::atomic<Duration> longest{0};
};

TEST(Engine, OnlineProfileRecordsTheWholeCycleOrTheStageAlone) {
  const Profile& real = measured_profile("cnn3", 8);
  for (const bool overhead : {false, true}) {
    auto stages = std::make_shared<StageZeroTimes>();
    EngineConfig config = config_with("edf-full");
    config.online_profile.include_overhead = overhead;
    config.online_profile.min_samples = 4;
    config.online_profile.every = 1;
    config.online_profile.window = 64;
    config.observers.push_back(stages);
    Engine engine(one_model("cnn3", 8, &real), config);
    const auto xs = inputs("cnn3");
    for (int i = 0; i < 12; ++i) ASSERT_EQ(engine.submit(0, xs[0], kGenerous).get().status, OutcomeStatus::completed);
    engine.stop();
    const Duration recorded_max = engine.profile(0).timing(0, 1).max;
    if (overhead)  // every cycle holds its stage and then some
      EXPECT_GT(recorded_max, stages->longest.load());
    else
      EXPECT_EQ(recorded_max, stages->longest.load());
  }
}

TEST(Engine, OnlineProfileCanBeSwitchedOff) {
  const Profile& real = measured_profile("cnn3", 8);
  std::vector<std::vector<StageTiming>> table(3, std::vector<StageTiming>(real.batch_sizes().size(),
                                                                          StageTiming{1000, 1000, 1000, 1000}));
  const Profile claimed(real.batch_sizes(), table);
  EngineConfig config = config_with("edf-full");
  config.online_profile.enabled = false;
  Engine engine(one_model("cnn3", 8, &claimed), config);
  const auto xs = inputs("cnn3");
  for (int i = 0; i < 20; ++i) ASSERT_EQ(engine.submit(0, xs[0], kGenerous).get().status, OutcomeStatus::completed);
  EXPECT_EQ(engine.profile(0).timing(0, 1).p50, 1000);
}

TEST(Engine, SeveralModelsAreServedSideBySide) {
  std::vector<ServedModel> models;
  models.push_back(testing::served("cnn3", 4));
  models.push_back(testing::served("pointnet", 4));
  Engine engine(std::move(models), config_with("yao-dp"));
  ASSERT_EQ(engine.models(), 2u);
  const auto a = inputs("cnn3");
  const auto b = inputs("pointnet");
  const auto ref_b = reference("pointnet");
  std::vector<std::future<Outcome>> fa, fb;
  for (std::size_t i = 0; i < 8; ++i) {
    fa.push_back(engine.submit(0, a[i], kGenerous));
    fb.push_back(engine.submit(1, b[i], kGenerous));
  }
  for (std::size_t i = 0; i < 8; ++i) {
    const Outcome oa = fa[i].get(), ob = fb[i].get();
    EXPECT_EQ(oa.status, OutcomeStatus::completed);
    EXPECT_EQ(oa.model, 0);
    ASSERT_EQ(ob.status, OutcomeStatus::completed);
    EXPECT_EQ(ob.model, 1);
    EXPECT_EQ(ob.prediction, ref_b[static_cast<std::size_t>(ob.exit - 1)][i].prediction);
  }
}

TEST(Engine, SetupErrorsThrowNamingTheProblem) {
  EXPECT_THROW(Engine(std::vector<ServedModel>{}, {}), Error);
  {
    auto models = one_model("cnn3");
    models[0].description.utility = UtilityModel{};
    try {
      Engine e(std::move(models), {});
      FAIL() << "expected Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("utility"), std::string::npos) << e.what();
    }
  }
  {
    EngineConfig c;
    c.policy = "no-such-policy";
    EXPECT_THROW(Engine(one_model("cnn3"), c), Error);
  }
  {
    // A profile measured at batch 8 cannot drive a network compiled for batches of 4.
    std::vector<ServedModel> models;
    models.push_back(ServedModel{testing::load_network("cnn3", 4),
                                 nn::describe(testing::load_network("cnn3", 8), measured_profile("cnn3", 8))});
    EXPECT_THROW(Engine(std::move(models), {}), Error);
  }
}

TEST(Engine, TraceIsValidJsonWithLaneSlicesAndOutcomeMarkers) {
  const auto xs = inputs("cnn3");
  const std::string path =
      (std::filesystem::temp_directory_path() / ("imprecise_trace_" + std::to_string(::getpid()) + ".json")).string();
  auto trace = std::make_shared<TraceWriter>(path);
  const Duration full = full_depth_time(measured_profile("cnn3", 8));
  const std::size_t ahead = static_cast<std::size_t>(std::clamp<Duration>(from_ms(20) / std::max<Duration>(full, 1), 30, 1000));
  EngineConfig config = config_with("fifo-full", ahead + 8, /*max_batch=*/1);
  config.observers.push_back(trace);
  {
    Engine engine(one_model("cnn3"), config);
    std::vector<std::future<Outcome>> futures;
    for (std::size_t i = 0; i < ahead; ++i) futures.push_back(engine.submit(0, xs[i % xs.size()], kGenerous));
    futures.push_back(engine.submit(0, xs[0], 1ms));  // behind 20 ms of work in FIFO order: missed
    futures.push_back(engine.submit(0, xs[0], Clock::now() - 1ms));  // rejected at once
    futures.push_back(engine.submit(0, nn::Tensor({2, 2}), kGenerous));  // failed at once
    for (auto& f : futures) f.wait();
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good());
  nlohmann::json doc;
  ASSERT_NO_THROW(doc = nlohmann::json::parse(in));
  const auto& events = doc.at("traceEvents");
  int slices = 0, lane_names = 0;
  std::set<std::string> markers;
  std::set<std::int64_t> jobs_in_slices;
  for (const auto& e : events) {
    const std::string ph = e.at("ph");
    if (ph == "M" && e.at("name") == "thread_name" && e.at("args").at("name") == "lane 0") ++lane_names;
    if (ph == "X") {
      ++slices;
      EXPECT_EQ(e.at("tid"), 1);
      EXPECT_EQ(e.at("cat"), "stage");
      EXPECT_GE(e.at("dur").get<double>(), 0.0);
      EXPECT_EQ(e.at("args").at("batch"), 1);
      for (const auto& id : e.at("args").at("jobs")) jobs_in_slices.insert(id.get<std::int64_t>());
      const std::string name = e.at("name");
      EXPECT_EQ(name.rfind("cnn3 stage ", 0), 0u) << name;
    }
    if (ph == "i") {
      markers.insert(e.at("name").get<std::string>());
      EXPECT_EQ(e.at("tid"), 0);
    }
  }
  EXPECT_EQ(lane_names, 1);
  EXPECT_EQ(slices, static_cast<int>(ahead) * 3) << "every stage of the served jobs is a slice";
  EXPECT_EQ(jobs_in_slices.size(), ahead);
  EXPECT_TRUE(markers.count("miss"));
  EXPECT_TRUE(markers.count("reject"));
  EXPECT_TRUE(markers.count("fail"));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace imprecise::runtime
