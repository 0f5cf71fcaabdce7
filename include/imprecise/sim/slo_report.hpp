// SloReport: the figures a control run is judged by (SloUtility, accuracy, SLO violations, p99 latency,
// throughput, the controller's decision time), the same for the CLI and the Python module.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "imprecise/sim/simulator.hpp"

namespace imprecise::sim {

struct SloReport {
  std::string controller;           ///< its name ("none" without one)
  int lanes = 1;
  double utility = 0.0;             ///< slo_utility over the whole run (weights as configured, served = completed)
  double utility_accuracy = 0.0;    ///< the same, accuracy-weighted (served = expected correct)
  double accuracy = 0.0;            ///< correct / jobs
  double slo_violations = 0.0;      ///< (missed + rejected + failed) / jobs
  double latency_p99_ms = 0.0;      ///< completed jobs, release -> answer
  double throughput_per_s = 0.0;    ///< completed jobs per second of arrivals (the horizon)
  int intervals = 0;                ///< control intervals run
  double decision_p50_us = 0.0;     ///< wall time of one Controller::decide (0 without one)
  double decision_p99_us = 0.0;
  double decision_cpu_p50_us = 0.0;  ///< the deciding thread's CPU time in it (the wall time less preemption)
  double decision_cpu_p99_us = 0.0;
};

/// `weights` is what the run was scored with (SimConfig::control.utility); accuracy_weighted is set
/// for the second figure and cleared for the first whatever it says.
SloReport slo_report(const SimResult& result, const SloUtilityWeights& weights, int lanes,
                     const std::string& controller);

/// {controller, lanes, utility, utility_accuracy, accuracy, slo_violations, latency_p99_ms,
///  throughput_per_s, intervals, decision_p50_us, decision_p99_us, decision_cpu_p50_us, decision_cpu_p99_us}
nlohmann::json to_json(const SloReport& report);

}  // namespace imprecise::sim
