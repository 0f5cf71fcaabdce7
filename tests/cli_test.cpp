// Tests of the `imprecise` command-line tool: plan results, every input-error path, simulate and sweep outputs.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

/// `words` followed by one shell-quoted argument.
std::string fmt_args(const std::string& words, const std::string& argument) { return words + " " + quote(argument); }

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string cli = IMPRECISE_CLI_PATH;
    if (cli.empty() || !fs::exists(cli)) GTEST_SKIP() << "CLI not built: '" << cli << "'";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("imprecise_cli_test_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  /// Runs the CLI with `args` (already shell-quoted where needed), capturing stdout, stderr, exit status.
  RunResult run(const std::string& args) {
    const fs::path err_path = dir_ / "stderr.txt";
    const std::string command = quote(IMPRECISE_CLI_PATH) + " " + args + " 2>" + quote(err_path.string());
    RunResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return result;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
    const int status = pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.err = slurp(err_path);
    return result;
  }

  json plan(const json& instance, const std::string& extra = "") {
    const fs::path path = write("instance.json", instance.dump());
    const RunResult r = run("plan --instance " + quote(path.string()) + " " + extra);
    EXPECT_EQ(r.status, 0) << r.err;
    return json::parse(r.out);
  }

  /// Expects exit code 2 and one stderr line "imprecise: error: ..." containing every `needles`.
  void expect_input_error(const RunResult& r, const std::vector<std::string>& needles) {
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(r.err.rfind("imprecise: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const auto& needle : needles) EXPECT_NE(r.err.find(needle), std::string::npos) << "missing '" << needle << "' in: " << r.err;
  }

  static std::string scenario_path() {
    for (const char* name : {"scenarios/single_vision.json", "scenarios/edge_multi_model.json"}) {
      const fs::path path = fs::path(IMPRECISE_SOURCE_DIR) / name;
      if (fs::exists(path)) return path.string();
    }
    return {};
  }

  fs::path dir_;
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

TEST_F(CliTest, SimulateWarnsWhenTheDpCoarsenedItsDelta) {
  // On the edge scenario at load 5 the DP's state cap coarsens delta on some decisions: the JSON and
  // a warning say so.
  const std::string scenario = (fs::path(IMPRECISE_SOURCE_DIR) / "scenarios" / "edge_multi_model.json").string();
  const fs::path out = dir_ / "coarse.json";
  const RunResult r = run("simulate --scenario " + quote(scenario) + " --policy yao-dp --load 5 --json " + quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("coarsened the reward quantum"), std::string::npos) << r.err;
  const json metrics = json::parse(slurp(out));
  EXPECT_GT(metrics.at("coarsened_decisions").get<int>(), 0);
  EXPECT_GT(metrics.at("delta_used_max").get<double>(), 0.01);
  const RunResult light = run("simulate --scenario " + quote(scenario) + " --policy yao-dp --load 0.5 --duration 2");
  ASSERT_EQ(light.status, 0) << light.err;
  EXPECT_EQ(light.err.find("coarsened"), std::string::npos) << light.err;
}

TEST_F(CliTest, SimulateTraceIsAChromeTraceOfTheRunOnSimulatedTime) {
  const fs::path scenario = fs::path(IMPRECISE_SOURCE_DIR) / "scenarios" / "edge_multi_model.json";
  const fs::path trace = dir_ / "sim.trace.json";
  const RunResult r = run(fmt_args("simulate --scenario", scenario.string()) +
                          " --policy yao-dp --load 3 --duration 0.5 --json " + quote((dir_ / "m.json").string()) +
                          " --trace " + quote(trace.string()));
  ASSERT_EQ(r.status, 0) << r.err;
  const json metrics = json::parse(slurp(dir_ / "m.json"));
  const json events = json::parse(slurp(trace)).at("traceEvents");
  std::size_t slices = 0, markers = 0;
  bool named = false;
  for (const json& e : events) {
    if (e.at("ph") == "X") {
      ++slices;
      EXPECT_EQ(e.at("tid"), 1) << "one lane: track 1";
      EXPECT_GE(e.at("dur").get<double>(), 0.0);
    } else if (e.at("ph") == "i") {
      ++markers;
    } else if (e.at("name") == "process_name") {
      named = e.at("args").at("name").get<std::string>().find("simulator") != std::string::npos;
    }
  }
  EXPECT_TRUE(named) << "the trace says it is the simulator's";
  EXPECT_GT(slices, 100u);
  // One marker per job that was not completed (drop, miss, reject or fail).
  const auto not_completed = metrics.at("missed").get<std::size_t>() + metrics.at("rejected").get<std::size_t>() +
                             metrics.at("failed").get<std::size_t>();
  EXPECT_EQ(markers, not_completed);
  const RunResult bad = run(fmt_args("simulate --scenario", scenario.string()) + " --policy yao-dp --trace " +
                            quote((dir_ / "no" / "such" / "dir" / "t.json").string()));
  expect_input_error(bad, {"--trace", "cannot open"});
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

// Behaviour snapshot (tests/golden, written by scripts/make_golden.py before the PolicyHost refactoring):
// `simulate` on the edge scenario for every policy at loads 0.5-5 and `plan` on fixed instances must give
// exactly the saved results. Wall-clock fields (decision times, events per second) are left out.
TEST_F(CliTest, SimulateMatchesTheSavedResultsExactly) {
  const fs::path golden = fs::path(IMPRECISE_SOURCE_DIR) / "tests" / "golden" / "simulate";
  const fs::path scenario = fs::path(IMPRECISE_SOURCE_DIR) / "scenarios" / "edge_multi_model.json";
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(golden)) {
    const json expected = json::parse(slurp(entry.path()));
    const fs::path out = dir_ / "sim.json";
    const RunResult r = run(fmt_args("simulate --scenario", scenario.string()) + " --policy " +
                            quote(expected.at("policy").get<std::string>()) + " --load " +
                            std::to_string(expected.at("load").get<double>()) + " --json " + quote(out.string()));
    ASSERT_EQ(r.status, 0) << r.err;
    json got = json::parse(slurp(out));
    for (const char* wall_clock : {"decision_p50_us", "decision_p99_us", "events_per_second"}) got.erase(wall_clock);
    EXPECT_EQ(got, expected) << entry.path().filename();
    ++compared;
  }
  EXPECT_EQ(compared, 45) << "9 policies x 5 loads";
}

TEST_F(CliTest, PlanMatchesTheSavedResultsByteForByte) {
  const fs::path golden = fs::path(IMPRECISE_SOURCE_DIR) / "tests" / "golden" / "plan";
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(golden)) {
    if (entry.path().extension() != ".out") continue;
    // <instance>.<policy>[.delta1].out
    const std::string name = entry.path().stem().string();
    const auto dot = name.find('.');
    const std::string instance = name.substr(0, dot);
    std::string policy = name.substr(dot + 1);
    std::string extra;
    if (policy.ends_with(".delta1")) {
      policy.resize(policy.size() - 7);
      extra = " --delta 1";
    }
    const RunResult r = run(fmt_args("plan --instance", (golden / (instance + ".instance.json")).string()) +
                            " --policy " + policy + extra);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, slurp(entry.path())) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 48) << "8 instances x 3 planners x 2 deltas";
}

}  // namespace
