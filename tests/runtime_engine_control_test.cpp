// Engine with a controller (EngineConfig::controller): its settings reach every dispatch, each interval is
// recorded, and under overload with lanes and settings changing every interval each job still gets
// exactly one outcome.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "imprecise/runtime/engine.hpp"
#include "runtime_fixtures.hpp"
#include "support/expect_error.hpp"

namespace imprecise::runtime {
namespace {

using namespace std::chrono_literals;
using namespace testing;  // runtime_fixtures.hpp

/// Alternates every interval between {batch 1, one lane} and {batch 4, every lane}, counting its calls.
class Alternating final : public Controller {
 public:
  std::string_view name() const override { return "alternating"; }
  void decide(const ControlObservation&, std::span<ModelControl> next) override {
    const bool small = calls_++ % 2 == 0;
    for (ModelControl& c : next) c = small ? ModelControl{1, 0, 1} : ModelControl{4, 0, 0};
  }
  int calls() const { return calls_.load(); }

 private:
  std::atomic<int> calls_{0};
};

/// The largest batch dispatched.
class LargestBatch final : public Observer {
 public:
  void on_dispatch(int, ModelId, int, std::span<const JobInfo> jobs, Time) override {
    std::lock_guard lock(mu_);
    largest_ = std::max(largest_, jobs.size());
  }
  std::size_t largest() const {
    std::lock_guard lock(mu_);
    return largest_;
  }

 private:
  mutable std::mutex mu_;
  std::size_t largest_ = 0;
};

/// Holds {batch 2}: a Triton-like static setting.
class HoldsBatchTwo final : public Controller {
 public:
  std::string_view name() const override { return "batch-two"; }
  void decide(const ControlObservation&, std::span<ModelControl> next) override {
    for (ModelControl& c : next) c = ModelControl{2, 0, 0};
  }
};

/// Records, at each decision, the revision of model 0's planning table in the models it is given.
class ProfileProbe final : public Controller {
 public:
  std::string_view name() const override { return "profile-probe"; }
  void decide(const ControlObservation& o, std::span<ModelControl>) override {
    std::lock_guard lock(mu_);
    if (!o.planned_models.empty()) revisions_.push_back(o.planned_models[0].profile_at(o.lanes).revision());
    else ++without_models_;
  }
  std::vector<std::uint64_t> revisions() const {
    std::lock_guard lock(mu_);
    return revisions_;
  }
  int without_models() const {
    std::lock_guard lock(mu_);
    return without_models_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::uint64_t> revisions_;
  int without_models_ = 0;
};

TEST(EngineControl, TheControllerSeesTheProfilesTheEngineMeasuresWhileServing) {
  // What a stage costs while serving is not what the offline profile says (cold caches, the engine's
  // own work): a controller that predicts from profiles must be given the engine's, which online
  // profiling updates, not the tables it was built with.
  const auto xs = inputs("cnn3");
  auto probe = std::make_shared<ProfileProbe>();
  EngineConfig config = config_with("edf-full", 128);
  config.controller = probe;
  config.control.interval = from_ms(2);
  std::vector<ServedModel> served = one_model("cnn3");
  const std::uint64_t offline = served[0].description.profile.revision();  // the engine's copy starts with it
  Engine engine(std::move(served), config);
  for (int round = 0; round < 6; ++round) {  // even in batches of 8, every stage gets 16 times and more
    std::vector<std::future<Outcome>> futures;
    for (std::size_t i = 0; i < 40; ++i) futures.push_back(engine.submit(0, xs[i % xs.size()], kGenerous));
    for (auto& f : futures) EXPECT_EQ(f.get().status, OutcomeStatus::completed);
    std::this_thread::sleep_for(5ms);  // an interval ends after the online figures changed
  }
  engine.stop(StopMode::drain);
  const std::vector<std::uint64_t> seen = probe->revisions();
  EXPECT_EQ(probe->without_models(), 0);
  ASSERT_GE(seen.size(), 2u);
  EXPECT_NE(seen.back(), offline) << "the last decision still saw the offline table";
  EXPECT_GE(std::set<std::uint64_t>(seen.begin(), seen.end()).size(), 2u) << "no online update reached it";
}

TEST(EngineControl, TheControllersSettingBoundsEveryDispatchAndEveryIntervalIsRecorded) {
  const auto xs = inputs("cnn3");
  auto largest = std::make_shared<LargestBatch>();
  EngineConfig config = config_with("edf-full", 128);
  config.observers.push_back(largest);
  config.controller = std::make_shared<HoldsBatchTwo>();
  config.control.interval = from_ms(10);
  Engine engine(one_model("cnn3"), config);
  std::vector<std::future<Outcome>> futures;
  for (std::size_t i = 0; i < 100; ++i) futures.push_back(engine.submit(0, xs[i % xs.size()], kGenerous));
  for (auto& f : futures) EXPECT_EQ(f.get().status, OutcomeStatus::completed);
  std::this_thread::sleep_for(50ms);  // a few intervals end on the dispatcher's timer alone
  EXPECT_GE(largest->largest(), 2u) << "a backlog of 100 forms batches";
  EXPECT_LE(largest->largest(), 2u) << "never above the controller's max batch";
  const std::vector<ControlRecord> history = engine.control_history();
  ASSERT_GE(history.size(), 3u);
  std::size_t answered = 0;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(history[i].at, history[i - 1].at);
    }
    ASSERT_EQ(history[i].chosen.size(), 1u);
    EXPECT_EQ(history[i].chosen[0], (ModelControl{2, 0, 0}));
    answered += static_cast<std::size_t>(history[i].windows[0].answered);
  }
  EXPECT_LE(answered, 100u) << "each outcome counted in one window at most";
}

TEST(EngineControl, UnderTenTimesOverloadWithSettingsChangingEveryIntervalEachJobGetsOneOutcome) {
  const auto xs = inputs("cnn3");
  auto controller = std::make_shared<Alternating>();
  EngineConfig config = config_with("yao-dp", 64);
  config.lanes = 2;
  config.controller = controller;
  config.control.interval = from_ms(2);
  Engine engine(one_model("cnn3"), config);
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < 50; ++i) ASSERT_EQ(engine.submit(0, xs[i % xs.size()], kGenerous).get().exit, 3);
  const auto per_job = (Clock::now() - t0) / 50;
  constexpr std::size_t kJobs = 2000;
  Collector got(kJobs);
  auto next = Clock::now();
  for (std::size_t i = 0; i < kJobs; ++i) {
    std::this_thread::sleep_until(next);
    next += per_job / 20;
    engine.submit(0, xs[i % xs.size()], std::max<Clock::duration>(5 * per_job, 1ms), got.callback(i));
  }
  ASSERT_TRUE(got.wait_for(kJobs));
  std::this_thread::sleep_for(10ms);  // intervals go on ending on the dispatcher's timer
  engine.stop(StopMode::drain);
  std::size_t completed = 0;
  for (const auto& outcomes : got.per_job()) {
    ASSERT_EQ(outcomes.size(), 1u) << "exactly one outcome per job";
    completed += outcomes[0].status == OutcomeStatus::completed ? 1 : 0;
    EXPECT_NE(outcomes[0].status, OutcomeStatus::failed) << outcomes[0].message;
  }
  EXPECT_GT(completed, 0u);
  EXPECT_GE(controller->calls(), 2) << "the settings changed while the jobs ran";
  EXPECT_EQ(engine.protocol_violations(), 0);
}

TEST(EngineControl, AControllerTheEngineBuildsGetsItsModelsAndLimitsAndItsStatusIsReported) {
  // What a server that loads its own models does: hand the engine a factory, not a controller.
  const auto xs = inputs("cnn3");
  EngineConfig config = config_with("edf-full", 128);
  config.lanes = 2;
  config.control.interval = from_ms(2);
  std::size_t models_given = 0;
  ControllerConfig limits_given;
  config.make_controller = [&](std::span<const Model> models, const ControllerConfig& limits) {
    models_given = models.size();
    limits_given = limits;
    return std::make_shared<HoldsBatchTwo>();
  };
  Engine engine(one_model("cnn3"), config);
  EXPECT_EQ(models_given, 1u);
  EXPECT_EQ(limits_given.lanes, 2) << "the engine's lanes";
  EXPECT_GE(limits_given.max_batch, 2) << "the engine's widest batch";
  EXPECT_EQ(limits_given.interval, from_ms(2)) << "the caller's interval";
  for (std::size_t i = 0; i < 20; ++i) ASSERT_EQ(engine.submit(0, xs[i % xs.size()], kGenerous).get().status, OutcomeStatus::completed);
  std::optional<ControlStatus> status;
  for (int tries = 0; tries < 500; ++tries) {  // intervals end on the dispatcher's timer
    status = engine.control_status();
    ASSERT_TRUE(status.has_value());
    if (status->intervals >= 3) break;
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_EQ(status->controller, "batch-two");
  ASSERT_GE(status->intervals, 3);
  ASSERT_EQ(status->settings.size(), 1u);
  EXPECT_EQ(status->settings[0], (ModelControl{2, 0, 0}));
  ASSERT_TRUE(status->last.has_value());
  EXPECT_EQ(status->last->chosen[0], (ModelControl{2, 0, 0}));
  EXPECT_FALSE(Engine(one_model("cnn3"), config_with("edf-full", 8)).control_status().has_value())
      << "no controller, no status";
}

TEST(EngineControl, IntervalsEndWhileNoJobComes) {
  // An idle server's controller still sees its intervals end (empty windows), as the simulator's does,
  // so its figures and /metrics do not freeze at the last request.
  EngineConfig config = config_with("edf-full", 8);
  config.controller = std::make_shared<HoldsBatchTwo>();
  config.control.interval = from_ms(2);
  Engine engine(one_model("cnn3"), config);
  std::int64_t intervals = 0;
  for (int tries = 0; tries < 2500 && intervals < 3; ++tries) {
    std::this_thread::sleep_for(2ms);
    intervals = engine.control_status()->intervals;
  }
  EXPECT_GE(intervals, 3) << "no job was submitted, yet intervals must end";
}

TEST(EngineControl, AControllerAndAFactoryTogetherOrAFactoryGivingNoneAreRefused) {
  EngineConfig both = config_with("edf-full", 8);
  both.controller = std::make_shared<HoldsBatchTwo>();
  both.make_controller = [](std::span<const Model>, const ControllerConfig&) { return std::make_shared<HoldsBatchTwo>(); };
  test_support::expect_error([&] { Engine e(one_model("cnn3"), both); }, {"both controller and make_controller"});
  EngineConfig none = config_with("edf-full", 8);
  none.make_controller = [](std::span<const Model>, const ControllerConfig&) { return std::shared_ptr<Controller>{}; };
  test_support::expect_error([&] { Engine e(one_model("cnn3"), none); }, {"make_controller returned no controller"});
}

}  // namespace
}  // namespace imprecise::runtime
