// Tests of the simulator's executor lanes: more lanes serve more, stage times at the lanes' concurrency.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/simulator.hpp"

namespace imprecise::sim {
namespace {

std::string source(const std::string& rel) { return std::string(IMPRECISE_SOURCE_DIR) + "/" + rel; }

SimConfig config_at(double load, int lanes) {
  SimConfig c;
  c.load = load;
  c.lanes = lanes;
  c.seed = 3;
  c.duration = from_seconds(5);
  return c;
}

int completed(const SimResult& r) { return r.metrics.total.completed; }

TEST(SimLanes, TwoLanesServeMoreThanOneAtOverload) {
  const Scenario sc = load_scenario(source("scenarios/edge_multi_model.json"));
  for (const char* policy : {"edf-full", "yao-dp"}) {
    const SimResult one = simulate(sc, policy, config_at(8.0, 1));
    const SimResult two = simulate(sc, policy, config_at(8.0, 2));
    // Load 8 on one lane: edf-full misses half the jobs, yao-dp 7 % (and runs the rest shallow).
    EXPECT_GT(completed(two), completed(one)) << policy;
    EXPECT_GT(two.metrics.total.correct, one.metrics.total.correct * 11 / 10) << policy;
    EXPECT_LE(two.metrics.utilization, 1.0) << policy;
    EXPECT_EQ(two.protocol_violations, 0) << policy;
  }
}

TEST(SimLanes, YaoDpOnTwoLanesEarnsWhatDensityEarnsWhenItsDpWindowIsNarrower) {
  // tests/fixtures/served_two_lanes: the edge scenario with the 2-lane stage times a real 10 s run
  // served at load 4 (2026-11-29 17:31 UTC, 1.1-1.5x the committed ones). Over several lanes yao-dp's
  // DP plans 12 jobs (lanes_dp_window) where density plans 32; with only its DP window, yao-dp earned
  // 1.8-2.0 points less than density here (seeds 1-3), because the jobs past that window were held to
  // their mandatory parts. The density plan the whole window wide, kept when it earns more, closes it.
  const Scenario sc = load_scenario(source("tests/fixtures/served_two_lanes/edge_server.json"));
  SimConfig config = config_at(4.0, 2);
  config.seed = 1;
  const SimResult yao = simulate(sc, "yao-dp", config);
  const SimResult density = simulate(sc, "density", config);
  EXPECT_GE(yao.metrics.total.accuracy, density.metrics.total.accuracy - 0.005);
  EXPECT_EQ(yao.metrics.total.missed, 0);
  EXPECT_EQ(yao.protocol_violations, 0);
}

TEST(SimLanes, LanesBelowOneAreAnErrorNamingTheField) {
  const Scenario sc = load_scenario(source("scenarios/single_vision.json"));
  try {
    simulate(sc, "edf-full", config_at(1.0, 0));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lanes"), std::string::npos) << e.what();
  }
}

/// Records every stage's (start, end) and how many lanes ran at its start.
class StageLog final : public Observer {
 public:
  void on_dispatch(int lane, ModelId, int stage, std::span<const JobInfo> jobs, Time) override {
    busy[static_cast<std::size_t>(lane)] = true;
    const int running = static_cast<int>(std::count(busy.begin(), busy.end(), true));
    pending[static_cast<std::size_t>(lane)] = {stage, static_cast<int>(jobs.size()), running};
  }
  void on_stage_done(int lane, ModelId, int, std::span<const JobInfo>, Time started, Time ended, bool) override {
    busy[static_cast<std::size_t>(lane)] = false;
    Entry e = pending[static_cast<std::size_t>(lane)];
    e.length = ended - started;
    done.push_back(e);
  }
  struct Entry {
    int stage = 0, batch = 0, running = 0;
    Duration length = 0;
  };
  std::vector<bool> busy = std::vector<bool>(2, false);
  std::vector<Entry> pending = std::vector<Entry>(2);
  std::vector<Entry> done;
};

Profile scaled(const Profile& p, double factor) {
  std::vector<std::vector<StageTiming>> table = p.table();
  for (auto& stage : table)
    for (StageTiming& t : stage) {
      const auto x = [&](Duration d) { return static_cast<Duration>(static_cast<double>(d) * factor); };
      t = {x(t.mean), x(t.p50), x(t.p99), x(t.max)};
    }
  return Profile(p.batch_sizes(), table);
}

TEST(SimLanes, AStageRunsAtTheProfileOfTheLanesBusyOnceItStarts) {
  Scenario sc = load_scenario(source("scenarios/single_vision.json"));
  Model& model = sc.models[0];
  model.concurrent = {scaled(model.profile, 3.0)};  // two instances at once: each 3x slower
  SimConfig c = config_at(2.0, 2);
  c.deterministic_times = true;  // every stage takes exactly its p50
  auto log = std::make_shared<StageLog>();
  c.observers.push_back(log);
  const SimResult r = simulate(sc, "edf-full", c);
  ASSERT_FALSE(log->done.empty());
  int alone = 0, together = 0;
  for (const StageLog::Entry& e : log->done) {
    const Profile& p = model.profile_at(e.running);
    EXPECT_EQ(e.length, p.timing(e.stage, e.batch).p50) << "stage " << e.stage << " batch " << e.batch;
    (e.running > 1 ? together : alone) += 1;
  }
  EXPECT_GT(alone, 0);
  EXPECT_GT(together, 0);
  EXPECT_EQ(r.protocol_violations, 0);
}

TEST(SimLanes, IdenticalSeedsGiveIdenticalRunsWithLanes) {
  const Scenario sc = load_scenario(source("scenarios/edge_multi_model.json"));
  const SimResult a = simulate(sc, "yao-dp", config_at(4.0, 3));
  const SimResult b = simulate(sc, "yao-dp", config_at(4.0, 3));
  ASSERT_EQ(a.outcomes.size(), b.outcomes.size());
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
    EXPECT_EQ(a.outcomes[i].status, b.outcomes[i].status) << i;
    EXPECT_EQ(a.outcomes[i].finish, b.outcomes[i].finish) << i;
    EXPECT_EQ(a.outcomes[i].exit, b.outcomes[i].exit) << i;
  }
  EXPECT_EQ(a.metrics.utilization, b.metrics.utilization);
}

}  // namespace
}  // namespace imprecise::sim
