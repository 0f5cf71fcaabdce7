// Engine: futures and callbacks, answers from the right exit, rejections, several models, setup errors.
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
  // At least 400 jobs: even if the profile was measured while the machine was loaded (inflated) and the
  // jobs then run fast, the queue ahead holds far more than the 2 ms deadline's worth of work.
  const std::size_t ahead = static_cast<std::size_t>(std::clamp<Duration>(from_ms(40) / std::max<Duration>(full, 1), 400, 2000));
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

}  // namespace
}  // namespace imprecise::runtime
