// SloUtility by hand: served fraction, latency against the SLO, the violation penalty, the weighting over models.
#include <gtest/gtest.h>

#include <vector>

#include "imprecise/sched/slo_utility.hpp"

namespace imprecise {
namespace {

ModelWindow window(int answered, int completed, int missed, int rejected, int failed, double latency_ms, double slo_ms) {
  ModelWindow w;
  w.arrived = answered;
  w.answered = answered;
  w.completed = completed;
  w.missed = missed;
  w.rejected = rejected;
  w.failed = failed;
  w.latency_mean = from_ms(latency_ms);
  w.slo = from_ms(slo_ms);
  return w;
}

TEST(SloUtility, ServedMinusLatencyMinusViolations) {
  // 10 answered: 7 completed, 2 missed, 1 rejected; latency 5 ms of a 20 ms SLO.
  const ModelWindow w = window(10, 7, 2, 1, 0, 5.0, 20.0);
  // 0.7 - 0.5 x 0.25 - 1.0 x 0.3 = 0.275
  EXPECT_NEAR(slo_utility(w, {}), 0.275, 1e-12);
  // weights: latency 1, violation 2: 0.7 - 0.25 - 0.6
  EXPECT_NEAR(slo_utility(w, SloUtilityWeights{1.0, 2.0, false}), -0.15, 1e-12);
}

TEST(SloUtility, AccuracyWeightedServesExpectedCorrect) {
  ModelWindow w = window(4, 4, 0, 0, 0, 10.0, 10.0);
  w.expected_correct = 3.0;
  EXPECT_NEAR(slo_utility(w, SloUtilityWeights{0.5, 1.0, true}), 0.75, 1e-12) << "no latency term: on time is on time";
  EXPECT_NEAR(slo_utility(w, SloUtilityWeights{0.5, 1.0, false}), 1.0 - 0.5, 1e-12);
}

TEST(SloUtility, NothingAnsweredScoresZeroAndNoSloNoLatencyTerm) {
  EXPECT_EQ(slo_utility(ModelWindow{}, {}), 0.0);
  ModelWindow w = window(2, 1, 0, 0, 1, 3.0, 0.0);  // no SLO seen: latency not weighed
  EXPECT_NEAR(slo_utility(w, {}), 0.5 - 0.5, 1e-12);
}

TEST(SloUtility, OverModelsWeightedByAnswered) {
  const std::vector<ModelWindow> ws{window(10, 10, 0, 0, 0, 0.0, 10.0),  // 1.0
                                    window(30, 0, 30, 0, 0, 0.0, 10.0),  // 0 - 1 = -1
                                    ModelWindow{}};                       // answered nothing: no weight
  EXPECT_NEAR(slo_utility(ws, {}), (10 * 1.0 + 30 * -1.0) / 40.0, 1e-12);
  EXPECT_EQ(slo_utility(std::span<const ModelWindow>{}, {}), 0.0);
}

}  // namespace
}  // namespace imprecise
