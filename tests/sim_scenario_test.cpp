// Tests of scenario files: the shipped scenarios load, and every error names the file and field.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/workload.hpp"

namespace imprecise::sim {
namespace {

using nlohmann::json;

std::string source(const std::string& rel) { return std::string(IMPRECISE_SOURCE_DIR) + "/" + rel; }

json base() {
  return json::parse(R"({
    "name": "t", "duration_s": 2, "max_batch": 4,
    "models": [{"name": "m", "mandatory": 1,
                "profile": {"stage_ms": [1.0, 2.0, 3.0]},
                "replay": {"parametric": {"exit_accuracy": [0.7, 0.8, 0.9]},
                           "calibration_samples": 500, "test_samples": 300, "seed": 3}}],
    "streams": [{"name": "a", "model": "m", "arrival": "poisson", "rate_hz": 50, "deadline_ms": 30}]
  })");
}

TEST(Scenario, ShippedScenariosLoad) {
  const Scenario edge = load_scenario(source("scenarios/edge_multi_model.json"));
  EXPECT_EQ(edge.name, "edge_multi_model");
  ASSERT_EQ(edge.models.size(), 3u);
  EXPECT_EQ(edge.models[0].stages(), 4);
  EXPECT_EQ(edge.models[1].stages(), 3);
  EXPECT_EQ(edge.models[2].stages(), 5);
  EXPECT_EQ(edge.test_sets.size(), 3u);
  EXPECT_EQ(edge.streams.size(), 4u);
  EXPECT_EQ(edge.duration, from_seconds(60));
  EXPECT_EQ(edge.max_batch, 8);
  EXPECT_GT(full_depth_utilization(edge), 0.2);
  EXPECT_LT(full_depth_utilization(edge), 1.5);

  const Scenario single = load_scenario(source("scenarios/single_vision.json"));
  EXPECT_EQ(single.models.size(), 1u);
  EXPECT_EQ(single.test_sets[0].samples(), 2000);

  // The trace scenario resolves its CSV relative to itself and replays every arrival in it.
  const Scenario trace = load_scenario(source("scenarios/trace_replay.json"));
  ASSERT_EQ(trace.streams.size(), 1u);
  EXPECT_EQ(trace.streams[0].kind, ArrivalKind::trace);
  const auto arrivals = generate_arrivals(trace.streams[0], trace.duration, 1.0, 1);
  EXPECT_EQ(arrivals.size(), 1165u);  // rows of scenarios/traces/camera_flush.csv (scripts/make_trace.py)
}

TEST(Scenario, ShorthandProfileAndUtilization) {
  const Scenario sc = parse_scenario(base(), "t.json");
  const Profile& p = sc.models[0].profile;
  ASSERT_EQ(p.stages(), 3);
  EXPECT_EQ(p.batch_sizes(), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(p.timing(1, 1).mean, from_ms(2.0));
  // C(b) = C(1) * (1 + 0.35 (b - 1)).
  EXPECT_NEAR(static_cast<double>(p.timing(1, 4).mean), static_cast<double>(from_ms(2.0 * (1 + 0.35 * 3))), 2.0);
  EXPECT_LT(p.timing(0, 1).p50, p.timing(0, 1).mean);
  EXPECT_GT(p.timing(0, 1).p99, p.timing(0, 1).p50);
  EXPECT_GE(p.timing(0, 1).max, p.timing(0, 1).p99);
  // 50 Hz x 6 ms = 0.3 of the device.
  EXPECT_NEAR(full_depth_utilization(sc), 0.3, 1e-9);
  EXPECT_NEAR(rate_scale_for_load(sc, 0.6), 2.0, 1e-9);
  EXPECT_EQ(sc.models[0].utility.exits(), 3);
  EXPECT_EQ(sc.test_sets[0].samples(), 300);
}

TEST(Scenario, CalibrationAndTestSetsDiffer) {
  json j = base();
  j["models"][0]["replay"]["test_samples"] = 500;
  const Scenario sc = parse_scenario(j, "t.json");
  // The test set must come from a different seed than the calibration set.
  const ReplaySet cal = generate_replay(ParametricReplay{{0.7, 0.8, 0.9}}, 500, 3);
  int same = 0;
  for (std::size_t i = 0; i < cal.records.size(); ++i) same += cal.records[i].confidence == sc.test_sets[0].records[i].confidence;
  EXPECT_LT(same, 10);
}

TEST(Scenario, BinSpacingPicksEqualMassOrEqualWidthBins) {
  json j = base();
  EXPECT_EQ(parse_scenario(j, "t.json").models[0].utility.edges().size(), 3u * 9u);  // default: equal mass, 9 inner edges per exit
  j["models"][0]["replay"]["bin_spacing"] = "equal_width";
  EXPECT_TRUE(parse_scenario(j, "t.json").models[0].utility.edges().empty());
  j["models"][0]["replay"]["bin_spacing"] = "equal_mass";
  EXPECT_EQ(parse_scenario(j, "t.json").models[0].utility.edges().size(), 3u * 9u);
  j["models"][0]["replay"]["bin_spacing"] = "quantile";
  try {
    parse_scenario(j, "t.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("replay.bin_spacing: must be"), std::string::npos) << e.what();
  }
}

TEST(Scenario, MeasuredProfileTable) {
  json j = base();
  j["models"][0]["profile"] = json::parse(R"({"batch_sizes": [1, 4],
    "stages": [[{"mean_ms": 1, "p50_ms": 0.9, "p99_ms": 1.5, "max_ms": 2}, {"mean_ms": 2, "p50_ms": 1.9, "p99_ms": 2.5, "max_ms": 3}],
               [{"mean_ms": 1, "p50_ms": 0.9, "p99_ms": 1.5, "max_ms": 2}, {"mean_ms": 2, "p50_ms": 1.9, "p99_ms": 2.5, "max_ms": 3}],
               [{"mean_ms": 1, "p50_ms": 0.9, "p99_ms": 1.5, "max_ms": 2}, {"mean_ms": 2, "p50_ms": 1.9, "p99_ms": 2.5, "max_ms": 3}]]})");
  const Scenario sc = parse_scenario(j, "t.json");
  EXPECT_EQ(sc.models[0].profile.timing(2, 3).p99, from_ms(2.5));
}

// What `imprecise profile` writes (profile_to_json) reads back through a scenario's "profile" path.
TEST(Scenario, ProfileFileRoundTripsAndResolvesRelativeToTheScenario) {
  const Profile measured({1, 4}, {{{from_ms(1.0), from_ms(0.9), from_ms(1.5), from_ms(2.0)},
                                   {from_ms(2.0), from_ms(1.9), from_ms(2.5), from_ms(3.0)}},
                                  {{from_ms(0.5), from_ms(0.5), from_ms(0.75), from_ms(1.0)},
                                   {from_ms(1.0), from_ms(1.0), from_ms(1.25), from_ms(2.0)}},
                                  {{from_ms(0.25), from_ms(0.25), from_ms(0.5), from_ms(0.5)},
                                   {from_ms(1.0), from_ms(1.0), from_ms(1.0), from_ms(1.5)}}});
  const auto dir = std::filesystem::temp_directory_path() / ("imprecise_prof_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "models");
  std::ofstream(dir / "models/m.profile.json") << profile_to_json(measured).dump();
  const Profile back = load_profile((dir / "models/m.profile.json").string());
  EXPECT_EQ(back.batch_sizes(), measured.batch_sizes());
  for (int s = 0; s < 3; ++s)
    for (int b : {1, 4}) {
      EXPECT_EQ(back.timing(s, b).mean, measured.timing(s, b).mean);
      EXPECT_EQ(back.timing(s, b).max, measured.timing(s, b).max);
    }
  json j = base();
  j["models"][0]["profile"] = "models/m.profile.json";
  std::ofstream(dir / "s.json") << j.dump();
  EXPECT_EQ(load_scenario((dir / "s.json").string()).models[0].profile.timing(1, 2).p99, from_ms(1.25));
  // Errors name the profile file and the field.
  std::ofstream(dir / "models/bad.profile.json") << R"({"batch_sizes": [1], "stages": [[{"mean_ms": 1}]]})";
  j["models"][0]["profile"] = "models/bad.profile.json";
  std::ofstream(dir / "s.json") << j.dump();
  try {
    load_scenario((dir / "s.json").string());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.profile.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("p50_ms"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_profile((dir / "missing.json").string()), Error);
  std::filesystem::remove_all(dir);
}

struct ErrorCase {
  const char* label;
  std::function<void(json&)> mutate;
  const char* expected;
};

class ScenarioErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ScenarioErrorTest, NamesFileAndField) {
  json j = base();
  GetParam().mutate(j);
  try {
    parse_scenario(j, "scenarios/x.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("scenarios/x.json: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(GetParam().expected), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ScenarioErrorTest,
    ::testing::Values(
        ErrorCase{"missing_deadline", [](json& j) { j["streams"][0].erase("deadline_ms"); }, "streams[0].deadline_ms: missing field"},
        ErrorCase{"zero_deadline", [](json& j) { j["streams"][0]["deadline_ms"] = 0; }, "streams[0].deadline_ms: must be > 0"},
        ErrorCase{"negative_rate", [](json& j) { j["streams"][0]["rate_hz"] = -5; }, "streams[0].rate_hz: must be > 0"},
        ErrorCase{"unknown_model", [](json& j) { j["streams"][0]["model"] = "nope"; }, "streams[0].model: unknown model 'nope'"},
        ErrorCase{"unknown_arrival", [](json& j) { j["streams"][0]["arrival"] = "uniform"; }, "streams[0].arrival: unknown arrival kind 'uniform'"},
        ErrorCase{"stage_mismatch", [](json& j) { j["models"][0]["replay"]["parametric"]["exit_accuracy"] = {0.7, 0.8}; },
                  "models[0].replay.parametric.exit_accuracy: has 2 exits but the profile has 3 stages"},
        ErrorCase{"negative_stage_time", [](json& j) { j["models"][0]["profile"]["stage_ms"][1] = -1; }, "models[0].profile.stage_ms[1]: must be > 0"},
        ErrorCase{"negative_duration", [](json& j) { j["duration_s"] = -1; }, "duration_s: must be > 0"},
        ErrorCase{"missing_name", [](json& j) { j.erase("name"); }, "name: missing field"},
        ErrorCase{"wrong_type", [](json& j) { j["streams"][0]["rate_hz"] = "fast"; }, "streams[0].rate_hz: must be a number"},
        ErrorCase{"mandatory_too_deep", [](json& j) { j["models"][0]["mandatory"] = 4; }, "models[0].mandatory: must be in [1, 3]"},
        ErrorCase{"no_profile", [](json& j) { j["models"][0]["profile"] = json::object(); }, "models[0].profile:"},
        ErrorCase{"no_replay", [](json& j) { j["models"][0]["replay"] = json::object(); }, "models[0].replay:"},
        ErrorCase{"accuracy_range", [](json& j) { j["models"][0]["replay"]["parametric"]["exit_accuracy"][2] = 1.5; },
                  "models[0].replay.parametric.exit_accuracy[2]: must be in (0, 1)"},
        ErrorCase{"same_seeds", [](json& j) { j["models"][0]["replay"]["test_seed"] = 3; }, "models[0].replay.test_seed: must differ"},
        ErrorCase{"bursty_needs_on", [](json& j) { j["streams"][0]["arrival"] = "bursty"; }, "streams[0].on_ms: missing field"},
        ErrorCase{"jitter_on_poisson", [](json& j) { j["streams"][0]["jitter_ms"] = 1; }, "streams[0].jitter_ms:"},
        ErrorCase{"missing_trace_file", [](json& j) { j["streams"][0]["arrival"] = "trace"; j["streams"][0]["trace"] = "none.csv"; }, "streams[0].trace:"},
        ErrorCase{"empty_streams", [](json& j) { j["streams"] = json::array(); }, "streams: must not be empty"},
        ErrorCase{"bad_batch_sizes", [](json& j) { j["models"][0]["profile"]["batch_sizes"] = {2, 4}; }, "models[0].profile.batch_sizes: must start at 1"}),
    [](const ::testing::TestParamInfo<ErrorCase>& p) { return std::string(p.param.label); });

TEST(Scenario, MalformedJsonNamesFile) {
  const auto path = std::filesystem::temp_directory_path() / ("imprecise_bad_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << "{\"name\": \"x\", \"duration_s\": }";
  try {
    load_scenario(path.string());
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path.string() + ": malformed JSON", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
  std::filesystem::remove(path);
  EXPECT_THROW(load_scenario("/nonexistent/x.json"), Error);
}

TEST(Scenario, CsvReplayAndTraceResolveRelativeToFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("imprecise_scn_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "data");
  save_replay_csv(generate_replay(ParametricReplay{{0.7, 0.8, 0.9}}, 200, 1), (dir / "data/cal.csv").string());
  save_replay_csv(generate_replay(ParametricReplay{{0.7, 0.8, 0.9}}, 100, 2), (dir / "data/test.csv").string());
  std::ofstream(dir / "data/trace.csv") << "time_ms\n0\n500\n1000\n1500\n";
  json j = base();
  j["models"][0]["replay"] = json{{"calibration_csv", "data/cal.csv"}, {"test_csv", "data/test.csv"}};
  j["streams"][0] = json{{"model", "m"}, {"arrival", "trace"}, {"trace", "data/trace.csv"}, {"deadline_ms", 20}};
  std::ofstream(dir / "s.json") << j.dump();
  const Scenario sc = load_scenario((dir / "s.json").string());
  EXPECT_EQ(sc.test_sets[0].samples(), 100);
  EXPECT_EQ(sc.streams[0].name, "m");
  EXPECT_DOUBLE_EQ(sc.streams[0].rate_hz, 2.0);  // 4 arrivals within the 2 s run
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace imprecise::sim
