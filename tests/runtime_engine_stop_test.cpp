// Engine: every job gets exactly one outcome under overload, concurrent submitters, stop (cancel, drain) and callbacks that submit or stop.
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
using namespace testing;  // runtime_fixtures.hpp: models, inputs, Collector, config_with, ...

TEST(Engine, AtTenTimesTheSustainableRateEveryJobGetsExactlyOneOutcome) {
  const auto xs = inputs("cnn3");
  auto metrics = std::make_shared<MetricsObserver>();
  EngineConfig config = config_with("yao-dp", /*max_pending=*/64);
  config.observers.push_back(metrics);
  Engine engine(one_model("cnn3"), config);
  // The sustainable rate of this engine on this machine, dispatcher overheads included: one job at a
  // time to full depth; 10 times it.
  Overload run;
  ASSERT_NO_FATAL_FAILURE(run_overload(engine, xs, /*factor=*/10, run));
  const auto& by_status = run.by_status;
  const std::size_t kJobs = run.jobs;
  EXPECT_EQ(by_status[0] + by_status[1] + by_status[2] + by_status[3], kJobs + 1);
  std::printf("overload: %.1f us per job alone, %zu jobs every %.2f us: %zu completed, %zu missed, %zu rejected\n",
              to_us(std::chrono::nanoseconds(run.per_job).count()), kJobs,
              to_us(std::chrono::nanoseconds(run.interval).count()),
              by_status[0], by_status[1], by_status[2]);
  EXPECT_EQ(by_status[static_cast<int>(OutcomeStatus::failed)], 0u);
  EXPECT_GT(by_status[static_cast<int>(OutcomeStatus::completed)], 0u);
  EXPECT_GT(by_status[static_cast<int>(OutcomeStatus::rejected)] + by_status[static_cast<int>(OutcomeStatus::missed)], 0u)
      << "10x overload sheds work";
  const MetricsSnapshot m = metrics->snapshot();
  EXPECT_EQ(m.outcomes(), static_cast<std::int64_t>(kJobs + 102));
  EXPECT_EQ(engine.protocol_violations(), 0) << "the shipped policies never break the protocol, even at 10x overload";
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

}  // namespace
}  // namespace imprecise::runtime
