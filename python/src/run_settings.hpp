// RunSettings: the keyword arguments simulate() and ControlEnv share, turned into a SimConfig the way
// `imprecise simulate` turns its options into one (same defaults, same checks).
#pragma once

#include <optional>
#include <string>

#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"

namespace imprecise::python {

struct RunSettings {
  double load = 1.0;
  std::uint64_t seed = 1;
  std::optional<double> duration_s;  ///< unset: the scenario's
  std::optional<int> max_batch;      ///< unset: the scenario's
  int lanes = 1;
  std::string load_schedule;         ///< as --load-schedule; empty: none
  double interval_ms = 100.0;
  double max_batch_wait_ms = 10.0;
  int static_batch = 8;
  double static_wait_ms = 0.0;
  int static_lanes = 0;
  std::string actor;
  bool deterministic = false;
  double latency_weight = SloUtilityWeights{}.latency;
  double violation_weight = SloUtilityWeights{}.violation;
  bool accuracy_weighted = ControllerConfig{}.utility.accuracy_weighted;  ///< the reward ControlEnv gives
};

/// Throws ValueError naming the argument for a bad value.
sim::SimConfig make_config(const sim::Scenario& scenario, const RunSettings& settings);

}  // namespace imprecise::python
