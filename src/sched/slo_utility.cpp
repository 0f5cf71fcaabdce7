// SloUtility: the one score of a window (slo_utility.hpp), per model and over several.
#include "imprecise/sched/slo_utility.hpp"

namespace imprecise {

double slo_utility(const ModelWindow& window, const SloUtilityWeights& weights) {
  if (window.answered <= 0) return 0.0;
  const double answered = window.answered;
  const double served = (weights.accuracy_weighted ? window.expected_correct : window.completed) / answered;
  // A window that released nothing has no SLO to measure latency against: no latency term then.
  // The accuracy-weighted score has no latency term: an anytime answer given by its deadline is on
  // time, and what it is worth is its accuracy (the latency term would charge a policy for the depth
  // it was built to add).
  const double latency = window.slo > 0 && !weights.accuracy_weighted
                             ? static_cast<double>(window.latency_mean) / static_cast<double>(window.slo)
                             : 0.0;
  const double violations = (window.missed + window.rejected + window.failed) / answered;
  return served - weights.latency * latency - weights.violation * violations;
}

double slo_utility(std::span<const ModelWindow> windows, const SloUtilityWeights& weights) {
  double sum = 0.0;
  double answered = 0.0;
  for (const ModelWindow& w : windows) {
    if (w.answered <= 0) continue;
    sum += w.answered * slo_utility(w, weights);
    answered += w.answered;
  }
  return answered > 0 ? sum / answered : 0.0;
}

}  // namespace imprecise
