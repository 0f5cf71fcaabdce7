// Tests of the arrival generators: counts, rates, traces, determinism and errors.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/workload.hpp"

namespace imprecise::sim {
namespace {

StreamSpec stream(ArrivalKind kind, double rate_hz) {
  StreamSpec s;
  s.name = "s";
  s.kind = kind;
  s.rate_hz = rate_hz;
  s.relative_deadline = from_ms(50);
  return s;
}

void expect_sorted_in_range(const std::vector<Time>& t, Duration horizon) {
  EXPECT_TRUE(std::is_sorted(t.begin(), t.end()));
  if (!t.empty()) {
    EXPECT_GE(t.front(), 0);
    EXPECT_LT(t.back(), horizon);
  }
}

class PeriodicTest : public ::testing::TestWithParam<std::tuple<double, double, double>> {};

TEST_P(PeriodicTest, CountIsRateTimesHorizon) {
  const auto [rate, jitter_ms, scale] = GetParam();
  StreamSpec s = stream(ArrivalKind::periodic, rate);
  s.jitter = from_ms(jitter_ms);
  const Duration horizon = from_seconds(10);
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto t = generate_arrivals(s, horizon, scale, seed);
    expect_sorted_in_range(t, horizon);
    EXPECT_NEAR(static_cast<double>(t.size()), rate * scale * 10.0, 1.0 + 1e-9) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(Rates, PeriodicTest,
                         ::testing::Values(std::tuple{30.0, 0.0, 1.0}, std::tuple{30.0, 2.0, 1.0},
                                           std::tuple{10.0, 5.0, 2.5}, std::tuple{7.3, 1.0, 0.5}));

TEST(Periodic, JitterStaysWithinBounds) {
  StreamSpec s = stream(ArrivalKind::periodic, 20);
  const auto plain = generate_arrivals(s, from_seconds(5), 1.0, 3);
  s.jitter = from_ms(2);
  const auto jittered = generate_arrivals(s, from_seconds(5), 1.0, 3);
  // Same seed => same phase; every arrival moves by at most the jitter (edges may drop one).
  ASSERT_NEAR(static_cast<double>(plain.size()), static_cast<double>(jittered.size()), 1.0);
  for (std::size_t i = 1; i + 1 < std::min(plain.size(), jittered.size()); ++i)
    EXPECT_LE(std::abs(plain[i] - jittered[i]), from_ms(2) + 1);
}

TEST(Poisson, MeanRateWithinFivePercent) {
  const StreamSpec s = stream(ArrivalKind::poisson, 200);
  const Duration horizon = from_seconds(100);
  const auto t = generate_arrivals(s, horizon, 1.0, 11);
  expect_sorted_in_range(t, horizon);
  EXPECT_NEAR(static_cast<double>(t.size()) / 100.0, 200.0, 10.0);
  const auto scaled = generate_arrivals(s, horizon, 0.5, 11);
  EXPECT_NEAR(static_cast<double>(scaled.size()) / 100.0, 100.0, 5.0);
}

TEST(Poisson, DeterministicPerSeed) {
  const StreamSpec s = stream(ArrivalKind::poisson, 50);
  EXPECT_EQ(generate_arrivals(s, from_seconds(10), 1.0, 4), generate_arrivals(s, from_seconds(10), 1.0, 4));
  EXPECT_NE(generate_arrivals(s, from_seconds(10), 1.0, 4), generate_arrivals(s, from_seconds(10), 1.0, 5));
}

TEST(Bursty, MeanRateFollowsDutyCycle) {
  StreamSpec s = stream(ArrivalKind::bursty, 100);
  s.on = from_ms(200);
  s.off = from_ms(800);
  EXPECT_DOUBLE_EQ(mean_rate_hz(s), 20.0);
  const auto t = generate_arrivals(s, from_seconds(200), 1.0, 8);
  expect_sorted_in_range(t, from_seconds(200));
  EXPECT_NEAR(static_cast<double>(t.size()) / 200.0, 20.0, 2.0);
  // Arrivals cluster: many gaps are near the off period.
  int long_gaps = 0;
  for (std::size_t i = 1; i < t.size(); ++i) long_gaps += (t[i] - t[i - 1]) > from_ms(500);
  EXPECT_GT(long_gaps, 150);
}

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("imprecise_sim_trace_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(TraceTest, HeaderAndNoHeader) {
  const auto with = load_trace_csv(write("a.csv", "id,time_ms\n0,10\n1,5.5\n2,20\n"));
  EXPECT_EQ(with, (std::vector<Time>{from_ms(5.5), from_ms(10), from_ms(20)}));
  const auto without = load_trace_csv(write("b.csv", "10\n5.5\n\n20\n"));
  EXPECT_EQ(without, with);
}

TEST_F(TraceTest, RateScaleCompressesTimeAndHorizonCuts) {
  StreamSpec s = stream(ArrivalKind::trace, 0);
  s.trace_file = write("t.csv", "time_ms\n0\n100\n200\n300\n400\n");
  EXPECT_EQ(generate_arrivals(s, from_ms(250), 1.0, 1), (std::vector<Time>{0, from_ms(100), from_ms(200)}));
  EXPECT_EQ(generate_arrivals(s, from_ms(250), 2.0, 1).size(), 5u);
  EXPECT_EQ(generate_arrivals(s, from_ms(250), 2.0, 1).back(), from_ms(200));
}

TEST_F(TraceTest, ErrorsNameFileLineColumn) {
  const auto bad_value = write("c.csv", "time_ms\n1\nabc\n");
  try {
    load_trace_csv(bad_value);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(bad_value + ":3:1:"), std::string::npos) << e.what();
  }
  const auto negative = write("d.csv", "x,time_ms\n0,-4\n");
  try {
    load_trace_csv(negative);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(negative + ":2:2:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_trace_csv(write("e.csv", "when\n1\n")), Error);
  EXPECT_THROW(load_trace_csv((dir_ / "missing.csv").string()), Error);
}

TEST(WorkloadErrors, NameTheField) {
  auto message = [](const StreamSpec& s) {
    try {
      generate_arrivals(s, from_seconds(1), 1.0, 1);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(stream(ArrivalKind::poisson, -1)).find("rate_hz"), std::string::npos);
  StreamSpec b = stream(ArrivalKind::bursty, 10);
  EXPECT_NE(message(b).find("on_ms"), std::string::npos);
  StreamSpec t = stream(ArrivalKind::trace, 0);
  EXPECT_NE(message(t).find("trace"), std::string::npos);
  EXPECT_THROW(parse_arrival_kind("uniform"), Error);
  EXPECT_EQ(parse_arrival_kind("bursty"), ArrivalKind::bursty);
  EXPECT_THROW(generate_arrivals(stream(ArrivalKind::poisson, 1), from_seconds(1), 0.0, 1), Error);
}

}  // namespace
}  // namespace imprecise::sim
