// PolicyHost: the one host-side implementation of the Policy protocol, driven by a scripted policy.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "imprecise/error.hpp"
#include "imprecise/sched/policy_host.hpp"

namespace imprecise {
namespace {

/// Two stages of 1 ms each (every figure), batches of 1 and 2.
Model two_stage_model(int mandatory = 1) {
  const Duration t = from_ms(1.0);
  Model m;
  m.name = "m";
  m.mandatory_depth = mandatory;
  m.profile = Profile({1, 2}, {{StageTiming{t, t, t, t}, StageTiming{t, t, t, t}},
                               {StageTiming{t, t, t, t}, StageTiming{t, t, t, t}}});
  m.utility = UtilityModel(2, 1, {0.6, 0.8}, {0.6, 0.8, 0.6, 0.8});
  return m;
}

/// Answers next() from a script (then Idle), and records what the host told it.
class ScriptedPolicy final : public Policy {
 public:
  std::string_view name() const override { return "scripted"; }
  void on_release(const Job& job, Time) override { released.push_back(job.id); }
  void on_stage_done(JobId job, int depth, double confidence, Time) override {
    done.push_back({job, depth});
    confidences.push_back(confidence);
  }
  void on_expire(JobId job, Time) override { expired.push_back(job); }
  void on_lane_free(int lane, Time) override { freed_lanes.push_back(lane); }
  Decision next(Time) override {
    ++calls;
    if (script.empty()) return Idle{idle_until};
    Decision d = script.front();
    script.pop_front();
    if (auto* dispatch = std::get_if<Dispatch>(&d)) {
      batch = batches.front();
      batches.pop_front();
      dispatch->jobs = batch;
    }
    return d;
  }
  std::deque<Decision> script;
  std::deque<std::vector<JobId>> batches;  // the jobs of each scripted Dispatch, in order
  std::vector<JobId> batch;
  Time idle_until = kNever;
  int calls = 0;
  std::vector<JobId> released, expired;
  std::vector<int> freed_lanes;
  std::vector<std::pair<JobId, int>> done;
  std::vector<double> confidences;
};

class RecordingClient final : public HostClient {
 public:
  void start_lane(int lane, Time) override { started.push_back(lane); }
  void answer(std::uint32_t slot, int depth, Outcome& o) override {
    o.exit = depth;
    o.prediction = static_cast<int>(slot);
  }
  void deliver(std::uint32_t slot, Outcome&& o) override { outcomes[slot].push_back(std::move(o)); }
  void on_slot_free(std::uint32_t slot) override { freed.push_back(slot); }
  std::vector<int> started;
  std::map<std::uint32_t, std::vector<Outcome>> outcomes;
  std::vector<std::uint32_t> freed;
};

class CountingObserver final : public Observer {
 public:
  void on_admit(const JobInfo&, Time) override { ++admits; }
  void on_decision(Time, Duration, DecisionKind) override { ++decisions; }
  void on_dispatch(int, ModelId, int, std::span<const JobInfo> jobs, Time) override { dispatched += jobs.size(); }
  void on_drop(const JobInfo&, Time) override { ++drops; }
  void on_outcome(const Outcome&) override { ++outcomes; }
  int admits = 0, decisions = 0, drops = 0, outcomes = 0;
  std::size_t dispatched = 0;
};

Job job(JobId id, Time deadline, int mandatory = 1) {
  Job j;
  j.id = id;
  j.deadline = deadline;
  j.mandatory_depth = mandatory;
  return j;
}

class PolicyHostTest : public ::testing::Test {
 protected:
  std::unique_ptr<PolicyHost> make_host(std::size_t slots = 8, int max_batch = 2, int lanes = 1) {
    PolicyHostConfig config;
    config.slots = slots;
    config.lanes = lanes;
    config.max_batch = {max_batch};
    auto host = std::make_unique<PolicyHost>(policy_, models_, config, client_);
    host->set_observers({observer_});
    return host;
  }
  std::vector<Model> models_{two_stage_model()};
  ScriptedPolicy policy_;
  RecordingClient client_;
  std::shared_ptr<CountingObserver> observer_ = std::make_shared<CountingObserver>();
};

TEST_F(PolicyHostTest, DispatchRunsTheBatchAndCompletionReachesThePolicy) {
  auto host = make_host();
  ASSERT_TRUE(host->admit(job(0, from_ms(10)), 0));
  ASSERT_TRUE(host->admit(job(1, from_ms(10)), 0));
  policy_.script = {Dispatch{0, 0, {}}};
  policy_.batches = {{0, 1}};
  EXPECT_EQ(host->decide(0), kNever);
  ASSERT_EQ(client_.started, std::vector<int>{0});
  EXPECT_TRUE(host->lane(0).busy);
  EXPECT_EQ(host->lane(0).jobs, (std::vector<JobId>{0, 1}));
  EXPECT_EQ(host->decide(0), kNever) << "every lane busy: the policy is not asked";
  EXPECT_EQ(policy_.calls, 1);
  const std::vector<double> confidence{0.25, 0.75};
  EXPECT_EQ(host->complete(0, confidence, 0, from_ms(1), nullptr, from_ms(1)), 0u);
  EXPECT_EQ(policy_.done, (std::vector<std::pair<JobId, int>>{{0, 1}, {1, 1}}));
  EXPECT_EQ(policy_.confidences, confidence);
  EXPECT_EQ(host->depth(0), 1);
  // Finish answers from the deepest finished exit: completed, since the mandatory depth (1) was reached.
  policy_.script = {Finish{0}, Finish{1}};
  host->decide(from_ms(1));
  ASSERT_EQ(client_.outcomes[0].size(), 1u);
  const Outcome& o = client_.outcomes[0][0];
  EXPECT_EQ(o.status, OutcomeStatus::completed);
  EXPECT_EQ(o.depth, 1);
  EXPECT_EQ(o.exit, 1);
  EXPECT_EQ(o.start, 0);
  EXPECT_EQ(o.run, from_ms(1));
  EXPECT_EQ(host->live(), 0u);
  EXPECT_EQ(host->protocol_violations(), 0);
  EXPECT_EQ(observer_->admits, 2);
  EXPECT_EQ(observer_->dispatched, 2u);
  EXPECT_EQ(observer_->outcomes, 2);
}

TEST_F(PolicyHostTest, ExpiryAnswersCompletedOrMissedByTheMandatoryDepth) {
  models_ = {two_stage_model(/*mandatory=*/2)};
  auto host = make_host();
  host->admit(job(0, from_ms(5), 2), 0);
  host->admit(job(1, from_ms(5), 1), 0);
  policy_.script = {Dispatch{0, 0, {}}};
  policy_.batches = {{0, 1}};
  host->decide(0);
  host->complete(0, std::vector<double>{0.5, 0.5}, 0, from_ms(1), nullptr, from_ms(1));
  host->expire(0, from_ms(5));
  host->expire(1, from_ms(5));
  host->expire(1, from_ms(6));  // no longer live: nothing happens
  EXPECT_EQ(client_.outcomes[0].at(0).status, OutcomeStatus::missed) << "1 of 2 mandatory stages";
  EXPECT_EQ(client_.outcomes[1].at(0).status, OutcomeStatus::completed);
  EXPECT_EQ(client_.outcomes[1].size(), 1u);
  EXPECT_EQ(policy_.expired, (std::vector<JobId>{0, 1}));
}

TEST_F(PolicyHostTest, AJobPastItsDeadlineAtAdmissionIsMissedAndThePolicyNeverSeesIt) {
  auto host = make_host();
  EXPECT_FALSE(host->admit(job(3, from_ms(1)), from_ms(1)));
  EXPECT_TRUE(policy_.released.empty());
  EXPECT_EQ(client_.outcomes[3].at(0).status, OutcomeStatus::missed);
  EXPECT_EQ(client_.freed, std::vector<std::uint32_t>{3});
}

TEST_F(PolicyHostTest, WorkThatCanNoLongerHelpIsAnsweredInsteadOfStarted) {
  auto host = make_host();
  host->admit(job(0, from_ms(0.5)), 0);  // a 1 ms stage cannot end by 0.5 ms
  host->admit(job(1, from_ms(10)), 0);
  policy_.script = {Dispatch{0, 0, {}}};
  policy_.batches = {{0, 1}};
  host->decide(0);
  EXPECT_EQ(client_.outcomes[0].at(0).status, OutcomeStatus::missed);
  EXPECT_EQ(policy_.expired, std::vector<JobId>{0});
  EXPECT_EQ(host->lane(0).jobs, std::vector<JobId>{1}) << "the rest of the batch still runs";
}

TEST_F(PolicyHostTest, ProtocolViolationsAreCountedAndTheOffendingJobsFail) {
  auto host = make_host(/*slots=*/8, /*max_batch=*/1);
  for (JobId id = 0; id < 4; ++id) host->admit(job(id, from_ms(10)), 0);
  // An empty dispatch, a Finish of an unknown job, a batch over the limit (both its jobs fail), a wrong
  // stage (the job fails), a Drop of a job already ended: five violations, then a valid Drop.
  policy_.script = {Dispatch{0, 0, {}}, Finish{7}, Dispatch{0, 0, {}}, Dispatch{0, 1, {}}, Drop{0}, Drop{3}};
  policy_.batches = {{}, {0, 1}, {2}};
  EXPECT_EQ(host->decide(0), kNever);
  EXPECT_EQ(host->protocol_violations(), 5);
  for (JobId id : {0u, 1u, 2u}) {
    ASSERT_EQ(client_.outcomes[id].size(), 1u) << id;
    EXPECT_EQ(client_.outcomes[id][0].status, OutcomeStatus::failed);
    EXPECT_NE(client_.outcomes[id][0].message.find("policy protocol violation"), std::string::npos);
  }
  EXPECT_EQ(client_.outcomes[3].at(0).status, OutcomeStatus::rejected);
  EXPECT_EQ(observer_->drops, 1);
  EXPECT_TRUE(client_.started.empty());
}

TEST_F(PolicyHostTest, APolicyThatNeverSettlesIsCutOff) {
  auto host = make_host();
  host->admit(job(0, from_ms(10)), 0);
  for (int i = 0; i < 100; ++i) policy_.script.push_back(Finish{5});  // never a valid decision
  EXPECT_EQ(host->decide(0), kNever);
  EXPECT_EQ(policy_.calls, 9) << "live jobs + 8 rounds";
  EXPECT_EQ(host->protocol_violations(), 10);
}

TEST_F(PolicyHostTest, IdleGivesTheWakeUpTimeAndAStageFailureFailsItsJobs) {
  auto host = make_host();
  policy_.idle_until = from_ms(3);
  EXPECT_EQ(host->decide(from_ms(1)), from_ms(3));
  EXPECT_EQ(host->decide(from_ms(4)), kNever) << "an Idle in the past is no timer";
  host->admit(job(0, from_ms(10)), from_ms(4));
  policy_.script = {Dispatch{0, 0, {}}};
  policy_.batches = {{0}};
  host->decide(from_ms(4));
  host->complete(0, std::vector<double>{0.5}, from_ms(4), from_ms(5), "stage 0 of 'm' failed: boom", from_ms(5));
  EXPECT_EQ(client_.outcomes[0].at(0).status, OutcomeStatus::failed);
  EXPECT_EQ(client_.outcomes[0][0].message, "stage 0 of 'm' failed: boom");
  EXPECT_TRUE(policy_.done.empty());
}

TEST_F(PolicyHostTest, AJobAnsweredWhileItsStageRunsWastesTheWorkAndFreesTheSlotAfterIt) {
  auto host = make_host();
  host->admit(job(0, from_ms(2)), 0);
  policy_.script = {Dispatch{0, 0, {}}};
  policy_.batches = {{0}};
  host->decide(0);
  host->cancel(0, from_ms(0.5), "cancelled: stopping");
  EXPECT_EQ(client_.outcomes[0].at(0).status, OutcomeStatus::rejected);
  EXPECT_EQ(client_.outcomes[0][0].message, "cancelled: stopping");
  EXPECT_TRUE(client_.freed.empty()) << "a lane still holds the slot";
  EXPECT_EQ(host->complete(0, std::vector<double>{0.5}, 0, from_ms(1), nullptr, from_ms(1)), 1u);
  EXPECT_EQ(client_.freed, std::vector<std::uint32_t>{0});
  EXPECT_TRUE(policy_.done.empty());
}

TEST_F(PolicyHostTest, JobIdsCarryTheSlotInTheirLowBits) {
  auto host = make_host(/*slots=*/4);
  const JobId id = (5u << 2) | 3u;  // generation 5, slot 3
  host->admit(job(id, from_ms(10)), 0);
  EXPECT_EQ(host->slot_of(id), 3u);
  EXPECT_EQ(host->job_id(3, 5), id);
  EXPECT_EQ(host->job_id(3, 5 + (1u << 30)), id) << "only the generation's low bits are kept";
  EXPECT_TRUE(host->is_live(3));
  policy_.script = {Finish{(4u << 2) | 3u}, Finish{id}};  // a stale generation is not this job
  host->decide(0);
  EXPECT_EQ(host->protocol_violations(), 1);
  EXPECT_EQ(client_.outcomes[3].at(0).job, id);
}

TEST_F(PolicyHostTest, BadConfigurationThrowsNamingTheField) {
  PolicyHostConfig config;
  config.max_batch = {2, 2};  // two limits for one model
  try {
    PolicyHost host(policy_, models_, config, client_);
    FAIL() << "accepted a max_batch list that does not match the models";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_batch"), std::string::npos) << e.what();
  }
  config.max_batch = {2};
  config.lanes = 0;
  EXPECT_THROW(PolicyHost(policy_, models_, config, client_), Error);
  config.lanes = 1;
  PolicyHost host(policy_, models_, config, client_);
  EXPECT_THROW(host.set_observers({nullptr}), Error);
}

TEST_F(PolicyHostTest, ADispatchRunsOnTheLaneItNamesAndThePolicyHearsWhenThatLaneIsFree) {
  auto host = make_host(8, 2, /*lanes=*/2);
  for (JobId id = 0; id < 3; ++id) ASSERT_TRUE(host->admit(job(id, from_ms(10)), 0));
  Dispatch on_lane_1{0, 0, {}};
  on_lane_1.lane = 1;
  policy_.script = {on_lane_1, Dispatch{0, 0, {}}};
  policy_.batches = {{0}, {1, 2}};
  host->decide(0);
  EXPECT_EQ(client_.started, (std::vector<int>{1, 0})) << "lane 1 as named, then the first free lane";
  EXPECT_EQ(host->lane(1).jobs, std::vector<JobId>{0});
  EXPECT_EQ(host->lane(0).jobs, (std::vector<JobId>{1, 2}));
  EXPECT_TRUE(policy_.freed_lanes.empty());
  host->complete(1, std::vector<double>{0.5}, 0, from_ms(1), nullptr, from_ms(1));
  EXPECT_EQ(policy_.freed_lanes, std::vector<int>{1});
  EXPECT_EQ(host->protocol_violations(), 0);
}

TEST_F(PolicyHostTest, ADispatchToABusyOrUnknownLaneIsAViolationAndABatchThatNeverStartsFreesItsLane) {
  auto host = make_host(8, 2, /*lanes=*/2);
  for (JobId id = 0; id < 3; ++id) ASSERT_TRUE(host->admit(job(id, from_ms(10)), 0));
  Dispatch to_lane_0{0, 0, {}}, again_lane_0{0, 0, {}}, to_lane_7{0, 0, {}};
  to_lane_0.lane = again_lane_0.lane = 0;
  to_lane_7.lane = 7;
  policy_.script = {to_lane_0, again_lane_0};
  policy_.batches = {{0}, {1}};
  host->decide(0);
  EXPECT_EQ(host->protocol_violations(), 1);
  ASSERT_EQ(client_.outcomes[1].size(), 1u);
  EXPECT_EQ(client_.outcomes[1][0].status, OutcomeStatus::failed);
  EXPECT_NE(client_.outcomes[1][0].message.find("not a free lane"), std::string::npos) << client_.outcomes[1][0].message;
  EXPECT_TRUE(policy_.freed_lanes.empty()) << "lane 0 is busy: it was not freed";
  policy_.script = {to_lane_7};
  policy_.batches = {{2}};
  host->decide(0);
  EXPECT_EQ(host->protocol_violations(), 2);
  // A batch whose every job is past helping is never started: its lane is free again at once.
  ASSERT_TRUE(host->admit(job(3, from_us(500)), 0));
  Dispatch to_lane_1{0, 0, {}};
  to_lane_1.lane = 1;
  policy_.script = {to_lane_1};
  policy_.batches = {{3}};
  host->decide(0);
  EXPECT_FALSE(host->lane(1).busy);
  EXPECT_EQ(policy_.freed_lanes, std::vector<int>{1});
}

}  // namespace
}  // namespace imprecise
