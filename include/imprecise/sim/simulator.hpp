// Simulator: deterministic discrete-event simulation of policies driving one device (one or more
// executor lanes) on a scenario, optionally under a controller and a time-varying load.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imprecise/core/job.hpp"
#include "imprecise/core/outcome.hpp"
#include "imprecise/sched/control_loop.hpp"
#include "imprecise/sched/controller.hpp"
#include "imprecise/sched/policy.hpp"
#include "imprecise/sched/observer.hpp"
#include "imprecise/sched/slo_utility.hpp"
#include "imprecise/sim/metrics.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/workload.hpp"
#include "imprecise/core/time.hpp"

namespace imprecise::sim {

struct SimConfig {
  /// Offered load: every stream's rate is scaled by rate_scale_for_load(scenario, load), so 1.0
  /// means running every job to full depth one at a time would exactly fill the device.
  double load = 1.0;
  /// > 0: stream rates are multiplied by this instead of the scale `load` gives. Serves the very jobs
  /// of a run planned on another profile (e.g. re-simulating with the stage times measured while serving).
  double rate_scale = 0.0;
  std::uint64_t seed = 1;
  Duration duration = 0;             ///< arrivals over [0, duration); 0: the scenario's
  int max_batch = 0;                 ///< overrides policy.max_batch; 0: the scenario's
  bool deterministic_times = false;  ///< every stage takes exactly its planned figure (policy.figure)
  PolicyConfig policy;               ///< passed to make_policy (max_batch replaced, lanes set as below)
  /// Executor lanes (concurrent model instances, >= 1): a stage's time is sampled from
  /// Model::profile_at(c), c = the lanes busy once it starts (itself included).
  int lanes = 1;
  /// Null: none. Else run through a ControlLoop ticked every control.interval from time 0. A
  /// controller keeps state between decisions: give every run a fresh one.
  std::shared_ptr<Controller> controller;
  ControllerConfig control;  ///< its settings (control.lanes is set to `lanes`)
  /// Multiplies every stream's rate over time (arrivals by thinning); empty: constant rates.
  LoadSchedule load_schedule;
  /// Told what happens, on simulated time, through the same hooks as the runtime Engine's (e.g. a
  /// TraceWriter: `imprecise simulate --trace FILE`).
  std::vector<std::shared_ptr<Observer>> observers;
};

struct SimResult {
  SimMetrics metrics;
  /// Every released job, indexed by id (ids are sequential in release order). `oracle` points into
  /// the scenario's test sets, so it is valid while the scenario lives.
  std::vector<Job> jobs;
  /// Exactly one per job, indexed by job id.
  std::vector<Outcome> outcomes;
  /// Decisions that broke the protocol in policy.hpp (dispatching an unknown/busy job, a wrong
  /// stage, an oversize batch, finishing an ended job, ...). Affected jobs end `failed`.
  std::int64_t protocol_violations = 0;
  /// Per model (ModelId order), what it saw over the whole run (slo_utility scores it).
  std::vector<ModelWindow> windows;
  /// The control loop's intervals (empty without a controller) and the wall time of each decision.
  std::vector<ControlRecord> control;
  std::vector<Duration> control_decisions;
  Duration horizon = 0;  ///< arrivals were released over [0, horizon)
};

/// Builds the policy with make_policy(policy_spec, scenario.models, config.policy) and runs it.
SimResult simulate(const Scenario& scenario, const std::string& policy_spec, const SimConfig& config);
/// Runs a policy the caller built (fresh: no job released to it yet) for `scenario.models`.
SimResult simulate(const Scenario& scenario, Policy& policy, const SimConfig& config);

}  // namespace imprecise::sim
