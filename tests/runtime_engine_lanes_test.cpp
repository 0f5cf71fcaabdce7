// Engine with several executor lanes: exactly one outcome per job under overload and a stop midway, real
// concurrency (stage slices on two lanes overlap in time), and the lanes setting checked.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "imprecise/error.hpp"
#include "imprecise/runtime/engine.hpp"
#include "lane_slice_recorder.hpp"
#include "runtime_fixtures.hpp"

namespace imprecise::runtime {
namespace {

using namespace std::chrono_literals;
using namespace testing;  // runtime_fixtures.hpp

EngineConfig two_lanes(const std::string& policy, std::size_t max_pending = 64) {
  return lanes_config(policy, 2, max_pending);
}

TEST(EngineLanes, AtTenTimesTheSustainableRateEveryJobGetsExactlyOneOutcome) {
  const auto xs = inputs("cnn3");
  Engine engine(one_model("cnn3"), two_lanes("yao-dp"));
  EXPECT_EQ(engine.lanes(), 2);
  Overload run;
  ASSERT_NO_FATAL_FAILURE(run_overload(engine, xs, /*factor=*/20, run));  // two lanes: 10x of twice one job at a time
  const auto& by_status = run.by_status;
  std::printf("2 lanes, overload: %zu completed, %zu missed, %zu rejected, %zu failed\n", by_status[0], by_status[1],
              by_status[2], by_status[3]);
  EXPECT_EQ(by_status[static_cast<int>(OutcomeStatus::failed)], 0u);
  EXPECT_GT(by_status[static_cast<int>(OutcomeStatus::completed)], 0u);
  EXPECT_EQ(engine.protocol_violations(), 0);
}

TEST(EngineLanes, AStopInTheMiddleStillGivesEachJobOneOutcome) {
  ASSERT_NO_FATAL_FAILURE(stop_midway(inputs("cnn3"), [] {
    return std::make_unique<Engine>(one_model("cnn3"), two_lanes("yao-dp"));
  }));
}

TEST(EngineLanes, BatchesAreInFlightOnTwoLanesAtOnce) {
  const auto xs = inputs("resnet_skip");
  auto slices = std::make_shared<SliceRecorder>();
  EngineConfig config = two_lanes("edf-full", 256);
  config.observers.push_back(slices);
  Engine engine(one_model("resnet_skip"), config);
  const auto overlapping = [&] { return slices->overlapped(0, 1); };
  // Backlogs with generous deadlines keep both lanes busy: a batch is handed to one lane while the
  // other's is still in flight (from its dispatch to its end). That is the scheduler's concurrency and
  // holds on a machine whose other core is taken; whether the stages then run in parallel is the CPU's
  // business (measured by edge_server, README "Concurrency and controllers"). A few backlogs are allowed.
  for (int round = 0; round < 20 && !overlapping(); ++round) {
    std::vector<std::future<Outcome>> futures;
    for (std::size_t i = 0; i < 200; ++i) futures.push_back(engine.submit(0, xs[i % xs.size()], kGenerous));
    for (auto& f : futures) EXPECT_EQ(f.get().status, OutcomeStatus::completed);
  }
  for (const auto& a : slices->slices()) {
    ASSERT_GE(a.lane, 0);
    ASSERT_LT(a.lane, 2);
  }
  EXPECT_GT(slices->per_lane()[0], 0);
  EXPECT_GT(slices->per_lane()[1], 0);
  EXPECT_TRUE(overlapping()) << "two lanes held batches at the same time";
}

TEST(EngineLanes, TheOnlineProfileRecordsIntoTheTablePlannedAtThatConcurrency) {
  const auto xs = inputs("cnn3");
  std::vector<ServedModel> models = one_model("cnn3");
  // A 2-lane table 50x the alone one: the engine plans with it, and measured times replace it.
  const Profile& alone = models[0].description.profile;
  std::vector<std::vector<StageTiming>> slow = alone.table();
  for (auto& row : slow)
    for (StageTiming& t : row) t = StageTiming{t.mean * 50, t.p50 * 50, t.p99 * 50, t.max * 50};
  models[0].description.concurrent.emplace_back(alone.batch_sizes(), slow, "slow 2-lane table");
  const Duration planned_before = models[0].description.concurrent[0].timing(0, 1).p99;
  const Duration planned_p50 = models[0].description.concurrent[0].timing(0, 1).p50;
  EngineConfig config = two_lanes("fifo-full");
  config.policy_config.max_batch = 1;  // every stage at batch 1: that column fills up
  config.online_profile.min_samples = 4;
  config.online_profile.every = 1;
  Engine engine(std::move(models), config);
  EXPECT_EQ(engine.profile(0).timing(0, 1).p99, planned_before) << "plans with profile_at(lanes)";
  std::vector<std::future<Outcome>> futures;
  for (std::size_t i = 0; i < 64; ++i) futures.push_back(engine.submit(0, xs[i % xs.size()], kGenerous));
  for (auto& f : futures) EXPECT_EQ(f.get().status, OutcomeStatus::completed);
  // (Measured cycles may be as slow as the made-up table on a loaded machine: only "replaced" is checked.)
  EXPECT_NE(engine.profile(0).timing(0, 1).p50, planned_p50) << "measured times went into the 2-lane table";
}

TEST(EngineLanes, LanesBelowOneIsAnErrorNamingTheField) {
  EngineConfig config = config_with("yao-dp");
  config.lanes = 0;
  try {
    Engine engine(one_model("cnn3"), config);
    FAIL() << "lanes = 0 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lanes"), std::string::npos) << e.what();
  }
  std::vector<ServedModel> models = one_model("cnn3");
  models[0].description.concurrent.push_back(Profile({1}, {{StageTiming{1, 1, 1, 1}}}, "one stage"));
  try {
    Engine engine(std::move(models), two_lanes("yao-dp"));
    FAIL() << "a 2-lane table with the wrong stages accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("concurrent[0]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace imprecise::runtime
