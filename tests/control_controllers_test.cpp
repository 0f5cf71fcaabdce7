// The controllers' rules: static holds, aimd grows on calm windows and halves on a violation, model-based
// batches (and spreads over lanes) under load and runs batch 1 without waiting when light; the registry.
#include <gtest/gtest.h>

#include <vector>

#include "control_fixtures.hpp"
#include "imprecise/control/controllers.hpp"
#include "imprecise/error.hpp"

namespace imprecise {
namespace {

using control::make_controller;

struct Harness {
  std::vector<ModelWindow> windows;
  std::vector<ModelControl> current;
  ControlObservation observation(Duration interval, int lanes = 2) const {
    return ControlObservation{0, interval, lanes, 0.5, windows, current, {}};
  }
};

ModelWindow calm(double p99_ms, double slo_ms) {
  ModelWindow w;
  w.arrived = w.answered = w.completed = 20;
  w.latency_mean = w.latency_p50 = from_ms(p99_ms / 2);
  w.latency_p99 = from_ms(p99_ms);
  w.slo = from_ms(slo_ms);
  return w;
}

TEST(Controllers, RegistryKnowsEveryNameAndRejectsOthers) {
  const std::vector<Model> models = testing::three_models();
  EXPECT_EQ(control::controller_names(), (std::vector<std::string>{"static", "aimd", "model-based", "sac"}));
  for (const char* name : {"static", "aimd", "model-based"})
    EXPECT_EQ(make_controller(name, models, {})->name(), name);
  try {
    make_controller("pid", models, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown controller 'pid'"), std::string::npos) << e.what();
  }
}

TEST(Controllers, StaticHoldsTheFixedSetting) {
  const std::vector<Model> models = testing::three_models();
  ControllerConfig config;
  config.fixed = ModelControl{4, from_ms(2), 1};
  auto c = make_controller("static", models, config);
  Harness h{{calm(1, 10), calm(50, 10), ModelWindow{}}, std::vector<ModelControl>(3, ModelControl{1, 0, 2})};
  std::vector<ModelControl> next = h.current;
  for (const Duration interval : {Duration{0}, from_ms(100)}) {
    c->decide(h.observation(interval), next);
    for (const ModelControl& n : next) EXPECT_EQ(n, config.fixed);
  }
}

TEST(Controllers, AimdStartsAtOneGrowsWhenCalmAndHalvesOnAViolation) {
  const std::vector<Model> models = testing::three_models();
  ControllerConfig config;
  config.max_batch = 6;
  auto c = make_controller("aimd", models, config);
  Harness h{std::vector<ModelWindow>(3), std::vector<ModelControl>(3, config.fixed)};
  std::vector<ModelControl> next = h.current;
  c->decide(h.observation(0), next);  // the starting choice
  for (const ModelControl& n : next) EXPECT_EQ(n, (ModelControl{1, 0, 0}));

  h.windows = {calm(5, 10), calm(5, 10), ModelWindow{}};  // model 2 answered nothing: held
  for (int i = 0; i < 7; ++i) {
    h.current = next;
    c->decide(h.observation(from_ms(100)), next);
  }
  EXPECT_EQ(next[0].max_batch, 6);  // 1 + 7, capped at config.max_batch
  EXPECT_EQ(next[2].max_batch, 1);

  h.windows[0].missed = 1;                  // 1 of 20 answered (5 %): halve
  h.windows[1] = calm(10, 10);              // p99 at the SLO is how an anytime policy answers: still calm
  h.current = next;
  c->decide(h.observation(from_ms(100)), next);
  EXPECT_EQ(next[0], (ModelControl{3, 0, 0}));
  EXPECT_EQ(next[1].max_batch, 6);
  h.windows[0].answered = 1000;             // 1 of 1000 (0.1 %) is within the 0.5 % tolerance: grow
  h.current = next;
  c->decide(h.observation(from_ms(100)), next);
  EXPECT_EQ(next[0].max_batch, 4);
  h.windows[0].rejected = 9;                // 1 % violated: halve, down to 1 at most
  for (int i = 0; i < 3; ++i) {
    h.current = next;
    c->decide(h.observation(from_ms(100)), next);
  }
  EXPECT_EQ(next[0].max_batch, 1);
}

class ModelBasedTest : public ::testing::Test {
 protected:
  /// Model 0 at `rate` jobs per second over a 100 ms window with a 20 ms SLO; the others idle.
  std::vector<ModelControl> decide(double rate, int lanes, bool accuracy_weighted = false,
                                   std::span<const Model> planned = {}) {
    ControllerConfig config;
    config.lanes = lanes;
    config.utility.accuracy_weighted = accuracy_weighted;
    auto c = make_controller("model-based", models_, config);
    ModelWindow w;
    w.arrived = static_cast<int>(rate / 10);
    w.slo = from_ms(20);
    Harness h{{w, ModelWindow{}, ModelWindow{}}, std::vector<ModelControl>(3, ModelControl{})};
    std::vector<ModelControl> next = h.current;
    ControlObservation o = h.observation(from_ms(100), lanes);
    o.planned_models = planned;
    c->decide(o, next);
    return next;
  }
  // Model 0: 1 ms per stage at batch 1 (capacity 1000 jobs/s per lane), 2.75 ms for a batch of 8.
  std::vector<Model> models_ = testing::three_models();
};

TEST_F(ModelBasedTest, LightLoadRunsBatchOneWithoutWaiting) {
  for (const int lanes : {1, 2}) {
    const std::vector<ModelControl> next = decide(100, lanes);
    for (const ModelControl& n : next) EXPECT_EQ(n, (ModelControl{1, 0, 1})) << lanes << " lanes";
  }
}

TEST_F(ModelBasedTest, LoadBeyondBatchOneCapacityBatches) {
  // 2.5 x batch-1 capacity: one lane needs batches of 8 (2909 jobs/s); two lanes of 4 (4571 jobs/s).
  EXPECT_EQ(decide(2500, 1)[0], (ModelControl{8, 0, 1}));
  EXPECT_EQ(decide(2500, 2)[0], (ModelControl{4, 0, 2}));
  // 0.8 x: batch 1 on both lanes.
  EXPECT_EQ(decide(800, 2)[0], (ModelControl{1, 0, 2}));
  EXPECT_EQ(decide(2500, 2)[1], (ModelControl{1, 0, 1}));  // the idle ones stay light
}

TEST_F(ModelBasedTest, TheAccuracyWeightedObjectiveBuysDepthWithTheCapacityTheMandatoryStagesLeave) {
  // 1500 jobs/s on one lane: batches of four carry every mandatory stage but only half of the optional
  // ones. The plain objective (latency) takes the smallest batch that keeps up; the accuracy-weighted
  // one the batch that leaves room for the optional stages too (their depth is its reward).
  const ModelControl plain = decide(1500, 1)[0];
  const ModelControl weighted = decide(1500, 1, /*accuracy_weighted=*/true)[0];
  EXPECT_GT(weighted.max_batch, plain.max_batch);
  EXPECT_EQ(weighted.batch_wait, 0) << "a wait only eats slack";
}

TEST_F(ModelBasedTest, PredictsFromTheProfilesTheHostPlansWith) {
  // Built with model 0 at 1 ms per stage: 800 jobs/s is 0.8x one lane's batch-1 capacity, so batch 1.
  // The host plans with stages three times slower (in the runtime: what serving measured), where batch
  // 1 on both lanes carries 667 jobs/s: the controller must see that and batch.
  ASSERT_EQ(decide(800, 2)[0], (ModelControl{1, 0, 2}));
  std::vector<Model> slower = testing::three_models();
  std::vector<std::vector<StageTiming>> rows = slower[0].profile.table();
  for (auto& row : rows)
    for (StageTiming& t : row) t = StageTiming{3 * t.mean, 3 * t.p50, 3 * t.p99, 3 * t.max};
  slower[0].profile = Profile(slower[0].profile.batch_sizes(), rows);
  slower[0].concurrent.clear();  // profile_at(2) falls back to the slower table
  EXPECT_GT(decide(800, 2, false, slower)[0].max_batch, 1);
}

TEST_F(ModelBasedTest, RefusesAHostWithAnotherNumberOfModels) {
  const std::vector<Model> two(models_.begin(), models_.begin() + 2);
  try {
    decide(800, 2, false, two);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("built for 3 models, but the host plans 2"), std::string::npos) << e.what();
  }
}

TEST_F(ModelBasedTest, ModelsShareTheLanes) {
  // Every model loaded past one lane's batch-1 capacity on a two-lane device: each predicted utility
  // must account for what the others keep busy, so nobody is promised two idle lanes.
  ControllerConfig config;
  config.lanes = 2;
  auto c = make_controller("model-based", models_, config);
  std::vector<ModelWindow> windows(3);
  const int arrivals[3] = {150, 60, 150};  // per 100 ms: 1.5x, 1.2x (2 ms stages), 0.75x
  for (int m = 0; m < 3; ++m) {
    windows[static_cast<std::size_t>(m)].arrived = arrivals[m];
    windows[static_cast<std::size_t>(m)].slo = from_ms(30);
  }
  Harness h{windows, std::vector<ModelControl>(3, ModelControl{})};
  std::vector<ModelControl> next = h.current;
  c->decide(h.observation(from_ms(100)), next);
  for (const ModelControl& n : next) {
    EXPECT_GE(n.max_batch, 1);
    EXPECT_LE(n.lanes, 2);
  }
  EXPECT_GT(next[0].max_batch, 1);
  EXPECT_GT(next[1].max_batch, 1);
}

}  // namespace
}  // namespace imprecise
