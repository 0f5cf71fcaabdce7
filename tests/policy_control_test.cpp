// Policy::set_control (max batch, batching wait, lanes per model) and lanes named in Dispatch.
#include <gtest/gtest.h>

#include <variant>

#include "imprecise/sched/policy.hpp"
#include "policy_fixtures.hpp"

namespace imprecise {
namespace {

Model model_named(const std::string& name, double stage_ms = 1.0) {
  testing::TestModelSpec spec;
  spec.stages = 2;
  spec.stage_ms = stage_ms;
  spec.batches = {1, 2, 4, 8};
  spec.name = name;
  return testing::make_test_model(spec);
}

using testing::as;  // tests/policy_fixtures.hpp
using testing::make_job;

class PolicyControlTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::unique_ptr<Policy> make(int lanes = 1, int max_batch = 8) {
    PolicyConfig config;
    config.lanes = lanes;
    config.max_batch = max_batch;
    return make_policy(GetParam(), models_, config);
  }
  std::vector<Model> models_{model_named("a"), model_named("b")};
};

TEST_P(PolicyControlTest, AControlsMaxBatchBoundsEveryDispatchOfItsModel) {
  auto policy = make();
  for (JobId i = 0; i < 6; ++i) policy->on_release(make_job(i, 0, from_ms(100)), 0);
  policy->set_control(0, ModelControl{2, 0, 0});
  EXPECT_EQ(as<Dispatch>(policy->next(0)).jobs.size(), 2u);
  policy->set_control(0, ModelControl{});  // back to the policy's own limit
  EXPECT_EQ(as<Dispatch>(policy->next(0)).jobs.size(), 4u) << "the four still waiting at stage 0 go together";
}

TEST_P(PolicyControlTest, DispatchesNameAFreeLaneAndALaneFreedIsUsedAgain) {
  auto policy = make(/*lanes=*/2);
  for (JobId i = 0; i < 3; ++i) policy->on_release(make_job(i, 0, from_ms(100), static_cast<ModelId>(i % 2)), 0);
  const Dispatch first = as<Dispatch>(policy->next(0));
  EXPECT_EQ(first.lane, 0);
  const Dispatch second = as<Dispatch>(policy->next(0));
  EXPECT_EQ(second.lane, 1);
  EXPECT_NE(first.model, second.model);
  policy->on_stage_done(first.jobs[0], 1, 0.5, from_ms(1));
  policy->on_lane_free(0, from_ms(1));
  Decision d = policy->next(from_ms(1));
  while (!std::holds_alternative<Dispatch>(d)) d = policy->next(from_ms(1));  // a Finish may come first
  EXPECT_EQ(std::get<Dispatch>(d).lane, 0);
}

TEST_P(PolicyControlTest, AModelAtItsLaneLimitWaitsWhileAnotherModelTakesTheFreeLane) {
  auto policy = make(/*lanes=*/2);
  policy->set_control(0, ModelControl{1, 0, 1});  // model a: one lane, batches of one
  policy->on_release(make_job(0, 0, from_ms(50), 0), 0);
  policy->on_release(make_job(1, 0, from_ms(60), 0), 0);
  policy->on_release(make_job(2, 0, from_ms(90), 1), 0);
  const Dispatch first = as<Dispatch>(policy->next(0));
  EXPECT_EQ(first.model, 0);
  const Dispatch second = as<Dispatch>(policy->next(0));
  EXPECT_EQ(second.model, 1) << "job 1 (model a) comes first in EDF order but a holds its one lane";
  policy->set_control(1, ModelControl{0, 0, 0});
}

TEST_P(PolicyControlTest, ABatchingWaitHoldsASmallBatchUntilItFillsOrItsWaitEnds) {
  auto policy = make(/*lanes=*/1, /*max_batch=*/4);
  policy->set_control(0, ModelControl{4, from_ms(2), 0});
  policy->on_release(make_job(0, 0, from_ms(100)), 0);
  const Decision held = policy->next(0);
  ASSERT_TRUE(std::holds_alternative<Idle>(held));
  EXPECT_EQ(std::get<Idle>(held).until, from_ms(2)) << "the oldest member's release plus the wait";
  for (JobId i = 1; i < 4; ++i) policy->on_release(make_job(i, from_ms(1), from_ms(100)), from_ms(1));
  EXPECT_EQ(as<Dispatch>(policy->next(from_ms(1))).jobs.size(), 4u) << "a full batch goes at once";
  policy->on_release(make_job(4, from_ms(1), from_ms(100)), from_ms(1));
  EXPECT_EQ(as<Dispatch>(policy->next(from_ms(3))).jobs.size(), 1u) << "its wait is over: it goes alone";
}

TEST_P(PolicyControlTest, ABatchingWaitNeverMakesAJobLate) {
  auto policy = make(/*lanes=*/1, /*max_batch=*/4);
  policy->set_control(0, ModelControl{4, from_ms(5), 0});
  // Two stages of 1 ms to full depth and a deadline 2.5 ms away: 0.5 ms of slack at most.
  policy->on_release(make_job(0, 0, from_us(2500)), 0);
  const Decision d = policy->next(0);
  if (std::holds_alternative<Idle>(d)) EXPECT_LE(std::get<Idle>(d).until, from_us(500)) << "two 1 ms stages by 2.5 ms";
  else EXPECT_EQ(as<Dispatch>(d).jobs.size(), 1u);
}

TEST_P(PolicyControlTest, PlanningPoliciesPlanOverEveryLane) {
  if (std::string(GetParam()) == "edf-full") GTEST_SKIP() << "a baseline does not plan";
  // Two jobs due at 2.2 ms, two 1 ms stages each, no batching: one lane fits three stages at most
  // (one job stops at its first exit); two lanes run both jobs to the end side by side.
  for (const int lanes : {1, 2}) {
    auto policy = make(lanes, /*max_batch=*/1);
    policy->on_release(make_job(0, 0, from_us(2200)), 0);
    policy->on_release(make_job(1, 0, from_us(2200)), 0);
    const Dispatch a = as<Dispatch>(policy->next(0));
    const JobId first = a.jobs[0];
    if (lanes == 2) {
      const Dispatch b = as<Dispatch>(policy->next(0));
      EXPECT_EQ(b.lane, 1);
      policy->on_stage_done(b.jobs[0], 1, 0.9, from_ms(1));
      policy->on_lane_free(1, from_ms(1));
    }
    policy->on_stage_done(first, 1, 0.9, from_ms(1));
    policy->on_lane_free(0, from_ms(1));
    int deep = 0, finished = 0;
    for (int i = 0; i < 4; ++i) {
      const Decision d = policy->next(from_ms(1));
      if (const auto* dispatch = std::get_if<Dispatch>(&d)) deep += dispatch->stage == 1 ? 1 : 0;
      if (std::holds_alternative<Finish>(d)) ++finished;
      if (std::holds_alternative<Idle>(d)) break;
    }
    if (lanes == 2) EXPECT_EQ(deep, 2) << "both jobs go to their second exit, one per lane";
    else EXPECT_EQ(finished, 1) << "one lane: the first job stops at its first exit so the other fits";
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, PolicyControlTest, ::testing::Values("yao-dp", "density", "edf-full"),
                         [](const auto& test_param) {
                           std::string label = test_param.param;
                           for (char& c : label)
                             if (c == '-') c = '_';
                           return label;
                         });

}  // namespace
}  // namespace imprecise
