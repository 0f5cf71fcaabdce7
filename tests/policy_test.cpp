// Policy tests: the host protocol (Dispatch/Finish/Drop/Idle), batching feasibility, each baseline's rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <variant>
#include <vector>

#include "imprecise/error.hpp"
#include "imprecise/sched/policy.hpp"
#include "policy_fixtures.hpp"

namespace imprecise {
namespace {

/// `stages` stages of `stage_ms`, batches 1, 2 and 4 (tests/policy_fixtures.hpp).
Model make_model(int stages, double stage_ms, int mandatory = 1) {
  testing::TestModelSpec spec;
  spec.stages = stages;
  spec.stage_ms = stage_ms;
  spec.mandatory = mandatory;
  return testing::make_test_model(spec);
}

using testing::as;  // tests/policy_fixtures.hpp
using testing::make_job;

TEST(PolicyRegistry, BuildsEveryNamedPolicy) {
  std::vector<Model> models{make_model(3, 1.0)};
  for (const char* spec : {"yao-dp", "density", "edf-full", "edf-mandatory", "edf-fixed:2", "edf-threshold:0.9",
                           "fifo-full", "round-robin", "oracle-utility", "edf-fixed", "edf-threshold"}) {
    auto p = make_policy(spec, models);
    ASSERT_NE(p, nullptr) << spec;
    EXPECT_FALSE(p->name().empty());
  }
  EXPECT_EQ(make_policy("yao-dp", models)->name(), "yao-dp");
  EXPECT_EQ(make_policy("oracle-utility", models)->name(), "oracle-utility");
}

TEST(PolicyRegistry, RejectsBadNamesAndParametersWithAClearMessage) {
  std::vector<Model> models{make_model(3, 1.0)};
  auto message_of = [&](const std::string& spec, PolicyConfig config = {}) {
    try {
      make_policy(spec, models, config);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of("edf-ful").find("unknown policy 'edf-ful'"), std::string::npos);
  EXPECT_NE(message_of("edf-fixed:0").find("K must be"), std::string::npos);
  EXPECT_NE(message_of("edf-fixed:1.5").find("K must be"), std::string::npos);
  EXPECT_NE(message_of("edf-threshold:2").find("T must be in [0, 1]"), std::string::npos);
  EXPECT_NE(message_of("edf-threshold:abc").find("not a number"), std::string::npos);
  EXPECT_NE(message_of("yao-dp:3").find("takes no parameter"), std::string::npos);
  PolicyConfig bad;
  bad.delta.eps = 0;
  EXPECT_NE(message_of("yao-dp", bad).find("eps"), std::string::npos);
  PolicyConfig bad_delta;
  bad_delta.delta.absolute = -1;
  EXPECT_NE(message_of("yao-dp", bad_delta).find("delta"), std::string::npos);
  PolicyConfig negative_window;
  negative_window.planning_window = -1;
  EXPECT_NE(message_of("density", negative_window).find("planning_window"), std::string::npos);
  std::vector<Model> broken{make_model(3, 1.0, /*mandatory=*/4)};
  EXPECT_THROW(make_policy("yao-dp", broken), Error);
}

TEST(YaoDp, RunsAJobWithAmpleTimeToFullDepthThenFinishesIt) {
  std::vector<Model> models{make_model(3, 1.0)};
  auto p = make_policy("yao-dp", models);
  p->on_release(make_job(7, 0, from_ms(100)), 0);
  Time now = 0;
  for (int stage = 0; stage < 3; ++stage) {
    const Decision d = p->next(now);
    const auto& dispatch = as<Dispatch>(d);
    EXPECT_EQ(dispatch.stage, stage);
    ASSERT_EQ(dispatch.jobs.size(), 1u);
    EXPECT_EQ(dispatch.jobs[0], 7u);
    EXPECT_TRUE(std::holds_alternative<Idle>(p->next(now)));  // the only job is in flight
    now += from_ms(1);
    p->on_stage_done(7, stage + 1, 0.3, now);
  }
  EXPECT_EQ(as<Finish>(p->next(now)).job, 7u);
  EXPECT_EQ(as<Idle>(p->next(now)).until, kNever);
}

TEST(YaoDp, StopsAtMandatoryWhenOnlyThatFits) {
  std::vector<Model> models{make_model(3, 1.0)};
  auto p = make_policy("yao-dp", models);
  p->on_release(make_job(1, 0, from_ms(1.5)), 0);
  EXPECT_EQ(as<Dispatch>(p->next(0)).stage, 0);
  p->on_stage_done(1, 1, 0.2, from_ms(1));
  EXPECT_EQ(as<Finish>(p->next(from_ms(1))).job, 1u);
}

// Runs `p` on simulated time until nothing is pending: a dispatch takes its profile's time for the
// batch, times `speed` (below 1: stages run faster than planned). Returns the depth each job was
// answered at (0 = dropped); `drop_at` gets the time of each Drop.
std::vector<int> serve(Policy& p, const std::vector<Model>& models, std::size_t jobs, double speed = 1.0,
                       std::vector<Time>* drop_at = nullptr) {
  std::vector<int> depth(jobs, 0), answered(jobs, -1);
  if (drop_at) drop_at->assign(jobs, kNever);
  Time now = 0;
  for (int step = 0; step < 1000; ++step) {
    const Decision d = p.next(now);
    if (const auto* f = std::get_if<Finish>(&d)) {
      answered[f->job] = depth[f->job];
    } else if (const auto* r = std::get_if<Drop>(&d)) {
      answered[r->job] = 0;
      if (drop_at) (*drop_at)[r->job] = now;
    } else if (const auto* dispatch = std::get_if<Dispatch>(&d)) {
      const std::vector<JobId> ids(dispatch->jobs.begin(), dispatch->jobs.end());
      const Duration took = models[dispatch->model].profile.planned(dispatch->stage, static_cast<int>(ids.size()),
                                                                     PlanningFigure::p50);
      now += static_cast<Duration>(static_cast<double>(took) * speed);
      for (const JobId id : ids) p.on_stage_done(id, ++depth[id], 0.2, now);
    } else if (const auto* idle = std::get_if<Idle>(&d); idle->until != kNever) {
      now = idle->until;
    } else {
      break;
    }
  }
  return answered;
}

int count_dropped(const std::vector<int>& answered) {
  return static_cast<int>(std::count(answered.begin(), answered.end(), 0));
}

TEST(PlanningPolicies, ShedTheFewestJobsWhenMandatoryWorkCannotFitEvenInBatches) {
  std::vector<Model> models{make_model(3, 2.0)};
  for (const char* spec : {"yao-dp", "density", "oracle-utility"}) {
    auto p = make_policy(spec, models);
    // Five jobs, each needing a 2 ms stage by t = 4 ms: a batch of four takes 3.5 ms, the fifth 2 ms
    // more, so exactly one must go (batching serves four where batch-1 plans serve two).
    for (JobId id = 0; id < 5; ++id) p->on_release(make_job(id, 0, from_ms(4)), 0);
    const std::vector<int> answered = serve(*p, models, 5);
    EXPECT_EQ(count_dropped(answered), 1) << spec;
    for (const int depth : answered) EXPECT_GE(depth, 0) << spec << ": every job answered";
  }
}

TEST(PlanningPolicies, WhatFitsInBatchesIsServedWithBatchAwareAndBatchOnePlans) {
  std::vector<Model> models{make_model(3, 2.0)};
  for (const char* spec : {"yao-dp", "density"}) {
    // Four jobs need a 2 ms stage by t = 4 ms and a fifth two stages by 7.5 ms. As one batch of four
    // (3.5 ms) the four fit, and the fifth after them, deeper than its mandatory stage. A batch-1
    // plan's Moore-Hodgson sheds two of the four (2 ms each), but their mandatory parts fit as the
    // batch they form, so no one is shed: the four run as one batch and the fifth goes on once they
    // are done. (Before that check, the batch-1 plan dropped one of the four.)
    for (const bool batch_aware : {true, false}) {
      PolicyConfig config;
      config.batch_aware = batch_aware;
      auto p = make_policy(spec, models, config);
      for (JobId id = 0; id < 4; ++id) p->on_release(make_job(id, 0, from_ms(4)), 0);
      p->on_release(make_job(4, 0, from_ms(7.5)), 0);
      const std::vector<int> answered = serve(*p, models, 5);
      EXPECT_EQ(count_dropped(answered), 0) << spec << " batch_aware " << batch_aware;
      for (int id = 0; id < 4; ++id) EXPECT_EQ(answered[id], 1) << spec << " batch_aware " << batch_aware;
      EXPECT_GE(answered[4], 2) << spec << " batch_aware " << batch_aware;
    }
  }
}

TEST(PlanningPolicies, AShedJobStaysPendingUntilItsDeadlineProvesTheDrop) {
  // Jobs 0 and 1 need a 1 ms stage by 2 ms, job 2 a 1.5 ms stage by 3.4 ms (no batching). Planned at
  // their profile, all three take 3.5 ms: the plan sheds job 2, the longest. Run at half the planned
  // time, job 2 fits after all: a Drop issued at once would have lost it; kept pending and re-planned
  // after each stage, it is served. At the planned speed it is dropped (as `rejected`, never left to
  // miss) while it could still have started, at the last decision before that becomes too late.
  testing::TestModelSpec fast, slow;
  fast.stages = slow.stages = 2;
  fast.batches = slow.batches = {1};
  slow.stage_ms = 1.5;
  slow.name = "slow";
  std::vector<Model> models{testing::make_test_model(fast), testing::make_test_model(slow)};
  for (const char* name : {"yao-dp", "density"}) {
    for (const double speed : {0.5, 1.0}) {
      auto p = make_policy(name, models);
      p->on_release(make_job(0, 0, from_ms(2)), 0);
      p->on_release(make_job(1, 0, from_ms(2)), 0);
      p->on_release(make_job(2, 0, from_ms(3.4), /*model=*/1), 0);
      std::vector<Time> drop_at;
      const std::vector<int> answered = serve(*p, models, 3, speed, &drop_at);
      EXPECT_GE(answered[0], 1) << name;
      EXPECT_GE(answered[1], 1) << name;
      if (speed < 1.0) {
        EXPECT_GE(answered[2], 1) << name << ": shed although the faster stages left room";
      } else {
        ASSERT_EQ(answered[2], 0) << name;
        EXPECT_GT(drop_at[2], 0) << name << ": dropped before the deadline proved it";
        EXPECT_LE(drop_at[2] + from_ms(1.5), from_ms(3.4)) << name << ": dropped too late to have started";
      }
    }
  }
}

TEST(PlanningWindow, DeferredJobsKeepTheirMandatoryPartAndAreNotAnsweredEarly) {
  // Six jobs of three 1 ms stages (low confidence: deeper always helps), deadlines 3 ms apart from
  // 5 ms on. Batches of up to 4 carry deferred jobs' mandatory stage along with the window's; such a
  // job must not be answered from that exit before it is planned: with all planned, all go deep.
  std::vector<Model> models{make_model(3, 1.0)};
  for (const char* spec : {"yao-dp", "density"}) {
    PolicyConfig windowed;
    windowed.planning_window = 2;
    windowed.max_batch = 4;
    PolicyConfig everything = windowed;
    everything.planning_window = 0;
    std::vector<int> depth_windowed, depth_all;
    for (auto* config : {&windowed, &everything}) {
      auto p = make_policy(spec, models, *config);
      for (JobId id = 0; id < 6; ++id) p->on_release(make_job(id, 0, from_ms(5 + 3.0 * id)), 0);
      (config == &windowed ? depth_windowed : depth_all) = serve(*p, models, 6);
    }
    // Even unbatched the work fits (6 x 3 ms = 18 ms by the last deadline, 20 ms): every job goes deep.
    EXPECT_EQ(depth_windowed, std::vector<int>(6, 3)) << spec;
    EXPECT_EQ(depth_all, depth_windowed) << spec;
  }
}

TEST(PlanningWindow, ReservesDeferredMandatoryWorkAgainstTheWindowsOptionalWork) {
  // Job 0 (deadline 3 ms) could run all three stages, but eight jobs beyond a window of 1 each need
  // their 1 ms mandatory stage by 3..10 ms: job 0 may take only what leaves them room.
  std::vector<Model> models{make_model(3, 1.0)};
  for (const char* spec : {"yao-dp", "density"}) {
    PolicyConfig config;
    config.planning_window = 1;
    config.max_batch = 1;
    auto p = make_policy(spec, models, config);
    p->on_release(make_job(0, 0, from_ms(3)), 0);
    for (JobId id = 1; id <= 8; ++id) p->on_release(make_job(id, 0, from_ms(2.0 + static_cast<double>(id))), 0);
    const std::vector<int> answered = serve(*p, models, 9);
    for (JobId id = 1; id <= 8; ++id) EXPECT_GE(answered[id], 1) << spec << " job " << id << " lost its mandatory part";
    EXPECT_EQ(answered[0], 2) << spec;  // 1 ms of slack before job 1 must start: one optional stage
  }
}

TEST(Batching, BatchesJobsAtTheSameStageWhenEveryPlanStaysFeasible) {
  std::vector<Model> models{make_model(2, 1.0)};
  auto p = make_policy("edf-mandatory", models);
  for (JobId id = 0; id < 3; ++id) p->on_release(make_job(id, 0, from_ms(50)), 0);
  const Decision decision = p->next(0);
  const auto& d = as<Dispatch>(decision);
  EXPECT_EQ(d.jobs.size(), 3u);  // batch of 3 costs the batch-4 entry: 1.75 ms, far within 50 ms
}

TEST(Batching, RefusesABatchThatWouldMakeAnOnTimeJobLate) {
  std::vector<Model> models{make_model(2, 1.0)};
  auto p = make_policy("edf-mandatory", models);
  p->on_release(make_job(0, 0, from_ms(1.1)), 0);  // 1 ms alone fits; a batch of 2 (1.25 ms) does not
  p->on_release(make_job(1, 0, from_ms(50)), 0);
  const Decision decision = p->next(0);
  const auto& d = as<Dispatch>(decision);
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(d.jobs[0], 0u);
}

TEST(Batching, RespectsMaxBatch) {
  std::vector<Model> models{make_model(2, 1.0)};
  PolicyConfig config;
  config.max_batch = 2;
  auto p = make_policy("edf-full", models, config);
  for (JobId id = 0; id < 5; ++id) p->on_release(make_job(id, 0, from_ms(100)), 0);
  EXPECT_EQ(as<Dispatch>(p->next(0)).jobs.size(), 2u);
}

TEST(Baselines, ThresholdContinuesOnlyWhileConfidenceIsLow) {
  std::vector<Model> models{make_model(4, 1.0)};
  auto p = make_policy("edf-threshold:0.8", models);
  p->on_release(make_job(1, 0, from_ms(100)), 0);
  EXPECT_EQ(as<Dispatch>(p->next(0)).stage, 0);
  p->on_stage_done(1, 1, 0.5, 1);  // low: continue
  EXPECT_EQ(as<Dispatch>(p->next(1)).stage, 1);
  p->on_stage_done(1, 2, 0.95, 2);  // confident: stop
  EXPECT_EQ(as<Finish>(p->next(2)).job, 1u);
}

TEST(Baselines, FixedDepthStopsAtK) {
  std::vector<Model> models{make_model(4, 1.0)};
  auto p = make_policy("edf-fixed:2", models);
  p->on_release(make_job(1, 0, from_ms(100)), 0);
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(as<Dispatch>(p->next(s)).stage, s);
    p->on_stage_done(1, s + 1, 0.1, s + 1);
  }
  EXPECT_EQ(as<Finish>(p->next(5)).job, 1u);
}

TEST(Baselines, FifoRunsInReleaseOrderEdfInDeadlineOrder) {
  std::vector<Model> models{make_model(2, 1.0)};
  PolicyConfig single;
  single.max_batch = 1;
  auto fifo = make_policy("fifo-full", models, single);
  auto edf = make_policy("edf-full", models, single);
  for (Policy* p : {fifo.get(), edf.get()}) {
    p->on_release(make_job(1, 0, from_ms(100)), 0);
    p->on_release(make_job(2, 1, from_ms(10)), 1);
  }
  EXPECT_EQ(as<Dispatch>(fifo->next(1)).jobs[0], 1u);
  EXPECT_EQ(as<Dispatch>(edf->next(1)).jobs[0], 2u);
}

TEST(Baselines, RoundRobinIsBreadthFirst) {
  std::vector<Model> models{make_model(3, 1.0)};
  PolicyConfig single;
  single.max_batch = 1;
  auto p = make_policy("round-robin", models, single);
  p->on_release(make_job(1, 0, from_ms(10)), 0);
  p->on_release(make_job(2, 0, from_ms(20)), 0);
  EXPECT_EQ(as<Dispatch>(p->next(0)).jobs[0], 1u);
  p->on_stage_done(1, 1, 0.5, 1);
  const Decision decision = p->next(1);
  const auto& d = as<Dispatch>(decision);
  EXPECT_EQ(d.jobs[0], 2u);  // job 2 has done fewer stages, so it goes before job 1's stage 2
  EXPECT_EQ(d.stage, 0);
}

TEST(Protocol, ExpiredJobsAreForgottenEvenInFlight) {
  std::vector<Model> models{make_model(3, 1.0)};
  for (const std::string& spec : policy_names()) {
    const std::string name = spec.substr(0, spec.find(':'));
    auto p = make_policy(name, models);
    p->on_release(make_job(1, 0, from_ms(100)), 0);
    ASSERT_TRUE(std::holds_alternative<Dispatch>(p->next(0))) << name;
    p->on_expire(1, from_ms(100));
    p->on_stage_done(1, 1, 0.5, from_ms(101));  // late completion of a forgotten job: ignored
    EXPECT_EQ(as<Idle>(p->next(from_ms(101))).until, kNever) << name;
  }
}

TEST(Protocol, JobsSettledTogetherFinishInOrderAndAnExpiryInBetweenCancelsAnOwedFinish) {
  // Every settled job leaves the pending set at once and its Finish is owed (PolicyBase::take_out_leaving):
  // the Finishes come in order, one per next(), and a job the host ends in between gets no Finish.
  std::vector<Model> models{make_model(1, 1.0)};
  for (const std::string& spec : policy_names()) {
    const std::string name = spec.substr(0, spec.find(':'));
    for (const bool expire_one : {false, true}) {
      auto p = make_policy(name, models);
      for (JobId id = 1; id <= 3; ++id) p->on_release(make_job(id, 0, from_ms(10.0 * id)), 0);
      int dispatched = 0;
      Time now = 0;
      for (int round = 0; round < 3 && dispatched < 3; ++round) {
        const Decision d = p->next(now);
        const auto& batch = as<Dispatch>(d);
        const std::vector<JobId> jobs(batch.jobs.begin(), batch.jobs.end());
        now += from_ms(1);
        for (const JobId id : jobs) p->on_stage_done(id, 1, 0.9, now);
        dispatched += static_cast<int>(jobs.size());
        if (dispatched < 3) {  // a batch smaller than all three: its jobs finish before the next dispatch
          for (std::size_t k = 0; k < jobs.size(); ++k) EXPECT_EQ(as<Finish>(p->next(now)).job, jobs[k]) << name;
        }
      }
      ASSERT_EQ(dispatched, 3) << name;
      std::vector<JobId> finished;
      Decision d = p->next(now);
      if (expire_one) {
        finished.push_back(as<Finish>(d).job);
        p->on_expire(3, now);  // owed a Finish, if it was settled with the first
        d = p->next(now);
      }
      while (const auto* f = std::get_if<Finish>(&d)) {
        finished.push_back(f->job);
        d = p->next(now);
      }
      EXPECT_EQ(as<Idle>(d).until, kNever) << name;
      EXPECT_TRUE(std::is_sorted(finished.begin(), finished.end())) << name;
      EXPECT_EQ(std::count(finished.begin(), finished.end(), JobId{3}), expire_one ? 0 : 1) << name;
    }
  }
}

TEST(Protocol, JobsShedTogetherDropInOrderAndAnExpiryInBetweenCancelsAnOwedDrop) {
  // Ten 1 ms jobs due at 2.5 ms: two fit. With no shed job allowed to wait, the other eight are dropped
  // together, one Drop per next(), in EDF order (ties: id); a job the host ends in between gets none.
  std::vector<Model> models{make_model(1, 1.0)};
  PolicyConfig config;
  config.shed_pending_limit = 0;
  config.max_batch = 1;
  for (const std::string name : {"yao-dp", "density"}) {
    for (const bool expire_one : {false, true}) {
      auto p = make_policy(name, models, config);
      for (JobId id = 1; id <= 10; ++id) p->on_release(make_job(id, 0, from_ms(2.5)), 0);
      std::vector<JobId> dropped;
      Decision d = p->next(0);
      ASSERT_TRUE(std::holds_alternative<Drop>(d)) << name;
      dropped.push_back(as<Drop>(d).job);
      const JobId expired = dropped.front() + 3;  // still owed its Drop
      if (expire_one) p->on_expire(expired, 0);
      for (d = p->next(0); std::holds_alternative<Drop>(d); d = p->next(0)) dropped.push_back(as<Drop>(d).job);
      EXPECT_EQ(as<Dispatch>(d).jobs.size(), 1u) << name;
      EXPECT_TRUE(std::is_sorted(dropped.begin(), dropped.end())) << name;
      EXPECT_EQ(dropped.size(), expire_one ? 7u : 8u) << name;
      EXPECT_EQ(std::count(dropped.begin(), dropped.end(), expired), expire_one ? 0 : 1) << name;
    }
  }
}

TEST(Oracle, NeverGoesOnToAnExitThatIsTrulyWrong) {
  std::vector<Model> models{make_model(3, 1.0)};
  auto p = make_policy("oracle-utility", models);
  // Exit 2 is right and exit 3 wrong: with all the time in the world the oracle still stops at 2,
  // where a predicted-utility policy would go on.
  std::vector<ExitRecord> truth{{0.4f, false}, {0.6f, true}, {0.9f, false}};
  Job j = make_job(1, 0, from_ms(100));
  j.oracle = truth;
  p->on_release(j, 0);
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(as<Dispatch>(p->next(s)).stage, s);
    p->on_stage_done(1, s + 1, truth[s].confidence, s + 1);
  }
  EXPECT_EQ(as<Finish>(p->next(3)).job, 1u);
}

TEST(PlanningAtLightLoad, StopsAtTheBestExitWhenPredictedUtilityFallsWithDepth) {
  // A model that "overthinks": exit 2 is predicted right more often than exit 3, before any stage
  // ran and after each exit, at every confidence. With time for every stage, the planners take each
  // job to its best exit (2), not to its deepest; a plan that took the deepest exit whenever
  // everything fits would go on to 3.
  Model model = make_model(3, 1.0);
  const int bins = model.utility.bins();
  std::vector<double> table;
  for (int k = 1; k <= 3; ++k)
    for (int b = 0; b < bins; ++b) table.insert(table.end(), {0.5, 0.8, 0.6});
  model.utility = UtilityModel(3, bins, {0.5, 0.8, 0.6}, table);
  std::vector<Model> models{model};
  for (const char* spec : {"yao-dp", "density"}) {
    auto p = make_policy(spec, models);
    p->on_release(make_job(1, 0, from_ms(100)), 0);
    p->on_release(make_job(2, 0, from_ms(100)), 0);
    std::vector<int> jobs_at_stage(3, 0);
    int finished = 0;
    Time now = 0;
    for (int decisions = 0; decisions < 20; ++decisions) {
      const Decision d = p->next(now);
      if (const auto* dispatch = std::get_if<Dispatch>(&d)) {
        jobs_at_stage[static_cast<std::size_t>(dispatch->stage)] += static_cast<int>(dispatch->jobs.size());
        now += from_ms(1);
        for (const JobId id : dispatch->jobs) p->on_stage_done(id, dispatch->stage + 1, 0.5, now);
      } else if (std::holds_alternative<Finish>(d)) {
        ++finished;
      } else {
        break;
      }
    }
    EXPECT_EQ(jobs_at_stage, (std::vector<int>{2, 2, 0})) << spec;
    EXPECT_EQ(finished, 2) << spec;
  }
}

}  // namespace
}  // namespace imprecise
