// slo_report(): a run's SloUtility (plain and accuracy-weighted) and the figures beside it.
#include "imprecise/sim/slo_report.hpp"

#include <vector>

#include "imprecise/sim/metrics.hpp"

namespace imprecise::sim {

SloReport slo_report(const SimResult& result, const SloUtilityWeights& weights, int lanes,
                     const std::string& controller) {
  SloReport r;
  r.controller = controller.empty() ? "none" : controller;
  r.lanes = lanes;
  SloUtilityWeights w = weights;
  w.accuracy_weighted = false;
  r.utility = slo_utility(result.windows, w);
  w.accuracy_weighted = true;
  r.utility_accuracy = slo_utility(result.windows, w);
  const StreamMetrics& t = result.metrics.total;
  r.accuracy = t.accuracy;
  r.slo_violations = t.jobs > 0 ? static_cast<double>(t.missed + t.rejected + t.failed) / t.jobs : 0.0;
  r.latency_p99_ms = t.latency_p99_ms;
  r.throughput_per_s = result.horizon > 0 ? t.completed / to_seconds(result.horizon) : 0.0;
  r.intervals = static_cast<int>(result.control.size());
  std::vector<double> us;
  for (const Duration d : result.control_decisions) us.push_back(to_us(d));
  r.decision_p50_us = nearest_rank_percentile(us, 0.50);
  r.decision_p99_us = nearest_rank_percentile(us, 0.99);
  us.clear();
  for (const ControlRecord& c : result.control) us.push_back(to_us(c.decision_cpu));
  r.decision_cpu_p50_us = nearest_rank_percentile(us, 0.50);
  r.decision_cpu_p99_us = nearest_rank_percentile(us, 0.99);
  return r;
}

nlohmann::json to_json(const SloReport& r) {
  return {{"controller", r.controller},
          {"lanes", r.lanes},
          {"utility", r.utility},
          {"utility_accuracy", r.utility_accuracy},
          {"accuracy", r.accuracy},
          {"slo_violations", r.slo_violations},
          {"latency_p99_ms", r.latency_p99_ms},
          {"throughput_per_s", r.throughput_per_s},
          {"intervals", r.intervals},
          {"decision_p50_us", r.decision_p50_us},
          {"decision_p99_us", r.decision_p99_us},
          {"decision_cpu_p50_us", r.decision_cpu_p50_us},
          {"decision_cpu_p99_us", r.decision_cpu_p99_us}};
}

}  // namespace imprecise::sim
