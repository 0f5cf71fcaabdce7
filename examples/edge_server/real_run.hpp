// One real-time run: a scenario's jobs (the simulator's very jobs) submitted on their release times to a
// runtime Engine serving the real networks, with their real test inputs, optionally under a controller.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imprecise/sched/controller.hpp"
#include "imprecise/sched/policy.hpp"
#include "imprecise/runtime/metrics.hpp"
#include "imprecise/sim/jobs.hpp"
#include "imprecise/sim/metrics.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/slo_report.hpp"
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
  /// runtime::EngineConfig::controller (a fresh one per run: controllers keep state); null: none.
  std::shared_ptr<imprecise::Controller> controller;
  imprecise::ControllerConfig control;  ///< its settings and the SloUtility weights the run is scored with
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
  /// SloUtility (plain and accuracy-weighted), violations, p99, throughput and the controller's
  /// decision times, computed as the simulator's (run_slo.hpp).
  imprecise::sim::SloReport slo;
};

/// Serves `plan`'s jobs (sim::plan_jobs, or released_jobs() of a simulated run under a load schedule).
RunResult run_real(const imprecise::sim::Scenario& scenario, const ServedSet& set, const RunConfig& config,
                   const imprecise::sim::JobPlan& plan);

}  // namespace edge_server
