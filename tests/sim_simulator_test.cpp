// Tests of the simulator's event loop with small policies defined here: protocol, determinism, outcomes.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "imprecise/error.hpp"
#include "imprecise/sim/jobs.hpp"
#include "imprecise/sim/simulator.hpp"

namespace imprecise::sim {
namespace {

std::string source(const std::string& rel) { return std::string(IMPRECISE_SOURCE_DIR) + "/" + rel; }

/// EDF, batch 1, every job to full depth, finished as soon as it gets there. Also checks the
/// host's side of the protocol: no callback for an unknown or forgotten job.
class TinyEdf : public Policy {
 public:
  explicit TinyEdf(const std::vector<Model>& models, int stop_depth = 0) : models_(models), stop_depth_(stop_depth) {}
  std::string_view name() const override { return "tiny-edf"; }
  void on_release(const Job& job, Time now) override {
    EXPECT_EQ(job.release, now);
    EXPECT_FALSE(jobs_.count(job.id));
    jobs_[job.id] = {job, 0, false};
  }
  void on_stage_done(JobId id, int depth, double confidence, Time) override {
    auto it = jobs_.find(id);
    ASSERT_NE(it, jobs_.end());
    EXPECT_TRUE(it->second.in_flight);
    EXPECT_EQ(depth, it->second.depth + 1);
    EXPECT_GE(confidence, 0.0);
    EXPECT_LE(confidence, 1.0);
    it->second.depth = depth;
    it->second.in_flight = false;
  }
  void on_expire(JobId id, Time now) override {
    auto it = jobs_.find(id);
    ASSERT_NE(it, jobs_.end());
    EXPECT_LE(now, it->second.job.deadline);  // at the deadline, or before it when a stage could not end in time
    jobs_.erase(it);
    ++expired;
  }
  Decision next(Time) override {
    const Entry* best = nullptr;
    for (auto& [id, e] : jobs_) {
      if (e.in_flight) continue;
      const int target = stop_depth_ > 0 ? std::min(stop_depth_, stages(e)) : stages(e);
      if (e.depth >= target) {
        const JobId done = id;
        jobs_.erase(done);
        return Finish{done};
      }
      if (best == nullptr || e.job.deadline < best->job.deadline) best = &e;
    }
    if (best == nullptr) return Idle{};
    auto& e = jobs_[best->job.id];
    e.in_flight = true;
    batch_[0] = e.job.id;
    return Dispatch{e.job.model, e.depth, std::span<const JobId>(batch_, 1)};
  }
  int expired = 0;

 private:
  struct Entry {
    Job job;
    int depth;
    bool in_flight;
  };
  int stages(const Entry& e) const { return models_[static_cast<std::size_t>(e.job.model)].stages(); }
  const std::vector<Model>& models_;
  int stop_depth_;
  std::map<JobId, Entry> jobs_;
  JobId batch_[1] = {};
};

class SimulatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    single_ = new Scenario(load_scenario(source("scenarios/single_vision.json")));
    edge_ = new Scenario(load_scenario(source("scenarios/edge_multi_model.json")));
  }
  static void TearDownTestSuite() {
    delete single_;
    delete edge_;
  }
  static SimResult run(const Scenario& sc, const SimConfig& cfg, int stop_depth = 0) {
    TinyEdf policy(sc.models, stop_depth);
    return simulate(sc, policy, cfg);
  }
  static nlohmann::json stable_json(const SimResult& r) {
    nlohmann::json j = to_json(r.metrics);
    for (const char* f : kTimingFields) j.erase(f);
    return j;
  }
  static Scenario* single_;
  static Scenario* edge_;
};
Scenario* SimulatorTest::single_ = nullptr;
Scenario* SimulatorTest::edge_ = nullptr;

void expect_one_outcome_each(const SimResult& r) {
  ASSERT_EQ(r.jobs.size(), r.outcomes.size());
  for (std::size_t i = 0; i < r.jobs.size(); ++i) {
    EXPECT_EQ(r.jobs[i].id, i);
    EXPECT_EQ(r.outcomes[i].job, i);
    const Outcome& o = r.outcomes[i];
    EXPECT_GE(o.finish, r.jobs[i].release);
    EXPECT_LE(o.finish, r.jobs[i].deadline);
    if (o.status == OutcomeStatus::completed) {
      EXPECT_GE(o.depth, r.jobs[i].mandatory_depth);
      EXPECT_EQ(o.exit, o.depth);
      EXPECT_EQ(o.correct, r.jobs[i].oracle[static_cast<std::size_t>(o.depth - 1)].correct);
    } else {
      EXPECT_FALSE(o.correct);
    }
  }
  const auto& t = r.metrics.total;
  EXPECT_EQ(t.jobs, static_cast<int>(r.jobs.size()));
  EXPECT_EQ(t.completed + t.missed + t.rejected + t.failed, t.jobs);
}

TEST_F(SimulatorTest, LightLoadRunsEveryJobToFullDepth) {
  SimConfig cfg;
  cfg.load = 0.3;
  cfg.deterministic_times = true;
  const SimResult r = run(*single_, cfg);
  expect_one_outcome_each(r);
  EXPECT_EQ(r.protocol_violations, 0);
  const auto& t = r.metrics.total;
  EXPECT_GT(t.jobs, 100);
  EXPECT_EQ(t.missed, 0);
  EXPECT_EQ(t.completed, t.jobs);
  EXPECT_DOUBLE_EQ(t.mean_depth, 4.0);
  EXPECT_NEAR(t.accuracy, 0.91, 0.05);
  // Full depth at batch 1 with planned (p99) times: a bit above the nominal load.
  EXPECT_GT(r.metrics.utilization, 0.25);
  EXPECT_LT(r.metrics.utilization, 0.45);
  EXPECT_GT(r.metrics.decisions, 0);
  EXPECT_GT(r.metrics.events, 2 * t.jobs);
}

TEST_F(SimulatorTest, SameSeedSameResultDifferentSeedDiffers) {
  SimConfig cfg;
  cfg.load = 1.5;
  cfg.seed = 17;
  const SimResult a = run(*edge_, cfg), b = run(*edge_, cfg);
  EXPECT_EQ(stable_json(a).dump(), stable_json(b).dump());
  ASSERT_EQ(a.outcomes.size(), b.outcomes.size());
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
    EXPECT_EQ(a.outcomes[i].status, b.outcomes[i].status);
    EXPECT_EQ(a.outcomes[i].finish, b.outcomes[i].finish);
    EXPECT_EQ(a.outcomes[i].depth, b.outcomes[i].depth);
  }
  cfg.seed = 18;
  const SimResult c = run(*edge_, cfg);
  EXPECT_NE(stable_json(a).dump(), stable_json(c).dump());
}

TEST_F(SimulatorTest, CommonRandomNumbersAcrossPolicies) {
  // Different policies see the same jobs: same releases, deadlines and samples.
  SimConfig cfg;
  cfg.load = 1.2;
  const SimResult full = run(*edge_, cfg), shallow = run(*edge_, cfg, 1);
  ASSERT_EQ(full.jobs.size(), shallow.jobs.size());
  for (std::size_t i = 0; i < full.jobs.size(); ++i) {
    EXPECT_EQ(full.jobs[i].release, shallow.jobs[i].release);
    EXPECT_EQ(full.jobs[i].deadline, shallow.jobs[i].deadline);
    EXPECT_EQ(full.jobs[i].oracle.data(), shallow.jobs[i].oracle.data());
  }
  EXPECT_DOUBLE_EQ(shallow.metrics.total.mean_depth, 1.0);
}

// The real-time experiment serves plan_jobs' jobs: they must be the simulator's, sample for sample.
TEST_F(SimulatorTest, PlanJobsIsWhatTheSimulatorServes) {
  SimConfig cfg;
  cfg.load = 2.0;
  cfg.seed = 9;
  const SimResult r = run(*edge_, cfg);
  const JobPlan plan = plan_jobs(*edge_, cfg.load, cfg.seed, edge_->duration);
  ASSERT_EQ(plan.jobs.size(), r.jobs.size());
  ASSERT_EQ(plan.samples.size(), r.jobs.size());
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) {
    EXPECT_EQ(plan.jobs[i].release, r.jobs[i].release);
    EXPECT_EQ(plan.jobs[i].stream, r.jobs[i].stream);
    const ReplaySet& test = edge_->test_sets[static_cast<std::size_t>(plan.jobs[i].model)];
    EXPECT_EQ(test.sample(plan.samples[i]).data(), r.jobs[i].oracle.data());
  }
  EXPECT_THROW(plan_jobs(*edge_, 0.0, 1, edge_->duration), Error);
  EXPECT_THROW(plan_jobs(*edge_, 1.0, 1, 0), Error);
}

TEST_F(SimulatorTest, OverloadEndsEveryJobExactlyOnce) {
  for (double load : {3.0, 5.0}) {
    SimConfig cfg;
    cfg.load = load;
    cfg.seed = 5;
    cfg.duration = from_seconds(10);
    const SimResult r = run(*edge_, cfg);
    expect_one_outcome_each(r);
    EXPECT_EQ(r.protocol_violations, 0);
    EXPECT_GT(r.metrics.total.missed, 0) << "load " << load;
    EXPECT_GT(r.metrics.utilization, 0.9);
    EXPECT_GT(r.metrics.wasted_ms, 0.0);
    EXPECT_EQ(r.metrics.streams.size(), edge_->streams.size());
    int per_stream = 0;
    for (const auto& s : r.metrics.streams) per_stream += s.jobs;
    EXPECT_EQ(per_stream, r.metrics.total.jobs);
  }
}

TEST_F(SimulatorTest, WorkThatCanNoLongerHelpIsNotStarted) {
  // Stages take exactly their median: a stage the host starts always ends by the deadline it was
  // checked against, so nothing is wasted even at 5x overload, and the hopeless jobs are answered
  // before their deadline instead (as the runtime Engine does).
  SimConfig cfg;
  cfg.load = 5.0;
  cfg.seed = 3;
  cfg.duration = from_seconds(5);
  cfg.deterministic_times = true;
  cfg.policy.figure = PlanningFigure::p50;
  const SimResult r = run(*edge_, cfg);
  expect_one_outcome_each(r);
  EXPECT_EQ(r.metrics.wasted_ms, 0.0);
  int answered_early = 0;
  for (std::size_t i = 0; i < r.jobs.size(); ++i)
    if (r.outcomes[i].status == OutcomeStatus::missed && r.outcomes[i].finish < r.jobs[i].deadline) ++answered_early;
  EXPECT_GT(answered_early, 0);
}

TEST_F(SimulatorTest, LoadScalesJobCount) {
  SimConfig lo, hi;
  lo.load = 0.5;
  hi.load = 1.0;
  lo.duration = hi.duration = from_seconds(20);
  const auto a = run(*edge_, lo).metrics.total.jobs, b = run(*edge_, hi).metrics.total.jobs;
  EXPECT_NEAR(static_cast<double>(b) / a, 2.0, 0.15);
}

/// Breaks the protocol on purpose: dispatches every job at the wrong stage.
class WrongStage : public Policy {
 public:
  std::string_view name() const override { return "wrong-stage"; }
  void on_release(const Job& job, Time) override { pending_.push_back(job.id); }
  void on_stage_done(JobId, int, double, Time) override {}
  void on_expire(JobId id, Time) override { std::erase(pending_, id); }
  Decision next(Time) override {
    if (pending_.empty()) return Idle{};
    id_ = pending_.front();
    return Dispatch{0, 2, std::span<const JobId>(&id_, 1)};
  }

 private:
  std::vector<JobId> pending_;
  JobId id_ = 0;
};

TEST_F(SimulatorTest, ProtocolViolationsFailJobsButKeepTheInvariant) {
  WrongStage policy;
  SimConfig cfg;
  cfg.duration = from_seconds(1);
  const SimResult r = simulate(*single_, policy, cfg);
  expect_one_outcome_each(r);
  EXPECT_GT(r.protocol_violations, 0);
  EXPECT_EQ(r.metrics.total.failed, r.metrics.total.jobs);
  EXPECT_NE(r.outcomes[0].message.find("protocol"), std::string::npos);
}

TEST_F(SimulatorTest, MetricsRenderings) {
  SimConfig cfg;
  cfg.duration = from_seconds(2);
  const SimResult r = run(*edge_, cfg);
  const nlohmann::json j = to_json(r.metrics);
  for (const char* key : {"jobs", "accuracy", "miss_ratio", "drop_ratio", "mean_depth", "utilization",
                          "decision_p50_us", "decision_p99_us", "events"})
    EXPECT_TRUE(j.contains(key) && j[key].is_number()) << key;
  EXPECT_EQ(j["policy"], "tiny-edf");
  ASSERT_TRUE(j["streams"].is_array());
  EXPECT_EQ(j["streams"].size(), 4u);
  EXPECT_EQ(j["streams"][0]["name"], "camera");
  const auto columns = [](const std::string& s) { return std::count(s.begin(), s.end(), ',') + 1; };
  EXPECT_EQ(columns(csv_header()), columns(to_csv_row(r.metrics)));
  EXPECT_EQ(to_csv_row(r.metrics).rfind("tiny-edf,1,1,", 0), 0u);
}

TEST_F(SimulatorTest, ReportsTheDeltaThePlansUsed) {
  // yao-dp quantizes each decision that searches by eps * Rmax / n of its own jobs: the largest quantum is that of
  // a one-job decision, at most eps times the largest reward (weights here are <= 1). The sparse DP
  // stays under its state cap even at load 5: nothing is coarsened. Density quantizes nothing.
  SimConfig cfg;
  cfg.load = 5.0;
  const SimResult heavy = simulate(*edge_, "yao-dp", cfg);
  EXPECT_EQ(heavy.metrics.coarsened_decisions, 0);
  EXPECT_GT(heavy.metrics.delta_used_max, 0.0);
  EXPECT_LE(heavy.metrics.delta_used_max, cfg.policy.delta.eps);
  const nlohmann::json j = to_json(heavy.metrics);
  EXPECT_EQ(j.at("coarsened_decisions").get<std::int64_t>(), heavy.metrics.coarsened_decisions);
  EXPECT_EQ(j.at("delta_used_max").get<double>(), heavy.metrics.delta_used_max);
  // At load 0.5 every job fits at full depth at every decision: no search, no quantum (the exact plan).
  cfg.load = 0.5;
  cfg.duration = from_seconds(5);
  cfg.policy.delta.absolute = 0.02;
  EXPECT_EQ(simulate(*edge_, "yao-dp", cfg).metrics.delta_used_max, 0.0);
  cfg.load = 3.0;  // decisions that search use a fixed quantum as is
  cfg.duration = from_seconds(2);
  const SimResult light = simulate(*edge_, "yao-dp", cfg);
  EXPECT_EQ(light.metrics.coarsened_decisions, 0);
  EXPECT_EQ(light.metrics.delta_used_max, 0.02);
  const SimResult greedy = simulate(*edge_, "density", cfg);
  EXPECT_EQ(greedy.metrics.coarsened_decisions, 0);
  EXPECT_EQ(greedy.metrics.delta_used_max, 0.0);
}

TEST_F(SimulatorTest, RejectsBadSetup) {
  SimConfig cfg;
  cfg.load = 0;
  TinyEdf p(single_->models);
  EXPECT_THROW(simulate(*single_, p, cfg), Error);
  Scenario broken = *single_;
  broken.test_sets.clear();
  EXPECT_THROW(simulate(broken, p, SimConfig{}), Error);
}

}  // namespace
}  // namespace imprecise::sim
