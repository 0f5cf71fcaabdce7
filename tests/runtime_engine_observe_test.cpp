// Engine: the online profile (stage or whole cycle, switched off) and the Chrome trace.
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
