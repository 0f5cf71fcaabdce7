// Tests of replay sets: the parametric generator's easy/hard structure and the CSV format.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/replay.hpp"

namespace imprecise::sim {
namespace {

ParametricReplay default_params() {
  ParametricReplay p;
  p.exit_accuracy = {0.72, 0.84, 0.89, 0.91};
  return p;
}

class GeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { set_ = new ReplaySet(generate_replay(default_params(), 20000, 42)); }
  static void TearDownTestSuite() { delete set_; }
  static ReplaySet* set_;
};
ReplaySet* GeneratorTest::set_ = nullptr;

TEST_F(GeneratorTest, PerExitAccuracyMatchesParameters) {
  const ReplaySet& s = *set_;
  ASSERT_EQ(s.exits, 4);
  ASSERT_EQ(s.samples(), 20000);
  const auto params = default_params();
  for (int l = 0; l < s.exits; ++l) {
    int correct = 0;
    for (int i = 0; i < s.samples(); ++i) correct += s.sample(i)[static_cast<std::size_t>(l)].correct ? 1 : 0;
    EXPECT_NEAR(correct / 20000.0, params.exit_accuracy[static_cast<std::size_t>(l)], 0.02) << "exit " << l + 1;
  }
}

TEST_F(GeneratorTest, ConfidenceInRangeAndInformative) {
  const ReplaySet& s = *set_;
  for (const ExitRecord& r : s.records) {
    ASSERT_GE(r.confidence, 0.1f - 1e-6f);
    ASSERT_LE(r.confidence, 1.0f);
  }
  for (int l = 0; l < s.exits; ++l) {
    // Accuracy in the top confidence bin beats the bottom bin at every exit.
    int low_n = 0, low_ok = 0, high_n = 0, high_ok = 0;
    for (int i = 0; i < s.samples(); ++i) {
      const ExitRecord& r = s.sample(i)[static_cast<std::size_t>(l)];
      if (r.confidence < 0.4f) low_n++, low_ok += r.correct;
      if (r.confidence > 0.9f) high_n++, high_ok += r.correct;
    }
    ASSERT_GT(low_n, 50);
    ASSERT_GT(high_n, 50);
    EXPECT_GT(static_cast<double>(high_ok) / high_n, static_cast<double>(low_ok) / low_n + 0.3) << "exit " << l + 1;
  }
}

TEST_F(GeneratorTest, LowFirstExitConfidencePredictsGainFromDepth) {
  const ReplaySet& s = *set_;
  // Split by the first exit's confidence at its median; compare acc(last) - acc(first).
  std::vector<float> c1;
  for (int i = 0; i < s.samples(); ++i) c1.push_back(s.sample(i)[0].confidence);
  std::vector<float> sorted = c1;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
  const float median = sorted[sorted.size() / 2];
  double gain_low = 0, gain_high = 0;
  int n_low = 0, n_high = 0;
  for (int i = 0; i < s.samples(); ++i) {
    const auto rec = s.sample(i);
    const int gain = static_cast<int>(rec[3].correct) - static_cast<int>(rec[0].correct);
    if (c1[static_cast<std::size_t>(i)] < median) gain_low += gain, ++n_low;
    else gain_high += gain, ++n_high;
  }
  EXPECT_GT(gain_low / n_low, gain_high / n_high + 0.1);
  EXPECT_GT(gain_low / n_low, 0.15);
}

TEST_F(GeneratorTest, EasyAndHardSamplesAgreeAcrossExits) {
  // Correct-at-first-exit samples are nearly always correct at the last exit.
  const ReplaySet& s = *set_;
  int first_ok = 0, both = 0;
  for (int i = 0; i < s.samples(); ++i) {
    const auto r = s.sample(i);
    if (r[0].correct) ++first_ok, both += r[3].correct;
  }
  EXPECT_GT(static_cast<double>(both) / first_ok, 0.95);
}

TEST(Generator, DeterministicAndPrefixStable) {
  const auto a = generate_replay(default_params(), 500, 9);
  const auto b = generate_replay(default_params(), 1000, 9);
  const auto c = generate_replay(default_params(), 500, 10);
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    ASSERT_EQ(a.records[i].confidence, b.records[i].confidence);
    ASSERT_EQ(a.records[i].correct, b.records[i].correct);
  }
  int same = 0;
  for (std::size_t i = 0; i < a.records.size(); ++i) same += a.records[i].confidence == c.records[i].confidence;
  EXPECT_LT(same, 10);
}

TEST(Generator, RejectsBadParameters) {
  ParametricReplay p = default_params();
  p.exit_accuracy = {0.5, 1.2};
  EXPECT_THROW(generate_replay(p, 10, 1), Error);
  p = default_params();
  p.classes = 1;
  EXPECT_THROW(generate_replay(p, 10, 1), Error);
  p = default_params();
  p.exit_accuracy.clear();
  EXPECT_THROW(generate_replay(p, 10, 1), Error);
}

class ReplayCsvTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / ("imprecise_sim_replay_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    dirs_.push_back(dir);
    return (dir / name).string();
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = path(name);
    std::ofstream(p) << text;
    return p;
  }
  void TearDown() override {
    for (auto& d : dirs_) std::filesystem::remove_all(d);
  }
  std::vector<std::filesystem::path> dirs_;
};

TEST_F(ReplayCsvTest, RoundTrip) {
  const auto set = generate_replay(default_params(), 300, 5);
  const std::string p = path("round.csv");
  save_replay_csv(set, p);
  const auto back = load_replay_csv(p);
  ASSERT_EQ(back.exits, set.exits);
  ASSERT_EQ(back.records.size(), set.records.size());
  for (std::size_t i = 0; i < set.records.size(); ++i) {
    EXPECT_EQ(back.records[i].confidence, set.records[i].confidence);
    EXPECT_EQ(back.records[i].correct, set.records[i].correct);
  }
}

TEST_F(ReplayCsvTest, ParsesHandWrittenFile) {
  const auto set = load_replay_csv(write("ok.csv", "sample,conf_1,correct_1,conf_2,correct_2\r\n0,0.5,0,0.9,1\r\n\n1,0.25,1,1,1\n"));
  ASSERT_EQ(set.exits, 2);
  ASSERT_EQ(set.samples(), 2);
  EXPECT_FLOAT_EQ(set.sample(1)[0].confidence, 0.25f);
  EXPECT_TRUE(set.sample(1)[0].correct);
  EXPECT_FALSE(set.sample(0)[0].correct);
}

struct CsvErrorCase {
  const char* text;
  const char* expected;  // substring of the message after the path
};

class ReplayCsvErrorTest : public ReplayCsvTest, public ::testing::WithParamInterface<CsvErrorCase> {};

TEST_P(ReplayCsvErrorTest, NamesFileLineAndColumn) {
  const std::string p = write("bad.csv", GetParam().text);
  try {
    load_replay_csv(p);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(p), std::string::npos) << msg;
    EXPECT_NE(msg.find(GetParam().expected), std::string::npos) << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReplayCsvErrorTest,
    ::testing::Values(CsvErrorCase{"", "empty"}, CsvErrorCase{"id,conf_1,correct_1\n", ":1:1:"},
                      CsvErrorCase{"sample,conf_1,correct_2\n", ":1:3: expected column 'correct_1'"},
                      CsvErrorCase{"sample,conf_1,correct_1\n0,0.5\n", ":2:"},
                      CsvErrorCase{"sample,conf_1,correct_1\n0,0.5,1\n1,abc,1\n", ":3:2: confidence"},
                      CsvErrorCase{"sample,conf_1,correct_1\n0,1.5,1\n", ":2:2: confidence"},
                      CsvErrorCase{"sample,conf_1,correct_1\n0,0.5,2\n", ":2:3: correct"},
                      CsvErrorCase{"sample,conf_1,correct_1\n", "no samples"}));

TEST(ReplayCsv, MissingFile) {
  EXPECT_THROW(load_replay_csv("/nonexistent/replay.csv"), Error);
}

}  // namespace
}  // namespace imprecise::sim
