// The CLI's results against the behaviour snapshot in tests/golden (byte for byte), and `simulate --trace`.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

namespace {

using namespace imprecise::testing;
using nlohmann::json;

/// `words` followed by one shell-quoted argument.
std::string fmt_args(const std::string& words, const std::string& argument) { return words + " " + quote(argument); }

class CliGolden : public CliFixture {};

// Behaviour snapshot (tests/golden, written by scripts/make_golden.py before the PolicyHost refactoring):
// `simulate` on the edge scenario for every policy at loads 0.5-5 and `plan` on fixed instances must give
// exactly the saved results. Wall-clock fields (decision times, events per second) are left out.
TEST_F(CliGolden, SimulateMatchesTheSavedResultsExactly) {
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

TEST_F(CliGolden, PlanMatchesTheSavedResultsByteForByte) {
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

TEST_F(CliGolden, SimulateTraceIsAChromeTraceOfTheRunOnSimulatedTime) {
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

}  // namespace
