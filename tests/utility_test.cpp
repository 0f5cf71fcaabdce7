// Tests for UtilityModel: calibration recovers known probabilities, shrinkage, priors and validation.
#include "imprecise/core/utility.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "imprecise/error.hpp"

namespace imprecise {
namespace {

template <typename F>
std::string error_of(F make) {
  try {
    make();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Known ground truth: a latent difficulty bin b (uniform over 10) sets the confidence bin at every
// exit, and exit l is correct with probability p(l, b), independently of everything else. So
// R(l | k, c in bin b) = p(l, b) for every k <= l, and the prior is the mean over b.
double truth(int l, int b) { return 0.3 + 0.05 * b + 0.1 * (l - 1); }

std::vector<ExitRecord> latent_bin_records(int exits, int samples, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> bin(0, 9);
  std::uniform_real_distribution<float> within(0.02f, 0.98f);  // stay clear of bin edges
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<ExitRecord> records;
  records.reserve(static_cast<std::size_t>(exits * samples));
  for (int s = 0; s < samples; ++s) {
    const int b = bin(rng);
    for (int l = 1; l <= exits; ++l) {
      const float confidence = (static_cast<float>(b) + within(rng)) / 10.0f;
      records.push_back(ExitRecord{confidence, u(rng) < truth(l, b)});
    }
  }
  return records;
}

TEST(UtilityCalibrate, RecoversKnownProbabilities) {
  const int exits = 3;
  const auto records = latent_bin_records(exits, 50000, 7);
  const UtilityModel model = UtilityModel::calibrate(exits, records, 10);
  ASSERT_EQ(model.exits(), exits);
  ASSERT_EQ(model.bins(), 10);
  ASSERT_EQ(model.prior_table().size(), 3u);
  ASSERT_EQ(model.table().size(), 3u * 10u * 3u);
  for (int l = 1; l <= exits; ++l) {
    double mean = 0;
    for (int b = 0; b < 10; ++b) mean += truth(l, b) / 10.0;
    EXPECT_NEAR(model.prior(l), mean, 0.03) << "prior at exit " << l;
  }
  for (int k = 1; k <= exits; ++k) {
    for (int b = 0; b < 10; ++b) {
      const double confidence = (b + 0.5) / 10.0;
      for (int l = k; l <= exits; ++l) {
        EXPECT_NEAR(model.expected(l, k, confidence), truth(l, b), 0.03) << "k=" << k << " bin=" << b << " l=" << l;
      }
    }
  }
}

TEST(UtilityCalibrate, UninformativeExitGivesTheMarginal) {
  // Exit 2's confidence is noise: knowing it says nothing beyond the marginal of exit 2.
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> conf(0.0f, 1.0f);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<ExitRecord> records;
  for (int s = 0; s < 50000; ++s) {
    const float c1 = conf(rng);
    records.push_back(ExitRecord{c1, u(rng) < c1});
    records.push_back(ExitRecord{conf(rng), u(rng) < 0.7});
  }
  // Confident samples are worse at exit 2 than at exit 1 here, so fit the raw rates.
  const UtilityModel model = UtilityModel::calibrate(2, records, 10, /*monotone_in_depth=*/false);
  EXPECT_NEAR(model.prior(1), 0.5, 0.03);
  EXPECT_NEAR(model.prior(2), 0.7, 0.03);
  for (int b = 0; b < 10; ++b) {
    const double c = (b + 0.5) / 10.0;
    EXPECT_NEAR(model.expected(1, 1, c), c, 0.03) << "bin " << b;
    EXPECT_NEAR(model.expected(2, 1, c), 0.7, 0.03) << "bin " << b;
    EXPECT_NEAR(model.expected(2, 2, c), 0.7, 0.03) << "bin " << b;
  }
}

TEST(UtilityCalibrate, MonotoneInDepthFitsOverthinkingRowsToTheirMean) {
  // Confident at exit 1 (0.9 correct) but only 0.7 correct at exit 2: the isotonic fit pools the
  // row to its mean, while the raw fit keeps the dip.
  std::vector<ExitRecord> records;
  for (int s = 0; s < 1000; ++s) {
    records.push_back(ExitRecord{0.95f, s % 10 < 9});
    records.push_back(ExitRecord{0.95f, s % 10 < 7});
  }
  const UtilityModel fitted = UtilityModel::calibrate(2, records, 10);
  const UtilityModel raw = UtilityModel::calibrate(2, records, 10, false);
  EXPECT_NEAR(raw.expected(1, 1, 0.95), 0.9, 0.01);
  EXPECT_NEAR(raw.expected(2, 1, 0.95), 0.7, 0.01);
  EXPECT_NEAR(fitted.expected(1, 1, 0.95), 0.8, 0.01);
  EXPECT_NEAR(fitted.expected(2, 1, 0.95), 0.8, 0.01);
  EXPECT_LE(fitted.expected(1, 1, 0.95), fitted.expected(2, 1, 0.95));
}

TEST(UtilityCalibrate, NonDecreasingFitIsPoolAdjacentViolators) {
  std::vector<double> v{0.5, 0.9, 0.7, 0.8, 1.0, 0.2};
  make_non_decreasing(v);
  // {0.9, 0.7, 0.8} pools to 0.8; then {1.0, 0.2} pools to 0.6 < 0.8, so the five pool to 3.6 / 5.
  const std::vector<double> expected{0.5, 0.72, 0.72, 0.72, 0.72, 0.72};
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], 1e-12) << i;
  std::vector<double> sorted{0.1, 0.2, 0.3};
  make_non_decreasing(sorted);
  EXPECT_EQ(sorted, (std::vector<double>{0.1, 0.2, 0.3}));
}

TEST(UtilityCalibrate, EmptyBinReturnsTheMarginal) {
  // Every confidence lies in the upper half, so bins 0..4 saw nothing.
  std::vector<ExitRecord> records;
  for (int s = 0; s < 100; ++s) {
    records.push_back(ExitRecord{0.75f, s % 4 != 0});  // exit 1: 75% correct
    records.push_back(ExitRecord{0.95f, s % 5 != 0});  // exit 2: 80% correct
  }
  const UtilityModel model = UtilityModel::calibrate(2, records, 10);
  EXPECT_DOUBLE_EQ(model.prior(1), 0.75);
  EXPECT_DOUBLE_EQ(model.prior(2), 0.80);
  for (int b = 0; b < 5; ++b) {
    const double c = (b + 0.5) / 10.0;
    EXPECT_DOUBLE_EQ(model.expected(1, 1, c), 0.75);
    EXPECT_DOUBLE_EQ(model.expected(2, 1, c), 0.80);
    EXPECT_DOUBLE_EQ(model.expected(2, 2, c), 0.80);
  }
}

TEST(UtilityCalibrate, SparseBinIsShrunkTowardTheMarginal) {
  // 99 samples at low confidence, all wrong at exit 1 except the one lone high-confidence sample,
  // which is right. One sample must not make the bin certain.
  std::vector<ExitRecord> records;
  for (int s = 0; s < 99; ++s) records.push_back(ExitRecord{0.15f, s < 49});
  records.push_back(ExitRecord{0.95f, true});
  const UtilityModel model = UtilityModel::calibrate(1, records, 10, true, BinSpacing::equal_width);
  const double marginal = 0.5;
  EXPECT_DOUBLE_EQ(model.prior(1), marginal);
  const double lone = model.expected(1, 1, 0.95);
  EXPECT_GT(lone, marginal);
  EXPECT_LT(lone, 0.6);  // pulled most of the way back to the marginal
  // The populous bin is close to its own rate (49/99), not dragged far toward the marginal.
  EXPECT_NEAR(model.expected(1, 1, 0.15), 49.0 / 99.0, 0.01);
}

TEST(UtilityCalibrate, MonotoneDataGivesMonotoneRows) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> conf(0.0f, 1.0f);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<ExitRecord> records;
  for (int s = 0; s < 50000; ++s) {
    const float c1 = conf(rng);
    // Later confidences mix the earlier one with fresh noise, still covering all of [0, 1]: an empty
    // bin would read the marginal, which need not sit between its neighbours.
    const float c2 = 0.5f * c1 + 0.5f * conf(rng);
    const float c3 = 0.7f * c2 + 0.3f * conf(rng);
    records.push_back(ExitRecord{c1, u(rng) < c1});
    records.push_back(ExitRecord{c2, u(rng) < c2});
    records.push_back(ExitRecord{c3, u(rng) < c3});
  }
  const UtilityModel model = UtilityModel::calibrate(3, records, 10);
  for (int k = 1; k <= 3; ++k) {
    for (int l = k; l <= 3; ++l) {
      for (int b = 1; b < 10; ++b) {
        EXPECT_GE(model.expected(l, k, (b + 0.5) / 10.0), model.expected(l, k, (b - 0.5) / 10.0))
            << "k=" << k << " l=" << l << " bin=" << b;
      }
    }
  }
}

TEST(UtilityModel, PriorAndFallbacks) {
  const auto records = latent_bin_records(3, 2000, 5);
  const UtilityModel model = UtilityModel::calibrate(3, records, 10);
  EXPECT_EQ(model.prior(0), 0.0);
  EXPECT_EQ(model.prior(-1), 0.0);
  EXPECT_EQ(model.expected(0, 1, 0.9), 0.0);
  for (int l = 1; l <= 3; ++l) {
    EXPECT_EQ(model.expected(l, 0, 0.9), model.prior(l)) << "nothing observed: the prior";
    EXPECT_EQ(model.expected(l, 0, 0.1), model.prior(l));
  }
  // A depth already passed is worth what the observed exit is worth.
  EXPECT_EQ(model.expected(1, 2, 0.55), model.expected(2, 2, 0.55));
  // Confidences outside [0, 1] use the edge bins.
  EXPECT_EQ(model.expected(3, 1, -0.5), model.expected(3, 1, 0.0));
  EXPECT_EQ(model.expected(3, 1, 1.5), model.expected(3, 1, 0.99));
  EXPECT_EQ(model.bin_of(1.0), 9);
}

TEST(UtilityModel, NanAndOutOfRangeConfidenceHaveADefinedBin) {
  // Before, NaN * bins went through a float-to-int cast (undefined behaviour), and so did huge values.
  const UtilityModel model = UtilityModel::calibrate(3, latent_bin_records(3, 2000, 5), 10);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(model.bin_of(nan), 0) << "NaN counts as the least confident";
  EXPECT_EQ(model.bin_of(-nan), 0);
  EXPECT_EQ(model.bin_of(-1e300), 0);
  EXPECT_EQ(model.bin_of(-inf), 0);
  EXPECT_EQ(model.bin_of(-0.0), 0);
  EXPECT_EQ(model.bin_of(1e300), 9);
  EXPECT_EQ(model.bin_of(inf), 9);
  EXPECT_EQ(model.bin_of(std::nextafter(1.0, 0.0)), 9);
  EXPECT_EQ(model.bin_of(0.05), 0);
  EXPECT_EQ(model.bin_of(0.15), 1);
  for (int l = 1; l <= 3; ++l) EXPECT_EQ(model.expected(l, 1, nan), model.expected(l, 1, 0.0));
}

TEST(UtilityModel, ExplicitTables) {
  // 2 exits, 2 bins: layout [k-1][bin][l-1].
  const UtilityModel model(2, 2, {0.6, 0.8}, {0.4, 0.7, 0.9, 0.95, 0.0, 0.5, 0.0, 0.99});
  EXPECT_EQ(model.prior(1), 0.6);
  EXPECT_EQ(model.prior(2), 0.8);
  EXPECT_EQ(model.expected(1, 1, 0.2), 0.4);
  EXPECT_EQ(model.expected(2, 1, 0.2), 0.7);
  EXPECT_EQ(model.expected(2, 1, 0.7), 0.95);
  EXPECT_EQ(model.expected(2, 2, 0.2), 0.5);
  EXPECT_EQ(model.expected(2, 2, 0.7), 0.99);
}

TEST(UtilityModel, ConstructorErrorsNameTheField) {
  const std::vector<double> table8(8, 0.5);
  EXPECT_NE(error_of([&] { UtilityModel(0, 2, {}, {}); }).find("exits"), std::string::npos);
  EXPECT_NE(error_of([&] { UtilityModel(2, 0, {0.5, 0.5}, {}); }).find("bins"), std::string::npos);
  EXPECT_NE(error_of([&] { UtilityModel(2, 2, {0.5}, table8); }).find("prior"), std::string::npos);
  EXPECT_NE(error_of([&] { UtilityModel(2, 2, {0.5, 0.5}, std::vector<double>(7, 0.5)); }).find("table"),
            std::string::npos);
  EXPECT_NE(error_of([&] { UtilityModel(2, 2, {0.5, 1.5}, table8); }).find("prior[1]"), std::string::npos);
  std::vector<double> bad = table8;
  bad[7] = std::nan("");  // k=2, bin=1, l=2
  EXPECT_NE(error_of([&] { UtilityModel(2, 2, {0.5, 0.5}, bad); }).find("table[k=2][bin=1][l=2]"), std::string::npos);
  EXPECT_NO_THROW(UtilityModel(2, 2, {0.5, 0.5}, table8));
}

TEST(UtilityCalibrate, ErrorsNameTheField) {
  const std::vector<ExitRecord> five(5);
  EXPECT_NE(error_of([&] { UtilityModel::calibrate(0, five); }).find("exits"), std::string::npos);
  EXPECT_NE(error_of([&] { UtilityModel::calibrate(1, five, 0); }).find("bins"), std::string::npos);
  EXPECT_NE(error_of([&] { UtilityModel::calibrate(2, five); }).find("multiple"), std::string::npos);
  EXPECT_NE(error_of([&] { UtilityModel::calibrate(2, std::vector<ExitRecord>{}); }).find("empty"), std::string::npos);
  std::vector<ExitRecord> nan_record(4);
  nan_record[3].confidence = std::nanf("");
  EXPECT_NE(error_of([&] { UtilityModel::calibrate(2, nan_record); }).find("sample 1 exit 2"), std::string::npos);
}

TEST(UtilityCalibrate, EqualMassBinsResolveConfidencesPackedNearOne) {
  // Every confidence lies in [0.9, 1): equal-width bins put them all in one bin and cannot tell a
  // 0.91 from a 0.99; equal-mass bins split them by rank. Correct exactly when confidence > 0.95.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> near_one(0.9f, 0.999f);
  std::vector<ExitRecord> records;
  for (int s = 0; s < 4000; ++s) {
    const float c = near_one(rng);
    records.push_back(ExitRecord{c, c > 0.95f});
  }
  const UtilityModel width = UtilityModel::calibrate(1, records, 10, true, BinSpacing::equal_width);
  const UtilityModel mass = UtilityModel::calibrate(1, records, 10, true, BinSpacing::equal_mass);
  EXPECT_TRUE(width.edges().empty());
  ASSERT_EQ(mass.edges().size(), 9u);
  EXPECT_GT(mass.edges().front(), 0.9);
  EXPECT_TRUE(std::is_sorted(mass.edges().begin(), mass.edges().end()));
  EXPECT_EQ(width.bin_of(0.91), width.bin_of(0.99));
  EXPECT_EQ(mass.bin_of(0.0), 0);
  EXPECT_EQ(mass.bin_of(0.91), 0);
  EXPECT_EQ(mass.bin_of(0.995), 9);
  EXPECT_EQ(mass.bin_of(2.0), 9);
  EXPECT_EQ(mass.bin_of(std::numeric_limits<double>::quiet_NaN()), 0);
  // Each bin holds about a tenth of the samples.
  std::vector<int> per_bin(10, 0);
  for (const ExitRecord& r : records) ++per_bin[static_cast<std::size_t>(mass.bin_of(r.confidence))];
  for (int n : per_bin) EXPECT_NEAR(n, 400, 2);
  EXPECT_NEAR(width.expected(1, 1, 0.91), width.expected(1, 1, 0.99), 1e-12);
  EXPECT_LT(mass.expected(1, 1, 0.91), 0.1);
  EXPECT_GT(mass.expected(1, 1, 0.99), 0.9);
}

TEST(UtilityModel, TablesWithoutEdgesKeepEqualWidthBinsAndEdgesAreChecked) {
  // A table written before edges existed (e.g. read back from a calibration file) answers as before.
  const std::vector<double> prior{0.5, 0.6}, table{0.5, 0.6, 0.7, 0.8, 0.5, 0.6, 0.7, 0.8};
  const UtilityModel old(2, 2, prior, table);
  const UtilityModel same(2, 2, prior, table, {});
  for (const double c : {0.1, 0.49, 0.5, 0.9})
    for (int k = 1; k <= 2; ++k) EXPECT_EQ(old.expected(2, k, c), same.expected(2, k, c));
  const UtilityModel skewed(2, 2, prior, table, {0.95, 0.8});
  EXPECT_EQ(skewed.bin_of(0.9, 1), 0);
  EXPECT_EQ(skewed.bin_of(0.9, 2), 1);
  EXPECT_EQ(skewed.expected(2, 1, 0.9), 0.6);
  EXPECT_EQ(skewed.expected(2, 1, 0.96), 0.8);
  EXPECT_NE(error_of([&] { UtilityModel(2, 2, prior, table, {0.5}); }).find("edges"), std::string::npos);
  EXPECT_NE(error_of([&] { UtilityModel(2, 2, prior, table, {0.5, 1.5}); }).find("edges[k=2]"), std::string::npos);
  EXPECT_NE(error_of([&] { UtilityModel(2, 3, {0.5, 0.6}, std::vector<double>(12, 0.5), {0.6, 0.5, 0.1, 0.2}); })
                .find("decrease"),
            std::string::npos);
}

}  // namespace
}  // namespace imprecise
