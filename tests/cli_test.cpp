// Tests of the `imprecise` command-line tool: plan results, every input-error path, simulate and sweep outputs.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using namespace imprecise::testing;

class CliTest : public CliFixture {
 protected:
  json plan(const json& instance, const std::string& extra = "") {
    const fs::path path = write("instance.json", instance.dump());
    const RunResult r = run("plan --instance " + quote(path.string()) + " " + extra);
    EXPECT_EQ(r.status, 0) << r.err;
    return json::parse(r.out);
  }

  static std::string scenario_path() {
    for (const char* name : {"scenarios/single_vision.json", "scenarios/edge_multi_model.json"}) {
      const fs::path path = fs::path(IMPRECISE_SOURCE_DIR) / name;
      if (fs::exists(path)) return path.string();
    }
    return {};
  }

};

json job(double deadline, std::vector<double> times, std::vector<double> rewards, int mandatory = 1) {
  return {{"deadline", deadline}, {"cumulative_time", times}, {"reward", rewards}, {"mandatory", mandatory}};
}

// Hand-verified: EDF order is job 1 (d 6) then job 0 (d 10).
//   job 1 depth 2 (t 3) + job 0 depth 2 (t 3+5 = 8 <= 10): 7 + 8 = 15   <- best
//   job 1 depth 1 (t 1) + job 0 depth 3 (t 1+9 = 10 <= 10): 4 + 10 = 14
//   job 1 depth 2 (t 3) + job 0 depth 3 (t 12 > 10): infeasible
json hand_instance() {
  return {{"now", 0}, {"jobs", {job(10, {2, 5, 9}, {5, 8, 10}), job(6, {1, 3}, {4, 7})}}};
}

json example_instance() {
  return {{"now", 0},
          {"jobs",
           {job(18, {2, 3, 5, 7, 9}, {12, 15, 16, 17, 17}), job(10, {1, 4, 6}, {10, 14, 15}),
            job(25, {3, 6, 8, 12}, {8, 12, 15, 20}, 2), job(12, {2, 4}, {6, 11})}}};
}

TEST_F(CliTest, PlanHandVerifiedExactDepths) {
  for (const std::string policy : {"yao-dp", "exhaustive", "density"}) {
    const json out = plan(hand_instance(), "--policy " + policy + " --delta 1");
    EXPECT_EQ(out.at("depths"), json({2, 2})) << policy;
    EXPECT_DOUBLE_EQ(out.at("total_reward").get<double>(), 15.0) << policy;
    EXPECT_EQ(out.at("dropped"), json::array()) << policy;
    EXPECT_TRUE(out.at("feasible").get<bool>()) << policy;
  }
}

TEST_F(CliTest, PlanDpMatchesExhaustive) {
  // Integer rewards: yao-dp with delta 1 is exact, so its total equals exhaustive search's.
  const json exhaustive = plan(example_instance(), "--policy exhaustive");
  const json dp_exact = plan(example_instance(), "--policy yao-dp --delta 1");
  const json dp_default = plan(example_instance());
  EXPECT_DOUBLE_EQ(dp_exact.at("total_reward").get<double>(), exhaustive.at("total_reward").get<double>());
  EXPECT_DOUBLE_EQ(dp_default.at("total_reward").get<double>(), exhaustive.at("total_reward").get<double>());
  EXPECT_EQ(dp_exact.at("dropped"), exhaustive.at("dropped"));
  EXPECT_TRUE(exhaustive.at("feasible").get<bool>());
  ASSERT_EQ(exhaustive.at("depths").size(), 4u);

  // Deterministic pseudo-random instances (integer rewards): the same optimum, every time.
  std::uint64_t state = 12345;
  auto next = [&](int bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((state >> 33) % static_cast<std::uint64_t>(bound));
  };
  for (int trial = 0; trial < 6; ++trial) {
    json jobs = json::array();
    const int n = 3 + next(4);
    for (int i = 0; i < n; ++i) {
      const int depth = 1 + next(4);
      std::vector<double> times, rewards;
      double t = 0, r = 0;
      for (int l = 0; l < depth; ++l) {
        t += 1 + next(4);
        r += next(6);
        times.push_back(t);
        rewards.push_back(r);
      }
      jobs.push_back(job(2 + next(20), times, rewards, 1 + next(depth)));
    }
    const json instance = {{"now", 0}, {"jobs", jobs}};
    const json a = plan(instance, "--policy exhaustive");
    const json b = plan(instance, "--policy yao-dp --delta 1");
    EXPECT_DOUBLE_EQ(a.at("total_reward").get<double>(), b.at("total_reward").get<double>()) << instance.dump();
    EXPECT_EQ(a.at("dropped").size(), b.at("dropped").size()) << instance.dump();
  }
}

TEST_F(CliTest, PlanWeightMultipliesReward) {
  json instance = hand_instance();
  instance["jobs"][0]["weight"] = 2.0;  // job 0: 10, 16, 20
  // job 1 depth 1 + job 0 depth 3: 4 + 20 = 24 beats 7 + 16 = 23.
  const json out = plan(instance, "--policy exhaustive");
  EXPECT_EQ(out.at("depths"), json({3, 1}));
  EXPECT_DOUBLE_EQ(out.at("total_reward").get<double>(), 24.0);
}

TEST_F(CliTest, PlanReportsDroppedJobs) {
  // Both mandatory parts take 2 and both are due at 2: one must go; the one worth less.
  const json instance = {{"now", 0}, {"jobs", {job(2, {2}, {1}), job(2, {2}, {3})}}};
  for (const std::string policy : {"yao-dp", "exhaustive", "density"}) {
    const json out = plan(instance, "--policy " + policy);
    EXPECT_EQ(out.at("dropped"), json({0})) << policy;
    EXPECT_EQ(out.at("depths"), json({0, 1})) << policy;
    EXPECT_DOUBLE_EQ(out.at("total_reward").get<double>(), 3.0) << policy;
    EXPECT_TRUE(out.at("feasible").get<bool>()) << policy;
  }
}

TEST_F(CliTest, PlanEmptyInstance) {
  const json out = plan({{"now", 5}, {"jobs", json::array()}});
  EXPECT_EQ(out.at("depths"), json::array());
  EXPECT_EQ(out.at("dropped"), json::array());
}

TEST_F(CliTest, PlanInputErrorsNameTheField) {
  auto plan_error = [&](const std::string& text, const std::vector<std::string>& needles,
                        const std::string& extra = "") {
    const fs::path path = write("bad.json", text);
    std::vector<std::string> all = needles;
    all.push_back("bad.json");
    expect_input_error(run("plan --instance " + quote(path.string()) + " " + extra), all);
  };
  plan_error("{\"jobs\": [ {\"deadline\": 3,", {"malformed JSON"});
  plan_error(R"({"jobs": [{"deadline": 9, "cumulative_time": [2, -1], "reward": [1, 2]}]})",
             {"jobs[0].cumulative_time[1]: must be >= 0"});
  plan_error(R"({"jobs": [{"deadline": 9, "cumulative_time": [3, 2], "reward": [1, 2]}]})",
             {"jobs[0].cumulative_time[1]", "non-decreasing"});
  plan_error(R"({"now": 5, "jobs": [{"deadline": 9, "cumulative_time": [1], "reward": [1]},
                                     {"deadline": 3, "cumulative_time": [1], "reward": [1]}]})",
             {"jobs[1].deadline: before now"});
  plan_error(R"({"jobs": [{"deadline": 9, "cumulative_time": [1, 2], "reward": [1]}]})", {"jobs[0].reward"});
  plan_error(R"({"jobs": [{"deadline": 9, "cumulative_time": [1, 2], "reward": [1, 2], "mandatory": 3}]})",
             {"jobs[0].mandatory"});
  plan_error(R"({"jobs": [{"cumulative_time": [1], "reward": [1]}]})", {"jobs[0].deadline: missing"});
  plan_error(R"({"jobs": [{"deadline": "soon", "cumulative_time": [1], "reward": [1]}]})", {"jobs[0].deadline"});
  plan_error(R"({"jobs": [{"deadline": 9, "cumulative_time": [1], "reward": [-1]}]})", {"jobs[0].reward[0]"});
  plan_error(R"({"now": 0})", {"jobs: missing"});
  plan_error(R"([1, 2])", {"must be an object"});

  const fs::path good = write("good.json", hand_instance().dump());
  expect_input_error(run("plan --instance " + quote(good.string()) + " --policy greedy-ish"),
                     {"--policy", "greedy-ish"});
  expect_input_error(run("plan --instance " + quote(good.string()) + " --delta 0"), {"--delta"});
  expect_input_error(run("plan --instance " + quote(good.string()) + " --eps 1.5"), {"--eps"});
  expect_input_error(run("plan --instance " + quote((dir_ / "missing.json").string())),
                     {"missing.json", "cannot open"});
}

TEST_F(CliTest, ParseErrorsUseCli11ExitHandling) {
  const RunResult r = run("plan");  // --instance is required
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("--instance"), std::string::npos) << r.err;
  EXPECT_NE(run("no-such-command").status, 0);
  EXPECT_EQ(run("--help").status, 0);
}

TEST_F(CliTest, SimulateWritesMetricsJson) {
  const std::string scenario = scenario_path();
  if (scenario.empty()) GTEST_SKIP() << "no scenario file";
  const fs::path out = dir_ / "metrics.json";
  const RunResult r = run("simulate --scenario " + quote(scenario) + " --policy yao-dp --duration 2 --json " +
                          quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("total"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("accuracy"), std::string::npos) << r.out;
  const json metrics = json::parse(slurp(out));
  for (const char* key : {"jobs", "accuracy", "miss_ratio", "drop_ratio", "mean_depth", "streams"})
    EXPECT_TRUE(metrics.contains(key)) << key;
  EXPECT_GT(metrics.at("jobs").get<int>(), 0);
  ASSERT_TRUE(metrics.at("streams").is_array());
  EXPECT_GE(metrics.at("streams").size(), 1u);

  // Same seed, same result (timing fields aside).
  const fs::path again = dir_ / "again.json";
  ASSERT_EQ(run("simulate --scenario " + quote(scenario) + " --policy yao-dp --duration 2 --json " +
                quote(again.string())).status, 0);
  const json second = json::parse(slurp(again));
  for (const char* key : {"jobs", "accuracy", "miss_ratio", "drop_ratio", "mean_depth"})
    EXPECT_EQ(metrics.at(key), second.at(key)) << key;
}

TEST_F(CliTest, SimulateReportsTheDpQuantum) {
  // On the edge scenario at load 5 the sparse DP keeps the default quantum (eps * Rmax / n) on every
  // decision: the JSON says so and no coarsening warning is printed. --eps and --delta set the quantum.
  const std::string scenario = (fs::path(IMPRECISE_SOURCE_DIR) / "scenarios" / "edge_multi_model.json").string();
  const fs::path out = dir_ / "quantum.json";
  const RunResult r = run("simulate --scenario " + quote(scenario) + " --policy yao-dp --load 5 --json " + quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("coarsened"), std::string::npos) << r.err;
  const json metrics = json::parse(slurp(out));
  EXPECT_EQ(metrics.at("coarsened_decisions").get<int>(), 0);
  EXPECT_GT(metrics.at("delta_used_max").get<double>(), 0.0);
  EXPECT_LE(metrics.at("delta_used_max").get<double>(), 0.01);
  const RunResult coarse = run("simulate --scenario " + quote(scenario) + " --policy yao-dp --load 3 --duration 2 --eps 0.2 --json " +
                               quote(out.string()));
  ASSERT_EQ(coarse.status, 0) << coarse.err;
  EXPECT_GT(json::parse(slurp(out)).at("delta_used_max").get<double>(), 0.01);
  const RunResult fixed = run("simulate --scenario " + quote(scenario) + " --policy yao-dp --load 3 --duration 2 --delta 0.03 --json " +
                              quote(out.string()));
  ASSERT_EQ(fixed.status, 0) << fixed.err;
  EXPECT_EQ(json::parse(slurp(out)).at("delta_used_max").get<double>(), 0.03);
  expect_input_error(run("simulate --scenario " + quote(scenario) + " --policy yao-dp --eps 0"), {"--eps"});
  expect_input_error(run("simulate --scenario " + quote(scenario) + " --policy yao-dp --delta -1"), {"--delta"});
}

TEST_F(CliTest, SimulateDrawsJobsFromTheCalibrationSplitWhenAsked) {
  // --jobs-from calibration: the same arrivals carry calibration samples (a tuning run never sees the
  // test split), so the accuracy differs from the test run's; a split that does not exist is an error.
  const std::string scenario = (fs::path(IMPRECISE_SOURCE_DIR) / "scenarios" / "edge_multi_model.json").string();
  auto accuracy = [&](const std::string& extra) {
    const fs::path out = dir_ / "split.json";
    const RunResult r = run("simulate --scenario " + quote(scenario) + " --policy edf-mandatory --duration 2 " + extra +
                            " --json " + quote(out.string()));
    EXPECT_EQ(r.status, 0) << r.err;
    const json metrics = json::parse(slurp(out));
    return std::make_pair(metrics.at("jobs").get<int>(), metrics.at("accuracy").get<double>());
  };
  const auto test = accuracy("");
  const auto explicit_test = accuracy("--jobs-from test");
  const auto calibration = accuracy("--jobs-from calibration");
  EXPECT_EQ(test, explicit_test);
  EXPECT_EQ(test.first, calibration.first);  // the same jobs...
  EXPECT_NE(test.second, calibration.second);  // ...with other samples
  expect_input_error(run("simulate --scenario " + quote(scenario) + " --policy yao-dp --jobs-from train"),
                     {"--jobs-from", "train"});
}

TEST_F(CliTest, SimulateInputErrors) {
  const std::string scenario = scenario_path();
  if (scenario.empty()) GTEST_SKIP() << "no scenario file";
  expect_input_error(run("simulate --scenario " + quote(scenario) + " --policy nope --duration 1"),
                     {"--policy", "nope"});
  expect_input_error(run("simulate --scenario " + quote(scenario) + " --policy edf-fixed:x --duration 1"),
                     {"--policy", "edf-fixed:x"});
  expect_input_error(run("simulate --scenario " + quote(scenario) + " --policy yao-dp --load -1"), {"--load"});
  expect_input_error(run("simulate --scenario " + quote(scenario) + " --policy yao-dp --figure p42"), {"--figure"});
  expect_input_error(run("simulate --scenario " + quote((dir_ / "none.json").string()) + " --policy yao-dp"),
                     {"none.json"});
  const fs::path bad = write("bad_scenario.json", "{\"name\": \"x\", \"models\": ");
  expect_input_error(run("simulate --scenario " + quote(bad.string()) + " --policy yao-dp"), {"bad_scenario.json"});
}

TEST_F(CliTest, SweepWritesOneRowPerRun) {
  const std::string scenario = scenario_path();
  if (scenario.empty()) GTEST_SKIP() << "no scenario file";
  const fs::path out = dir_ / "sweep";
  const RunResult r = run("sweep --scenario " + quote(scenario) +
                          " --policies yao-dp,edf-full --loads 0.5,1.5 --seeds 1 --duration 2 --no-plot --out " +
                          quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.err;

  std::ifstream sweep(out / "sweep.csv");
  std::vector<std::string> lines;
  for (std::string line; std::getline(sweep, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1u + 2 * 2);
  EXPECT_EQ(lines[0].rfind("policy,load,seed,", 0), 0u) << lines[0];
  // Stable order: policy, then load, then seed, whatever thread finished first.
  EXPECT_EQ(lines[1].rfind("yao-dp,0.5,1,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("yao-dp,1.5,1,", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("edf-full,0.5,1,", 0), 0u) << lines[3];
  EXPECT_EQ(lines[4].rfind("edf-full,1.5,1,", 0), 0u) << lines[4];

  std::ifstream summary(out / "summary.csv");
  std::vector<std::string> rows;
  for (std::string line; std::getline(summary, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 1u + 2 * 2);
  EXPECT_NE(rows[0].find("accuracy"), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find("miss_ratio"), std::string::npos) << rows[0];

  // The markdown table for the README: a header row with the loads, one row per policy.
  EXPECT_NE(r.out.find("| policy | load 0.5 | load 1.5 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| yao-dp |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| edf-full |"), std::string::npos) << r.out;
}

TEST_F(CliTest, SweepInputErrors) {
  const std::string scenario = scenario_path();
  if (scenario.empty()) GTEST_SKIP() << "no scenario file";
  const std::string base = "sweep --scenario " + quote(scenario) + " --out " + quote((dir_ / "o").string());
  expect_input_error(run(base + " --policies yao-dp --loads 0.5,abc"), {"--loads", "abc"});
  expect_input_error(run(base + " --policies yao-dp --loads 0.5,,1"), {"--loads"});
  expect_input_error(run(base + " --policies yao-dp --loads 0,1"), {"--loads"});
  expect_input_error(run(base + " --policies yao-dp,bogus --loads 1"), {"--policies", "bogus"});
  expect_input_error(run(base + " --policies yao-dp --loads 1 --seeds 0"), {"--seeds"});
}

}  // namespace
