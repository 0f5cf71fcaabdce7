// One real-time run: a scenario's jobs (plan_jobs, the simulator's very jobs) submitted on their release
// times to a runtime Engine serving the real networks, with their real test inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imprecise/sched/policy.hpp"
#include "imprecise/runtime/metrics.hpp"
#include "imprecise/sim/metrics.hpp"
#include "imprecise/sim/scenario.hpp"
#include "served_models.hpp"

namespace edge_server {

struct RunConfig {
  std::string policy = "yao-dp";
  double load = 1.0;
  std::uint64_t seed = 1;
  imprecise::Duration horizon = 0;  ///< seconds of arrivals, as a Duration (> 0)
  std::string backend = "cpu";
  std::string trace_path;           ///< Chrome trace of the run; empty: none
  imprecise::PolicyConfig policy_config;
  int lanes = 1;           ///< runtime::EngineConfig::lanes
  bool pin_lanes = false;  ///< runtime::EngineConfig::pin_lanes
};

struct RunResult {
  imprecise::sim::SimMetrics metrics;   ///< the simulator's metrics, measured on the real run
  imprecise::runtime::MetricsSnapshot engine;
  std::vector<imprecise::Job> jobs;
  std::vector<imprecise::Outcome> outcomes;  ///< outcomes[i] is job i's; times relative to the run's start
  int outcome_violations = 0;                ///< jobs that got no outcome or more than one (must be 0)
  /// Each model's profile as served: the engine's online figures (dispatch cycles, see
  /// runtime::OnlineProfileConfig) averaged over the run wherever a batch size ran often enough, the
  /// offline figures elsewhere. With lanes > 1: of the table planned at that concurrency (Model::profile_at).
  std::vector<imprecise::Profile> served_profiles;
};

RunResult run_real(const imprecise::sim::Scenario& scenario, const ServedSet& set, const RunConfig& config);

}  // namespace edge_server
