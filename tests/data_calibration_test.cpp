// Evaluation, expected calibration error, temperature scaling and the pipeline registry.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "imprecise/data/calibration.hpp"
#include "imprecise/data/evaluation.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/error.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"

namespace imprecise::data {
namespace {

std::string fixture(const std::string& file) { return std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/nn/" + file; }

TEST(ConfidenceAuroc, IsTheShareOfRightWrongPairsRankedRight) {
  // Right at 0.9, 0.8, 0.4; wrong at 0.7, 0.4, 0.2. Pairs ranked right: 3 + 3 + (0 + 0.5 tie + 1) = 7.5 of 9.
  const std::vector<ExitRecord> records{{0.9f, true}, {0.7f, false}, {0.8f, true},
                                        {0.4f, false}, {0.4f, true},  {0.2f, false}};
  EXPECT_NEAR(confidence_auroc(records, 1, 1), 7.5 / 9.0, 1e-12);
  // Two exits interleaved: exit 2 separates perfectly, then inverted.
  std::vector<ExitRecord> two;
  for (const auto& r : records) {
    two.push_back(r);
    two.push_back({r.correct ? 0.99f : 0.5f, r.correct});
  }
  EXPECT_NEAR(confidence_auroc(two, 2, 1), 7.5 / 9.0, 1e-12);
  EXPECT_DOUBLE_EQ(confidence_auroc(two, 2, 2), 1.0);
  std::vector<ExitRecord> inverted;
  for (const auto& r : records) inverted.push_back({r.correct ? 0.1f : 0.9f, r.correct});
  EXPECT_DOUBLE_EQ(confidence_auroc(inverted, 1, 1), 0.0);
  // All equal confidences: 0.5; one class missing: undefined.
  EXPECT_DOUBLE_EQ(confidence_auroc(std::vector<ExitRecord>{{0.6f, true}, {0.6f, false}}, 1, 1), 0.5);
  EXPECT_TRUE(std::isnan(confidence_auroc(std::vector<ExitRecord>{{0.6f, true}, {0.3f, true}}, 1, 1)));
  EXPECT_THROW(confidence_auroc(records, 4, 1), Error);  // 6 records are not N x 4
  EXPECT_THROW(confidence_auroc(records, 1, 2), Error);
}

TEST(AnyExitAccuracy, CountsSamplesSomeExitGetsRight) {
  // 3 samples x 2 exits: right at exit 2 only, at exit 1 only (the last exit wrong), at neither.
  const std::vector<ExitRecord> records{{0.4f, false}, {0.9f, true}, {0.8f, true}, {0.7f, false},
                                        {0.5f, false}, {0.6f, false}};
  EXPECT_NEAR(any_exit_accuracy(records, 2), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(any_exit_accuracy(records, 1), 2.0 / 6.0, 1e-12);  // read as 6 samples of one exit
  EXPECT_DOUBLE_EQ(any_exit_accuracy({}, 2), 0.0);
  EXPECT_THROW(any_exit_accuracy(records, 4), Error);  // 6 records are not N x 4
  EXPECT_THROW(any_exit_accuracy(records, 0), Error);
}

TEST(ExpectedCalibrationError, IsTheGapBetweenConfidenceAndAccuracyPerBin) {
  // One exit; 4 samples at confidence 0.9 (3 right: gap 0.15), 4 at 0.35 (all right: gap 0.65).
  std::vector<ExitRecord> records;
  for (int i = 0; i < 4; ++i) records.push_back({0.9f, i < 3});
  for (int i = 0; i < 4; ++i) records.push_back({0.35f, true});
  EXPECT_NEAR(expected_calibration_error(records, 1, 1, 10), 0.5 * 0.15 + 0.5 * 0.65, 1e-6);
  // Two exits interleaved: exit 2 perfectly calibrated at confidence 1.
  std::vector<ExitRecord> two;
  for (const auto& r : records) {
    two.push_back(r);
    two.push_back({1.0f, true});
  }
  EXPECT_NEAR(expected_calibration_error(two, 2, 1, 10), 0.4, 1e-6);
  EXPECT_NEAR(expected_calibration_error(two, 2, 2, 10), 0.0, 1e-6);
  EXPECT_THROW(expected_calibration_error(two, 2, 3, 10), Error);
  EXPECT_THROW(expected_calibration_error(records, 3, 1, 10), Error);  // 8 records are not N x 3
}

// Logits z, labels drawn from softmax(z / 2): the NLL-optimal temperature is close to 2.
TEST(TemperatureScaling, RecoversTheTemperatureTheLabelsWereDrawnWith) {
  std::mt19937_64 rng(42);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  const int classes = 5, samples = 6000;
  std::vector<float> logits;
  std::vector<int> labels;
  for (int i = 0; i < samples; ++i) {
    std::vector<double> p;
    double sum = 0.0;
    for (int c = 0; c < classes; ++c) {
      logits.push_back(normal(rng));
      p.push_back(std::exp(logits.back() / 2.0));
      sum += p.back();
    }
    std::discrete_distribution<int> draw(p.begin(), p.end());
    labels.push_back(draw(rng));
  }
  EXPECT_NEAR(fit_temperature(logits, classes, labels), 2.0, 0.15);
  labels[0] = classes;
  EXPECT_THROW(fit_temperature(logits, classes, labels), Error);
  EXPECT_THROW(fit_temperature(std::span<const float>(logits).first(7), classes, labels), Error);
}

class EvaluateCnn3 : public ::testing::Test {
 protected:
  void SetUp() override {
    nn::MultiExitModel::Options options;
    options.compile.max_batch = 4;
    model_ = std::make_unique<nn::MultiExitModel>(nn::MultiExitModel::load(fixture("cnn3.onnx"), options));
    set_.inputs = nn::read_npy(fixture("cnn3.input.npy"));
    // Label every sample with the final exit's own prediction: that exit is then right on all of them.
    const auto exits = model_->run(set_.inputs);  // kept: a range-for over .back() of a temporary dangles
    for (const auto& r : exits.back()) set_.labels.push_back(r.prediction);
  }
  std::unique_ptr<nn::MultiExitModel> model_;
  LabeledSet set_;
};

TEST_F(EvaluateCnn3, MeasuresEveryExitAndKeepsOrderedLogits) {
  EvaluationOptions options;
  options.batch = 3;  // forces a ragged last batch
  options.keep_logits = true;
  const Evaluation e = evaluate(*model_, set_, options);
  ASSERT_EQ(e.exits.size(), 3u);
  EXPECT_EQ(e.samples, set_.size());
  EXPECT_EQ(e.batch, 3);
  EXPECT_DOUBLE_EQ(e.exits.back().accuracy, 1.0);
  for (const auto& exit : e.exits) {
    EXPECT_GE(exit.accuracy, 0.0);
    EXPECT_GT(exit.mean_stage_ms, 0.0);
    EXPECT_GE(exit.ece, 0.0);
  }
  // Each exit's auroc is confidence_auroc over its records (NaN where the exit is always right).
  for (int k = 1; k <= 3; ++k) {
    const double want = confidence_auroc(e.records, 3, k), got = e.exits[static_cast<std::size_t>(k - 1)].auroc;
    if (std::isnan(want)) EXPECT_TRUE(std::isnan(got));
    else EXPECT_DOUBLE_EQ(got, want);
  }
  EXPECT_TRUE(std::isnan(e.exits.back().auroc));  // accuracy 1: no wrong answer to rank against
  EXPECT_DOUBLE_EQ(e.any_exit_accuracy, 1.0);     // the last exit is always right
  // logits are samples x exits x classes, the values run() gives.
  const auto reference = model_->run(set_.inputs);
  std::size_t row = 0;
  for (int k = 0; k < 3; ++k) row += static_cast<std::size_t>(model_->classes(k));
  ASSERT_EQ(e.logits.size(), set_.size() * row);
  for (std::size_t i = 0; i < set_.size(); ++i) {
    std::size_t offset = i * row;
    for (int k = 0; k < 3; ++k) {
      const auto& want = reference[static_cast<std::size_t>(k)][i].logits;
      // Batches of 3 vs 4 sum in another order: equal up to rounding, not bit for bit.
      for (std::size_t c = 0; c < want.size(); ++c) EXPECT_NEAR(e.logits[offset + c], want[c], 1e-5);
      offset += want.size();
    }
  }
}

TEST_F(EvaluateCnn3, RecordsScoreEveryExitAgainstTheLabels) {
  const Evaluation e = evaluate(*model_, set_);
  const auto offline = model_->run(set_.inputs);
  ASSERT_EQ(e.records.size(), set_.size() * 3);
  for (std::size_t i = 0; i < set_.size(); ++i) {
    EXPECT_TRUE(e.records[i * 3 + 2].correct);
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(e.records[i * 3 + k].confidence, offline[k][i].confidence, 1e-5);
      EXPECT_EQ(e.records[i * 3 + k].correct, offline[k][i].prediction == set_.labels[i]);
    }
  }
  const UtilityModel u = UtilityModel::calibrate(3, e.records, 4);
  EXPECT_EQ(u.exits(), 3);
  EXPECT_EQ(u.bins(), 4);
  EXPECT_DOUBLE_EQ(u.prior(3), 1.0);
  EXPECT_THROW(UtilityModel::calibrate(3, std::span<const ExitRecord>(e.records).first(4)), Error);
}

TEST_F(EvaluateCnn3, CalibrationImprovesNllFitAndBuildsTables) {
  EvaluationOptions options;
  options.keep_logits = true;
  const Evaluation e = evaluate(*model_, set_, options);
  std::vector<int> classes;
  for (int k = 0; k < 3; ++k) classes.push_back(static_cast<int>(model_->classes(k)));
  const Calibration c = calibrate(e, classes, set_.labels);
  ASSERT_EQ(c.temperatures.size(), 3u);
  for (double t : c.temperatures) EXPECT_GT(t, 0.0);
  EXPECT_EQ(c.replay.exits, 3);
  EXPECT_EQ(c.replay.samples(), static_cast<int>(set_.size()));
  EXPECT_EQ(c.utility.exits(), 3);
  // Correctness never depends on the temperature: only the confidences change.
  for (std::size_t i = 0; i < e.records.size(); ++i) EXPECT_EQ(c.replay.records[i].correct, e.records[i].correct);
  CalibrationOptions raw;
  raw.temperature_scaling = false;
  const Calibration r = calibrate(e, classes, set_.labels, raw);
  EXPECT_EQ(r.ece, r.ece_raw);
  for (std::size_t i = 0; i < e.records.size(); ++i) EXPECT_EQ(r.replay.records[i].confidence, e.records[i].confidence);
}

TEST_F(EvaluateCnn3, RejectsLabelsTheModelCannotPredictAndMismatchedSets) {
  LabeledSet bad = set_;
  bad.labels[1] = 1000;
  EXPECT_THROW(evaluate(*model_, bad), Error);
  bad = set_;
  bad.labels.pop_back();
  EXPECT_THROW(evaluate(*model_, bad), Error);
}

TEST(PipelineRegistry, NamesUnknownPipelinesAndSplits) {
  try {
    PipelineRegistry::get().at("sonar");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sonar"), std::string::npos);
  }
  EXPECT_EQ(parse_split("calibration"), Split::calibration);
  EXPECT_STREQ(to_string(Split::test), "test");
  EXPECT_THROW(parse_split("validation"), Error);
}

}  // namespace
}  // namespace imprecise::data

// The shipped calibration (models/vision.calibration.json, written by `imprecise profile`) reads back through
// the public data::load_calibration; a typo'd key or a missing file is an Error naming the file and field.
TEST(LoadCalibration, ReadsTheShippedFileAndNamesBadFields) {
  const std::string path = imprecise::data::source_path("models/vision.calibration.json");
  const imprecise::data::Calibration c = imprecise::data::load_calibration(path);
  EXPECT_EQ(c.utility.exits(), 4);
  EXPECT_EQ(c.temperatures.size(), 4u);
  EXPECT_NEAR(c.utility.prior(1), 0.6896, 1e-9);  // exit 1's accuracy on the calibration split
  EXPECT_EQ(c.replay.records.size(), 0u);

  const auto dir = std::filesystem::temp_directory_path() / ("imprecise_cal_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    const auto file = (dir / "c.json").string();
    std::ofstream(file) << text;
    try {
      imprecise::data::load_calibration(file);
      ADD_FAILURE() << "no error for " << text;
    } catch (const imprecise::Error& e) {
      EXPECT_NE(std::string(e.what()).find(file + ": " + needle), std::string::npos) << e.what();
    }
  };
  expect_error(R"({"exits": 1, "bins": 1, "prior": [0.5], "table": [0.5], "tempratures": [1]})", "tempratures: unknown key");
  expect_error(R"({"exits": 1, "bins": 1, "prior": [0.5]})", "table: missing field");
  expect_error(R"({"exits": 1, "bins": 1, "prior": [0.5], "table": [0.5, 0.6]})", "table: must be an array of 1");
  expect_error(R"({"exits": 1, "bins": 1, "prior": [0.5], "table": [0.5], "temperatures": [0]})", "temperatures[0]");
  expect_error("{", "malformed JSON");
  std::filesystem::remove_all(dir);
  try {
    imprecise::data::load_calibration("no/such/vision.calibration.json");
    ADD_FAILURE() << "no error for a missing file";
  } catch (const imprecise::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/vision.calibration.json: cannot open"), std::string::npos) << e.what();
  }
}

// Equal-mass tables (the default) carry their bin edges: what to_json writes, load_calibration reads
// back with the same bins; edges of the wrong count or out of order are errors naming the file.
TEST(LoadCalibration, EqualMassEdgesRoundTrip) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  imprecise::data::Calibration c;
  c.temperatures = {1.0, 1.0};
  c.ece_raw = c.ece = {0.0, 0.0};
  for (int s = 0; s < 2000; ++s) {
    const double conf = 0.9 + 0.1 * u(rng);  // packed near 1, where equal widths would use one bin
    c.replay.records.push_back(imprecise::ExitRecord{static_cast<float>(conf), u(rng) < conf - 0.05});
    c.replay.records.push_back(imprecise::ExitRecord{static_cast<float>(conf), u(rng) < conf});
  }
  c.replay.exits = 2;
  c.utility = imprecise::UtilityModel::calibrate(2, c.replay.records, 10);
  ASSERT_EQ(c.utility.edges().size(), 2u * 9u);
  const auto dir = std::filesystem::temp_directory_path() / ("imprecise_edges_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "c.json").string();
  std::ofstream(file) << imprecise::data::to_json(c).dump();
  const imprecise::data::Calibration back = imprecise::data::load_calibration(file);
  EXPECT_EQ(back.utility.edges(), c.utility.edges());
  for (double conf : {0.0, 0.91, 0.95, 0.97, 0.99, 1.0})
    for (int depth = 1; depth <= 2; ++depth)
      EXPECT_DOUBLE_EQ(back.utility.expected(depth, 1, conf), c.utility.expected(depth, 1, conf)) << conf;
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    std::ofstream(file) << text;
    try {
      imprecise::data::load_calibration(file);
      ADD_FAILURE() << "no error for " << text;
    } catch (const imprecise::Error& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const std::string table = R"("prior": [0.5], "table": [0.5, 0.6])";
  expect_error(R"({"exits": 1, "bins": 2, )" + table + R"(, "edges": [0.3, 0.4]})", "edges: must be an array of 1");
  expect_error(R"({"exits": 1, "bins": 2, )" + table + R"(, "edges": [1.5]})", "not in [0, 1]");
  std::filesystem::remove_all(dir);
}
