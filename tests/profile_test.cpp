// Tests for Profile: batch-size lookup, planning figures, planned_span and every validation error.
#include "imprecise/core/profile.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imprecise/error.hpp"

namespace imprecise {
namespace {

StageTiming timing(double mean_ms, double p50_ms, double p99_ms, double max_ms) {
  return StageTiming{from_ms(mean_ms), from_ms(p50_ms), from_ms(p99_ms), from_ms(max_ms)};
}

// Two stages measured at batch sizes 1, 2, 4, 8; stage s at column i costs (s + 1) * (i + 1) ms at p50.
Profile make_profile() {
  std::vector<int> batches{1, 2, 4, 8};
  std::vector<std::vector<StageTiming>> rows(2);
  for (int s = 0; s < 2; ++s) {
    for (int i = 0; i < 4; ++i) {
      const double base = (s + 1) * (i + 1);
      rows[static_cast<std::size_t>(s)].push_back(timing(base * 1.1, base, base * 1.5, base * 2.0));
    }
  }
  return Profile(batches, rows, "test.json");
}

// Runs `make` and returns the Error's message ("" if nothing was thrown).
template <typename F>
std::string error_of(F make) {
  try {
    make();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Profile, Shape) {
  const Profile p = make_profile();
  EXPECT_EQ(p.stages(), 2);
  EXPECT_EQ(p.max_batch(), 8);
  EXPECT_EQ(p.batch_sizes(), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(p.table().size(), 2u);
}

TEST(Profile, DefaultIsEmpty) {
  const Profile p;
  EXPECT_EQ(p.stages(), 0);
  EXPECT_EQ(p.max_batch(), 0);
}

TEST(Profile, BatchLookupUsesSmallestMeasuredBatchAtLeastAsLarge) {
  const Profile p = make_profile();
  // Column per batch size: 1->1, 2->2, 3->4, 4->4, 5..8->8.
  const int expected_column[] = {0, 0, 1, 2, 2, 3, 3, 3, 3};
  for (int s = 0; s < 2; ++s) {
    for (int b = 1; b <= 8; ++b) {
      const double base = (s + 1) * (expected_column[b] + 1);
      EXPECT_EQ(p.timing(s, b).p50, from_ms(base)) << "stage " << s << " batch " << b;
    }
  }
  EXPECT_EQ(p.timing(0, 3).p50, p.timing(0, 4).p50);
  EXPECT_EQ(p.timing(1, 3).max, from_ms(2 * 3 * 2.0));
}

TEST(Profile, PlannedFigures) {
  const Profile p = make_profile();
  EXPECT_EQ(p.planned(1, 2, PlanningFigure::mean), from_ms(2 * 2 * 1.1));
  EXPECT_EQ(p.planned(1, 2, PlanningFigure::p50), from_ms(4));
  EXPECT_EQ(p.planned(1, 2, PlanningFigure::p99), from_ms(6));
  EXPECT_EQ(p.planned(1, 2, PlanningFigure::max), from_ms(8));
  const StageTiming t = timing(1, 2, 3, 4);
  EXPECT_EQ(figure_of(t, PlanningFigure::mean), from_ms(1));
  EXPECT_EQ(figure_of(t, PlanningFigure::p50), from_ms(2));
  EXPECT_EQ(figure_of(t, PlanningFigure::p99), from_ms(3));
  EXPECT_EQ(figure_of(t, PlanningFigure::max), from_ms(4));
}

TEST(Profile, PlannedSpanSumsBatchOne) {
  const Profile p = make_profile();
  EXPECT_EQ(p.planned_span(0, 0, PlanningFigure::p99), 0);
  EXPECT_EQ(p.planned_span(0, 1, PlanningFigure::p99), from_ms(1.5));
  EXPECT_EQ(p.planned_span(1, 2, PlanningFigure::p99), from_ms(3.0));
  EXPECT_EQ(p.planned_span(0, 2, PlanningFigure::p99), from_ms(4.5));
  EXPECT_EQ(p.planned_span(0, 2, PlanningFigure::max), from_ms(6.0));
  EXPECT_EQ(p.planned_span(0, 2, PlanningFigure::p50), from_ms(3.0));
}

TEST(PlanningFigure, ParseAndName) {
  for (PlanningFigure f : {PlanningFigure::mean, PlanningFigure::p50, PlanningFigure::p99, PlanningFigure::max}) {
    EXPECT_EQ(parse_planning_figure(to_string(f)), f);
  }
  EXPECT_STREQ(to_string(PlanningFigure::p99), "p99");
  const std::string message = error_of([] { parse_planning_figure("p95"); });
  EXPECT_NE(message.find("p95"), std::string::npos) << message;
  EXPECT_THROW(parse_planning_figure(""), Error);
  EXPECT_THROW(parse_planning_figure("P99"), Error);
}

TEST(Profile, SingleBatchSizeIsEnough) {
  const Profile p({1}, {{timing(1, 1, 1, 1)}, {timing(2, 2, 2, 2)}, {timing(3, 3, 3, 3)}});
  EXPECT_EQ(p.max_batch(), 1);
  EXPECT_EQ(p.planned_span(0, 3, PlanningFigure::max), from_ms(6));
}

TEST(Profile, MeanMayLieAnywhereBelowMax) {
  // A skewed distribution: mean below p50, or above p99, both fine.
  EXPECT_NO_THROW(Profile({1}, {{timing(0.5, 1, 2, 3)}}));
  EXPECT_NO_THROW(Profile({1}, {{timing(2.5, 1, 2, 3)}}));
  EXPECT_NO_THROW(Profile({1}, {{timing(0, 0, 0, 0)}}));
}

struct BadProfile {
  const char* what;
  std::vector<int> batches;
  std::vector<std::vector<StageTiming>> rows;
  std::vector<std::string> must_name;  // every string must occur in the message
};
// Test output names the case instead of dumping the struct's bytes.
void PrintTo(const BadProfile& bad, std::ostream* os) { *os << bad.what; }

class ProfileErrors : public ::testing::TestWithParam<BadProfile> {};

TEST_P(ProfileErrors, NameWhereAndField) {
  const BadProfile& bad = GetParam();
  const std::string message = error_of([&] { Profile(bad.batches, bad.rows, "models/x/profile.json"); });
  ASSERT_FALSE(message.empty()) << bad.what << ": no Error thrown";
  EXPECT_NE(message.find("models/x/profile.json"), std::string::npos) << message;
  for (const std::string& s : bad.must_name) EXPECT_NE(message.find(s), std::string::npos) << bad.what << ": " << message;
}

const StageTiming ok = timing(1, 1, 2, 3);

// gtest names a case from its description; only letters, digits and '_' are allowed.
std::string case_name(const ::testing::TestParamInfo<BadProfile>& param) {
  std::string name = param.param.what;
  for (char& c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(
    All, ProfileErrors,
    ::testing::Values(
        BadProfile{"no batch sizes", {}, {{}}, {"batch_sizes", "empty"}},
        BadProfile{"does not start at 1", {2, 4}, {{ok, ok}}, {"batch_sizes[0]", "2"}},
        BadProfile{"not increasing", {1, 4, 4}, {{ok, ok, ok}}, {"batch_sizes[2]", "increasing"}},
        BadProfile{"decreasing", {1, 4, 2}, {{ok, ok, ok}}, {"batch_sizes[2]"}},
        BadProfile{"no stages", {1}, {}, {"per_stage", "empty"}},
        BadProfile{"short row", {1, 2}, {{ok, ok}, {ok}}, {"stage 1", "1 timings"}},
        BadProfile{"long row", {1, 2}, {{ok, ok, ok}}, {"stage 0", "3 timings"}},
        BadProfile{"negative", {1, 2}, {{ok, ok}, {ok, timing(-1, 1, 2, 3)}}, {"stage 1", "batch 2", "negative"}},
        BadProfile{"p50 > p99", {1, 2}, {{ok, timing(1, 3, 2, 3)}}, {"stage 0", "batch 2", "p50 <= p99 <= max"}},
        BadProfile{"p99 > max", {1}, {{ok}, {ok}, {timing(1, 1, 4, 3)}}, {"stage 2", "batch 1", "p50 <= p99 <= max"}},
        BadProfile{"mean > max", {1}, {{timing(4, 1, 2, 3)}}, {"stage 0", "batch 1", "mean"}}),
    case_name);

}  // namespace
}  // namespace imprecise
