// Planning-policy tests through make_policy: fewest drops across the planning window, and the
// confidence seen at an exit changing the depth planned.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "imprecise/sched/policy.hpp"
#include "policy_fixtures.hpp"

namespace imprecise {
namespace {

/// `stages` stages of `stage_ms`, batches 1 and 2; the prior gains 0.2 over the whole depth, less than a
/// low-confidence exit gains per stage (tests/policy_fixtures.hpp).
Model make_model(int stages, double stage_ms) {
  testing::TestModelSpec spec;
  spec.stages = stages;
  spec.stage_ms = stage_ms;
  spec.batches = {1, 2};
  spec.prior_base = 0.4;
  spec.prior_gain = 0.2;
  spec.name = stage_ms > 10.0 ? "long" : "short";
  return testing::make_test_model(spec);
}

Job make_job(JobId id, ModelId model, Duration deadline, double weight = 1.0) {
  Job j;
  j.id = id;
  j.model = model;
  j.release = 0;
  j.deadline = deadline;
  j.weight = weight;
  return j;
}

TEST(PlanningWindow, DropsTheFewestJobsOverWindowAndDeferredAlike) {
  // The counterexample, (deadline, cost) in ms: A(20, 18), B(21, 4), C(21, 4), D(22, 4), a
  // window of 1. Shedding deferred jobs behind A's mandatory part drops B and C; dropping A alone
  // lets B, C and D all finish (by 4, 8, 12 ms).
  std::vector<Model> models{make_model(1, 18.0), make_model(1, 4.0)};
  for (const char* spec : {"yao-dp", "density"}) {
    PolicyConfig config;
    config.planning_window = 1;
    config.max_batch = 1;
    auto p = make_policy(spec, models, config);
    p->on_release(make_job(0, 0, from_ms(20)), 0);  // A
    p->on_release(make_job(1, 1, from_ms(21)), 0);  // B
    p->on_release(make_job(2, 1, from_ms(21)), 0);  // C
    p->on_release(make_job(3, 1, from_ms(22)), 0);  // D
    std::vector<JobId> dropped, finished;
    Time now = 0;
    for (int step = 0; step < 50; ++step) {
      const Decision d = p->next(now);
      if (const auto* drop = std::get_if<Drop>(&d)) {
        dropped.push_back(drop->job);
      } else if (const auto* finish = std::get_if<Finish>(&d)) {
        finished.push_back(finish->job);
      } else if (const auto* dispatch = std::get_if<Dispatch>(&d)) {
        ASSERT_EQ(dispatch->jobs.size(), 1u);
        const JobId id = dispatch->jobs[0];
        now += models[static_cast<std::size_t>(dispatch->model)].profile.planned(dispatch->stage, 1, PlanningFigure::p99);
        p->on_stage_done(id, dispatch->stage + 1, 0.9, now);
      } else {
        break;
      }
    }
    EXPECT_EQ(dropped, (std::vector<JobId>{0})) << spec;
    EXPECT_EQ(finished, (std::vector<JobId>{1, 2, 3})) << spec;
    EXPECT_LE(now, from_ms(12)) << spec;
  }
}

TEST(ConfidenceSignal, LowConfidenceAtTheFirstExitEarnsTheDeeperPlanWhenTimeIsShort) {
  // Two jobs of a two-stage model run stage 0 together (1.25 ms); 1.25 ms remain before their
  // deadline, room for one more stage. Job 0 answered its exit with confidence 0.95, job 1 with
  // 0.15: by R(l | 1, c), job 1 gains 0.1 from going deeper and job 0 only 1.2 x 0.01. The prior
  // (0.1 for the second stage of either) would give the stage to job 0, whose weight of 1.2 breaks
  // the tie, so this fails if the plan ignores the confidence.
  std::vector<Model> models{make_model(2, 1.0)};
  for (const char* spec : {"yao-dp", "density"}) {
    PolicyConfig config;
    config.max_batch = 2;
    auto p = make_policy(spec, models, config);
    p->on_release(make_job(0, 0, from_ms(2.5), 1.2), 0);
    p->on_release(make_job(1, 0, from_ms(2.5), 1.0), 0);
    const Decision first = p->next(0);
    ASSERT_TRUE(std::holds_alternative<Dispatch>(first)) << spec;
    ASSERT_EQ(std::get<Dispatch>(first).jobs.size(), 2u) << spec;
    const Time now = from_ms(1.25);
    p->on_stage_done(0, 1, 0.95, now);
    p->on_stage_done(1, 1, 0.15, now);
    const Decision second = p->next(now);
    ASSERT_TRUE(std::holds_alternative<Finish>(second)) << spec;
    EXPECT_EQ(std::get<Finish>(second).job, 0u) << spec << ": the confident job is answered at exit 1";
    const Decision third = p->next(now);
    ASSERT_TRUE(std::holds_alternative<Dispatch>(third)) << spec;
    const auto& deeper = std::get<Dispatch>(third);
    EXPECT_EQ(deeper.stage, 1) << spec;
    ASSERT_EQ(deeper.jobs.size(), 1u) << spec;
    EXPECT_EQ(deeper.jobs[0], 1u) << spec << ": the unsure job goes on to exit 2";
  }
}

}  // namespace
}  // namespace imprecise
