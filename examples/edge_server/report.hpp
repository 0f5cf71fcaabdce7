// The experiment's outputs: the printed table, results JSON and the per-stream CSV the plot script reads.
#pragma once

#include <string>
#include <vector>

#include "imprecise/core/profile.hpp"
#include "imprecise/sim/metrics.hpp"

namespace edge_server {

/// One (policy, load): the real run and the simulator on the same jobs, planned and timed with the
/// profiles measured while serving (`simulated`) and with the offline profiles (`simulated_offline`).
struct Comparison {
  imprecise::sim::SimMetrics real;
  imprecise::sim::SimMetrics simulated;
  imprecise::sim::SimMetrics simulated_offline;
  /// Each model's profile as served (what `simulated` ran on), by scenario model order: written to the
  /// JSON so that a gap between two policies can be traced to what each one's own serving measured.
  std::vector<std::pair<std::string, imprecise::Profile>> served_profiles;
};

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
/// Columns: policy,load,source,stream,jobs,accuracy,miss_ratio,drop_ratio,mean_depth,latency_p99_ms.
void write_csv(const std::string& path, const std::vector<Comparison>& runs);

}  // namespace edge_server
