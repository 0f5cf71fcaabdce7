// How the planning policies protect mandatory work: mandatory stages budgeted at their p99, a full
// batch of mandatory stages run ahead of planned optional work, no optional work while a job is shed,
// a shed job dropped only when the dispatch about to start leaves it no time, and an optional stage
// started only when, overrunning to its p99, it leaves every mandatory part its time, and a queue of
// mandatory parts budgeted at the p99 of its sum rather than the sum of its p99s.
#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <variant>
#include <vector>

#include "imprecise/sched/policy.hpp"
#include "policy_fixtures.hpp"

namespace imprecise {
namespace {

using testing::as;

/// One stage whose median is `p50_ms` and whose p99 is `p99_ms`, batches 1 and 2.
Model one_stage_model(double p50_ms, double p99_ms) {
  const StageTiming t{from_ms(p50_ms), from_ms(p50_ms), from_ms(p99_ms), from_ms(p99_ms)};
  Model m;
  m.name = "spread";
  m.mandatory_depth = 1;
  m.profile = Profile({1, 2}, {{t, t}});
  m.utility = UtilityModel(1, 1, {0.8}, {0.8});
  return m;
}

Model deterministic_model(int stages, double stage_ms, const char* name) {
  testing::TestModelSpec spec;
  spec.stages = stages;
  spec.stage_ms = stage_ms;
  spec.batches = {1, 2};
  spec.name = name;
  return testing::make_test_model(spec);
}

TEST(MandatoryFigure, AMandatoryStageIsBudgetedAtItsP99) {
  // Median 1 ms, p99 2 ms, deadline 1.5 ms: the median fits, the p99 does not. By default the
  // planners budget the mandatory stage at its p99, so no plan serves the job and its deadline
  // already proves it (it could not start later): it is dropped at once. Budgeted at the median, it runs.
  const std::vector<Model> models{one_stage_model(1.0, 2.0)};
  for (const char* spec : {"yao-dp", "density"}) {
    auto guarded = make_policy(spec, models);
    guarded->on_release(testing::make_job(7, 0, from_ms(1.5)), 0);
    EXPECT_EQ(as<Drop>(guarded->next(0)).job, 7u) << spec;

    PolicyConfig median;
    median.mandatory_figure = PlanningFigure::p50;
    auto optimistic = make_policy(spec, models, median);
    optimistic->on_release(testing::make_job(7, 0, from_ms(1.5)), 0);
    EXPECT_EQ(as<Dispatch>(optimistic->next(0)).jobs.size(), 1u) << spec;
  }
}

TEST(MandatoryFigure, BaselinesBudgetEveryStageWithTheOneFigure) {
  // edf-mandatory has no plan to guard: the same job is dispatched with the default settings.
  const std::vector<Model> models{one_stage_model(1.0, 2.0)};
  auto p = make_policy("edf-mandatory", models);
  p->on_release(testing::make_job(7, 0, from_ms(1.5)), 0);
  EXPECT_EQ(as<Dispatch>(p->next(0)).jobs.size(), 1u);
}

/// Job A (two-stage model 0) has run its mandatory stage at 1 ms with a low confidence, so the plan
/// gives it its optional stage next; `waiting` jobs of the one-stage model 1 (deadline 20 ms) wait at
/// their mandatory stage. Returns the decision at 1 ms.
Decision decide_after_first_stage(const char* spec, bool mandatory_first, Duration a_deadline, int waiting) {
  static const std::vector<Model> models{deterministic_model(2, 1.0, "two"), deterministic_model(1, 1.0, "one")};
  PolicyConfig config;
  config.max_batch = 2;
  config.mandatory_first = mandatory_first;
  auto p = make_policy(spec, models, config);
  p->on_release(testing::make_job(0, 0, a_deadline, 0), 0);
  const Dispatch first = as<Dispatch>(p->next(0));
  EXPECT_EQ(first.model, 0);
  for (int i = 0; i < waiting; ++i) p->on_release(testing::make_job(1 + i, from_ms(0.5), from_ms(20), 1), from_ms(0.5));
  p->on_stage_done(0, 1, 0.15, from_ms(1));
  return p->next(from_ms(1));
}

TEST(MandatoryFirst, AFullBatchOfMandatoryStagesGoesAheadOfPlannedOptionalWork) {
  for (const char* spec : {"yao-dp", "density"}) {
    // A (deadline 10 ms) still ends by 1 + 1.25 + 1 ms after the batch of two: the batch goes first.
    const Dispatch pulled = as<Dispatch>(decide_after_first_stage(spec, true, from_ms(10), 2));
    EXPECT_EQ(pulled.model, 1) << spec;
    EXPECT_EQ(pulled.jobs.size(), 2u) << spec;
    // Off: EDF order, A's optional stage first.
    const Dispatch in_order = as<Dispatch>(decide_after_first_stage(spec, false, from_ms(10), 2));
    EXPECT_EQ(in_order.model, 0) << spec;
    EXPECT_EQ(in_order.stage, 1) << spec;
  }
}

TEST(MandatoryFirst, NotAtASmallerBatchNorWhenItWouldMakeAPlannedJobLate) {
  for (const char* spec : {"yao-dp", "density"}) {
    // One waiting job: it would run alone now instead of in a fuller batch later.
    const Dispatch alone = as<Dispatch>(decide_after_first_stage(spec, true, from_ms(10), 1));
    EXPECT_EQ(alone.model, 0) << spec;
    // A full batch, but A (deadline 2.5 ms) would end at 3 ms even behind a batch of one.
    const Dispatch late = as<Dispatch>(decide_after_first_stage(spec, true, from_ms(2.5), 2));
    EXPECT_EQ(late.model, 0) << spec;
    EXPECT_EQ(late.stage, 1) << spec;
  }
}

/// Y and Z (two stages of 1 ms, deadline 3 ms; Z of weight `z_weight`) and X (one stage of 18 ms,
/// deadline 19.5 ms), no batching: the mandatory parts need 20 ms, so Moore-Hodgson sheds X, which
/// stays pending (started alone by 1.5 ms it could still make it). Y's stage runs first; returns the
/// policy at 1 ms, when Y has answered its first exit with `y_confidence`.
std::unique_ptr<Policy> after_y_first_stage(const char* spec, double z_weight, double y_confidence) {
  static const std::vector<Model> models{deterministic_model(2, 1.0, "short"), deterministic_model(1, 18.0, "long")};
  PolicyConfig config;
  config.max_batch = 1;
  auto p = make_policy(spec, models, config);
  p->on_release(testing::make_job(0, 0, from_ms(3), 0), 0);  // Y
  Job z = testing::make_job(1, 0, from_ms(3), 0);
  z.weight = z_weight;
  p->on_release(z, 0);
  p->on_release(testing::make_job(2, 0, from_ms(19.5), 1), 0);  // X
  const Dispatch y = as<Dispatch>(p->next(0));
  EXPECT_EQ(y.jobs.size(), 1u) << spec;
  EXPECT_EQ(y.jobs.empty() ? JobId{99} : y.jobs[0], 0u) << spec;
  p->on_stage_done(0, 1, y_confidence, from_ms(1));
  return p;
}

TEST(ShedWhileOverloaded, NoJobIsGivenOptionalWorkWhileAnotherIsShed) {
  // Y is unsure of its first answer: its second stage (+0.1) is worth more than Z's (+0.4 x 0.2), and
  // there is time for one of them. While X is shed neither is planned: Y is answered at its first exit.
  for (const char* spec : {"yao-dp", "density"}) {
    auto p = after_y_first_stage(spec, 0.4, 0.15);
    EXPECT_EQ(as<Finish>(p->next(from_ms(1))).job, 0u) << spec << ": Y answered at exit 1";
  }
}

TEST(ShedWhileOverloaded, AShedJobIsDroppedOnlyWhenTheDispatchAboutToStartLeavesItNoTime) {
  // X's latest start is 1.5 ms. At 0 the dispatch about to start (Y, 1 ms) left X that time, so X
  // stayed pending (counting the longest dispatch any model has, 18 ms, would have dropped it at
  // once). At 1 ms the next dispatch (Z) would end at 2 ms, past X's latest start: X goes before it.
  for (const char* spec : {"yao-dp", "density"}) {
    auto p = after_y_first_stage(spec, 1.0, 0.95);
    EXPECT_EQ(as<Finish>(p->next(from_ms(1))).job, 0u) << spec;
    EXPECT_EQ(as<Drop>(p->next(from_ms(1))).job, 2u) << spec;
    const Dispatch z = as<Dispatch>(p->next(from_ms(1)));
    ASSERT_EQ(z.jobs.size(), 1u) << spec;
    EXPECT_EQ(z.jobs[0], 1u) << spec;
  }
}

/// A (two stages; the optional one has median 1 ms and p99 3 ms) has answered its first exit unsure
/// at 1 ms, deadline 3 ms: the plan gives it its optional stage. B (one stage of 1 ms, deadline
/// `b_deadline`) waits at its mandatory stage. Returns the decision at 1 ms (mandatory-first off, so
/// that only the overrun check can put B first).
Decision decide_with_a_spread_optional_stage(const char* spec, Duration b_deadline) {
  static const std::vector<Model> models = [] {
    Model a = deterministic_model(2, 1.0, "spread-optional");
    const StageTiming fixed{from_ms(1), from_ms(1), from_ms(1), from_ms(1)};
    const StageTiming spread{from_ms(1.2), from_ms(1), from_ms(3), from_ms(3)};
    a.profile = Profile({1, 2}, {{fixed, fixed}, {spread, spread}});
    return std::vector<Model>{a, deterministic_model(1, 1.0, "one")};
  }();
  PolicyConfig config;
  config.mandatory_first = false;
  auto p = make_policy(spec, models, config);
  p->on_release(testing::make_job(0, 0, from_ms(3), 0), 0);
  EXPECT_EQ(as<Dispatch>(p->next(0)).model, 0) << spec;
  p->on_release(testing::make_job(1, from_ms(0.5), b_deadline, 1), from_ms(0.5));
  p->on_stage_done(0, 1, 0.15, from_ms(1));
  return p->next(from_ms(1));
}

TEST(OptionalOverrun, AnOptionalStageThatCouldOverrunGivesWayToAMandatoryOne) {
  for (const char* spec : {"yao-dp", "density"}) {
    // EDF and the plan (A's stage at its median, then B by 3 ms) put A first; at its p99 A's stage
    // would end at 4 ms and leave B (deadline 3.5 ms) no time. B runs first, then A by 3 ms.
    const Dispatch b_first = as<Dispatch>(decide_with_a_spread_optional_stage(spec, from_ms(3.5)));
    EXPECT_EQ(b_first.model, 1) << spec;
    // B's deadline 5.5 ms survives the overrun: the plan's order stands.
    const Dispatch a_first = as<Dispatch>(decide_with_a_spread_optional_stage(spec, from_ms(5.5)));
    EXPECT_EQ(a_first.model, 0) << spec;
    EXPECT_EQ(a_first.stage, 1) << spec;
  }
}

/// Ten jobs of one stage (median 1 ms, p99 2 ms, no batching), all released at 0 with deadline
/// `deadline`, run with every stage taking its median; a job the plan sheds is dropped at once (no
/// pending shed jobs, which a fast run could still serve). Returns {answered, dropped}.
std::pair<int, int> ten_jobs_at_their_median(const char* spec, Duration deadline) {
  const std::vector<Model> models{one_stage_model(1.0, 2.0)};
  PolicyConfig config;
  config.max_batch = 1;
  config.shed_pending_limit = 0;
  auto p = make_policy(spec, models, config);
  for (JobId id = 0; id < 10; ++id) p->on_release(testing::make_job(id, 0, deadline), 0);
  Time now = 0;
  int answered = 0, dropped = 0;
  for (int step = 0; step < 100; ++step) {
    const Decision d = p->next(now);
    if (const auto* run = std::get_if<Dispatch>(&d)) {
      now += from_ms(1);
      for (const JobId id : run->jobs) p->on_stage_done(id, 1, 0.9, now);
    } else if (std::holds_alternative<Finish>(d)) {
      ++answered;
      EXPECT_LE(now, deadline) << spec;
    } else if (std::holds_alternative<Drop>(d)) {
      ++dropped;
    } else {
      break;
    }
  }
  return {answered, dropped};
}

TEST(PooledMargins, AQueueIsBudgetedAtThePercentileOfItsSumNotTheSumOfPercentiles) {
  for (const char* spec : {"yao-dp", "density"}) {
    // At p99 each, the ten need 20 ms; at the sum of medians plus the root-sum-square of the margins,
    // the tenth ends by 10 + sqrt(10) = 13.2 ms. Deadline 13.5 ms: nobody is shed, all ten answer.
    EXPECT_EQ(ten_jobs_at_their_median(spec, from_ms(13.5)), std::make_pair(10, 0)) << spec;
    // Deadline 11 ms: the pooled budget does not fit either, and Moore-Hodgson sheds.
    const auto [answered, dropped] = ten_jobs_at_their_median(spec, from_ms(11));
    EXPECT_GE(dropped, 1) << spec;
    EXPECT_EQ(answered + dropped, 10) << spec;
  }
}

}  // namespace
}  // namespace imprecise
