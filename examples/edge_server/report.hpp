// The experiment's outputs: the printed table, results JSON and the per-stream CSV the plot script reads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "imprecise/core/profile.hpp"
#include "imprecise/sim/metrics.hpp"
#include "imprecise/sim/slo_report.hpp"

namespace edge_server {

/// One (policy, controller, load): the real run and the simulator on the same jobs, planned and timed with the
/// profiles measured while serving (`simulated`) and with the offline profiles (`simulated_offline`).
struct Comparison {
  imprecise::sim::SimMetrics real;
  imprecise::sim::SimMetrics simulated;
  imprecise::sim::SimMetrics simulated_offline;
  /// Each model's profile as served (what `simulated` ran on), by scenario model order: written to the
  /// JSON so that a gap between two policies can be traced to what each one's own serving measured.
  std::vector<std::pair<std::string, imprecise::Profile>> served_profiles;
  std::string controller;  ///< empty: none (the run's label is then its policy alone)
  /// With --controllers or --load-schedule: each source's SloReport (same order as above); without
  /// them none, and the outputs are what they were before controllers existed.
  std::optional<imprecise::sim::SloReport> real_slo, simulated_slo, simulated_offline_slo;
};

/// "policy", or "policy/controller" under a controller.
std::string run_label(const Comparison& c);
/// Per run: SloUtility accuracy-weighted and plain, SLO violations, p99, throughput and the
/// controller's decision p50/p99 of the real run, with the simulator's utility and violations beside.
std::string format_slo_table(const std::vector<Comparison>& runs);

/// Policy x load table: accuracy, miss and drop ratio, mean depth and p99 latency of the real run,
/// with the simulator's accuracy and miss ratio beside them (and its accuracy on the offline profiles).
std::string format_table(const std::vector<Comparison>& runs);
/// Per stream of one load: accuracy / miss ratio / p99 per policy.
std::string format_streams(const std::vector<Comparison>& runs, double load);
/// Largest |real - simulated| of accuracy and of miss ratio over the runs (in points: x 100), the
/// simulator on the profiles measured while serving.
struct Agreement {
  double accuracy_points = 0.0;
  double miss_points = 0.0;
};
Agreement agreement(const std::vector<Comparison>& runs);

void write_json(const std::string& path, const std::vector<Comparison>& runs, const nlohmann::json& setup);
/// Columns: policy,load,source,stream,jobs,accuracy,miss_ratio,drop_ratio,mean_depth,latency_p99_ms;
/// runs with an SloReport add controller,utility_accuracy,utility,slo_violations,throughput_per_s,
/// decision_p50_us,decision_p99_us (filled on the total rows).
void write_csv(const std::string& path, const std::vector<Comparison>& runs);

}  // namespace edge_server
