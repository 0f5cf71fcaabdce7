// SloUtility: the one formula every controller is scored with (throughput against latency, with an
// SLO-violation penalty; optionally accuracy-weighted), over what one model saw in a window.
#pragma once

#include <span>

#include "imprecise/core/time.hpp"

namespace imprecise {

/// What one model saw over a window (a control interval, or a whole run).
struct ModelWindow {
  int arrived = 0;             ///< jobs released
  int answered = 0;            ///< outcomes delivered
  int completed = 0;           ///< answered with the mandatory part done by the deadline
  int missed = 0;              ///< mandatory part not done by the deadline
  int rejected = 0;            ///< refused or shed
  int failed = 0;
  double expected_correct = 0; ///< sum over completed answers of R(exit | exit, confidence)
  Duration latency_mean = 0;   ///< release -> answer, over answered jobs
  Duration latency_p50 = 0;
  Duration latency_p99 = 0;
  Duration slo = 0;            ///< mean relative deadline of the jobs released
  int dispatches = 0;          ///< batches run
  double mean_batch = 0.0;     ///< jobs per batch
  int pending = 0;             ///< jobs admitted and not answered at the window's end
};

/// Plain (BCEdge-like, throughput against latency):
///   U = completed / answered - latency x (latency_mean / slo) - violation x (missed + rejected + failed) / answered
/// Accuracy-weighted (accuracy-weighted goodput; the controllers' default objective):
///   U_acc = expected_correct / answered - violation x (missed + rejected + failed) / answered
/// with no latency term: in the imprecise-computation model an answer by its deadline is on time and
/// is worth its accuracy; charging latency would charge an anytime policy for the depth it adds. Every
/// term is a fraction of the jobs answered, so a model's throughput is measured against what it was
/// offered; 0 for a window that answered nothing.
struct SloUtilityWeights {
  double latency = 0.5;
  double violation = 1.0;
  bool accuracy_weighted = false;
};

double slo_utility(const ModelWindow& window, const SloUtilityWeights& weights);
/// Over several models: each model's utility weighted by the jobs it answered.
double slo_utility(std::span<const ModelWindow> windows, const SloUtilityWeights& weights);

}  // namespace imprecise
