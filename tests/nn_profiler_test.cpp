// Profiler: stage timings per batch size, exit records, utility models and the model description a scheduler gets.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "imprecise/error.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "imprecise/nn/profiler.hpp"
#include "imprecise/sched/policy.hpp"
#include "imprecise/sim/scenario.hpp"
#include "nn_fixtures.hpp"

namespace imprecise::nn {
namespace {

MultiExitModel load(const std::string& name, int max_batch) {
  MultiExitModel::Options options;
  options.compile.max_batch = max_batch;
  return MultiExitModel::load(testing::fixture(name + ".onnx"), options);
}

ProfilerConfig quick() {
  ProfilerConfig c;
  c.warmup = 1;
  c.repetitions = 5;
  return c;
}

TEST(Profiler, BatchSizesAreClampedToTheModelAndIncludeItsMaxBatch) {
  EXPECT_EQ(profiled_batch_sizes(load("cnn3", 8)), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(profiled_batch_sizes(load("cnn3", 6)), (std::vector<int>{1, 2, 4, 6}));
  EXPECT_EQ(profiled_batch_sizes(load("cnn3", 1)), (std::vector<int>{1}));
  ProfilerConfig c;
  c.batch_sizes = {3, 1, 3};
  EXPECT_EQ(profiled_batch_sizes(load("cnn3", 4), c), (std::vector<int>{1, 3, 4}));
  c.batch_sizes = {0};
  EXPECT_THROW(profiled_batch_sizes(load("cnn3", 4), c), Error);
}

TEST(Profiler, SummaryUsesNearestRankPercentiles) {
  std::vector<Duration> times;
  for (Duration t = 100; t >= 1; --t) times.push_back(t * 10);  // 10..1000, unsorted
  const StageTiming s = summarize_times(times);
  EXPECT_EQ(s.p50, 500);
  EXPECT_EQ(s.p99, 990);
  EXPECT_EQ(s.max, 1000);
  EXPECT_EQ(s.mean, 505);
  std::vector<Duration> zero{0, 0};
  const StageTiming z = summarize_times(zero);
  EXPECT_EQ(z.p50, 1) << "never 0: a stage always costs something";
  EXPECT_EQ(z.max, 1);
  std::vector<Duration> none;
  EXPECT_THROW(summarize_times(none), Error);
}

class ProfilerModels : public ::testing::TestWithParam<std::string> {};

TEST_P(ProfilerModels, EveryStageIsTimedAtEveryBatchSize) {
  MultiExitModel model = load(GetParam(), 4);
  const Profile p = profile_stages(model, quick());
  ASSERT_EQ(p.stages(), model.stages());
  EXPECT_EQ(p.batch_sizes(), (std::vector<int>{1, 2, 4}));
  for (int s = 0; s < p.stages(); ++s)
    for (int b = 1; b <= 4; ++b) {
      const StageTiming& t = p.timing(s, b);
      EXPECT_GE(t.p50, 1);
      EXPECT_LE(t.p50, t.p99);
      EXPECT_LE(t.p99, t.max);
      EXPECT_LE(t.mean, t.max);
    }
  // With a real input too (a batch whose samples are cycled).
  const Tensor input = read_npy(testing::fixture(GetParam() + ".input.npy"));
  EXPECT_EQ(profile_stages(model, quick(), &input).stages(), model.stages());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ProfilerModels, ::testing::Values("cnn3", "resnet_skip", "audio1d", "pointnet"),
                         [](const auto& p) { return p.param; });

TEST(Profiler, RejectsABadConfigOrInput) {
  MultiExitModel model = load("cnn3", 2);
  ProfilerConfig c = quick();
  c.repetitions = 0;
  EXPECT_THROW(profile_stages(model, c), Error);
  const Tensor wrong({1, 7});
  EXPECT_THROW(profile_stages(model, quick(), &wrong), Error);
  c = quick();
  c.evict_bytes = ProfilerConfig::kMaxEvictBytes + 1;
  try {
    profile_stages(model, c);
    ADD_FAILURE() << "an absurd eviction size was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("evict_bytes"), std::string::npos) << e.what();
  }
}

TEST(Profiler, ColdStagesAreTimedAtEveryBatchSizeAndConcurrency) {
  MultiExitModel model = load("cnn3", 4);
  ProfilerConfig c = quick();
  c.evict_bytes = std::size_t{4} << 20;
  const Profile alone = profile_stages(model, c);
  EXPECT_EQ(alone.stages(), model.stages());
  EXPECT_EQ(alone.batch_sizes(), (std::vector<int>{1, 2, 4}));
  const Profile together = profile_stages_concurrent(model, 2, c);
  EXPECT_EQ(together.stages(), model.stages());
  for (const Profile* p : {&alone, &together})
    for (int s = 0; s < p->stages(); ++s)
      for (const int b : p->batch_sizes()) {
        const StageTiming t = p->timing(s, b);
        EXPECT_GT(t.p50, 0);
        EXPECT_LE(t.p50, t.p99);
        EXPECT_LE(t.p99, t.max);
      }
}

TEST(Profiler, DescriptionDrivesAPolicy) {
  MultiExitModel model = load("cnn3", 4);
  const Model m = describe(model, profile_stages(model, quick()), {}, "vision");
  EXPECT_EQ(m.name, "vision");
  EXPECT_EQ(m.stages(), 3);
  EXPECT_EQ(m.mandatory_depth, model.mandatory_depth());
  ASSERT_EQ(m.utility.exits(), 3);
  EXPECT_LT(m.utility.prior(1), m.utility.prior(3)) << "default: deeper is better";
  const std::vector<Model> models{m};
  EXPECT_NO_THROW(make_policy("yao-dp", models));
  EXPECT_EQ(describe(model, profile_stages(model, quick())).name, model.graph().source);
  const Profile two({1}, {{StageTiming{1, 1, 1, 1}}, {StageTiming{1, 1, 1, 1}}});
  EXPECT_THROW(describe(model, two), Error);
}

TEST(Profiler, UtilityFromAccuracyIgnoresConfidence) {
  const std::vector<double> acc{0.6, 0.7, 0.9};
  const UtilityModel u = utility_from_accuracy(acc);
  EXPECT_DOUBLE_EQ(u.prior(2), 0.7);
  EXPECT_DOUBLE_EQ(u.expected(3, 1, 0.05), 0.9);
  EXPECT_DOUBLE_EQ(u.expected(3, 2, 0.99), 0.9);
  EXPECT_DOUBLE_EQ(u.expected(1, 2, 0.5), 0.7) << "an exit already passed is worth what the deepest one reached";
  const std::vector<double> bad{0.5, 1.5};
  EXPECT_THROW(utility_from_accuracy(bad), Error);
  EXPECT_EQ(default_exit_accuracy(4), (std::vector<double>{0.25, 0.5, 0.75, 1.0}));
}

TEST(Profiler, MeasuredProfileRoundTripsThroughTheScenarioJsonForm) {
  MultiExitModel model = load("cnn3", 4);
  const Profile p = profile_stages(model, quick());
  const nlohmann::json j = sim::profile_to_json(p);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("imprecise_profile_" + std::to_string(::getpid()) + ".json")).string();
  {
    std::ofstream out(path);
    out << j.dump(2);
  }
  const Profile back = sim::load_profile(path);
  std::filesystem::remove(path);
  EXPECT_EQ(back.batch_sizes(), p.batch_sizes());
  for (int s = 0; s < p.stages(); ++s)
    for (int b : p.batch_sizes()) {
      EXPECT_EQ(back.timing(s, b).p50, p.timing(s, b).p50);
      EXPECT_EQ(back.timing(s, b).p99, p.timing(s, b).p99);
      EXPECT_EQ(back.timing(s, b).max, p.timing(s, b).max);
      EXPECT_EQ(back.timing(s, b).mean, p.timing(s, b).mean);
    }
  // A scenario takes the same object as a model's "profile".
  nlohmann::json scenario = nlohmann::json::parse(R"({
    "name": "measured", "duration_s": 1,
    "models": [{"name": "cnn3", "profile": null,
                "replay": {"parametric": {"exit_accuracy": [0.7, 0.8, 0.9], "classes": 10}}}],
    "streams": [{"model": "cnn3", "arrival": "periodic", "rate_hz": 10, "deadline_ms": 50}]})");
  scenario["models"][0]["profile"] = j;
  const sim::Scenario sc = sim::parse_scenario(scenario, "test");
  ASSERT_EQ(sc.models.size(), 1u);
  EXPECT_EQ(sc.models[0].profile.timing(2, 4).p99, p.timing(2, 4).p99);
}

TEST(Profiler, ConcurrencyTablesAreMeasuredWrittenAndReadBack) {
  const MultiExitModel model = load("cnn3", 4);
  const Profile alone = [&] {
    MultiExitModel own = model.replica();
    return profile_stages(own, quick());
  }();
  std::vector<Profile> concurrent;
  for (int lanes = 2; lanes <= 3; ++lanes) concurrent.push_back(profile_stages_concurrent(model, lanes, quick()));
  for (const Profile& t : concurrent) {
    EXPECT_EQ(t.stages(), model.stages());
    EXPECT_EQ(t.batch_sizes(), alone.batch_sizes());
  }
  EXPECT_THROW(profile_stages_concurrent(model, 1, quick()), Error);

  const nlohmann::json j = sim::profile_to_json(alone, concurrent);
  ASSERT_TRUE(j.contains("concurrent"));
  EXPECT_EQ(j["concurrent"][0]["lanes"], 2);
  EXPECT_EQ(j["concurrent"][1]["lanes"], 3);
  EXPECT_FALSE(sim::profile_to_json(alone, {}).contains("concurrent"));
  const std::string path =
      (std::filesystem::temp_directory_path() / ("imprecise_concurrent_" + std::to_string(::getpid()) + ".json")).string();
  const auto write = [&](const nlohmann::json& doc) {
    std::ofstream out(path);
    out << doc.dump(1);
  };
  write(j);
  const sim::ProfileTables back = sim::load_profile_tables(path);
  EXPECT_EQ(back.profile.timing(1, 2).p99, alone.timing(1, 2).p99);
  ASSERT_EQ(back.concurrent.size(), 2u);
  for (std::size_t c = 0; c < 2; ++c)
    for (int s = 0; s < model.stages(); ++s)
      for (int b : concurrent[c].batch_sizes()) {
        EXPECT_EQ(back.concurrent[c].timing(s, b).mean, concurrent[c].timing(s, b).mean);
        EXPECT_EQ(back.concurrent[c].timing(s, b).max, concurrent[c].timing(s, b).max);
      }
  EXPECT_EQ(sim::load_profile(path).timing(0, 1).p50, alone.timing(0, 1).p50);  // the alone table as before

  // A scenario model whose profile is that file gets Model::concurrent; profile_at picks the table.
  nlohmann::json scenario = nlohmann::json::parse(R"({
    "name": "measured", "duration_s": 1,
    "models": [{"name": "cnn3", "profile": null,
                "replay": {"parametric": {"exit_accuracy": [0.7, 0.8, 0.9], "classes": 10}}}],
    "streams": [{"model": "cnn3", "arrival": "periodic", "rate_hz": 10, "deadline_ms": 50}]})");
  scenario["models"][0]["profile"] = path;
  const sim::Scenario sc = sim::parse_scenario(scenario, "test");
  ASSERT_EQ(sc.models[0].concurrent.size(), 2u);
  EXPECT_EQ(sc.models[0].profile_at(3).timing(0, 1).mean, concurrent[1].timing(0, 1).mean);

  // Errors name the file and the JSON path.
  const auto error_of = [&](const nlohmann::json& doc) {
    write(doc);
    try {
      (void)sim::load_profile_tables(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nlohmann::json bad = j;
  bad["concurrent"][0]["lanes"] = 3;
  EXPECT_NE(error_of(bad).find(path + ": concurrent[0].lanes: must be 2, 3, ... in order"), std::string::npos)
      << error_of(bad);
  bad = j;
  bad["concurrent"][1]["stages"].erase(0);
  EXPECT_NE(error_of(bad).find("concurrent[1].stages: has 2 stages, the profile 3"), std::string::npos) << error_of(bad);
  bad = j;
  bad["concurrent"][0]["threads"] = 2;
  EXPECT_NE(error_of(bad).find("concurrent[0].threads: unknown key"), std::string::npos) << error_of(bad);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace imprecise::nn

namespace imprecise {
namespace {

// Profile::set_timing is what the runtime's online profiling writes through.
TEST(ProfileSetTiming, ReplacesOneCellAndKeepsTheTableValid) {
  Profile p({1, 4}, {{StageTiming{10, 10, 20, 30}, StageTiming{40, 40, 50, 60}}});
  p.set_timing(0, 1, StageTiming{70, 65, 80, 90});
  EXPECT_EQ(p.timing(0, 4).p99, 80);
  EXPECT_EQ(p.timing(0, 3).p50, 65) << "batch 3 is planned with the column for 4";
  EXPECT_EQ(p.timing(0, 1).p50, 10);
  EXPECT_THROW(p.set_timing(1, 0, StageTiming{1, 1, 1, 1}), Error);
  EXPECT_THROW(p.set_timing(0, 2, StageTiming{1, 1, 1, 1}), Error);
  EXPECT_THROW(p.set_timing(0, 0, StageTiming{1, 5, 4, 6}), Error) << "p50 above p99";
  EXPECT_THROW(p.set_timing(0, 0, StageTiming{9, 1, 2, 3}), Error) << "mean above max";
  EXPECT_EQ(p.timing(0, 1).p50, 10) << "a rejected update changes nothing";
}

}  // namespace
}  // namespace imprecise
