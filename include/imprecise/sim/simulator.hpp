// Simulator: deterministic discrete-event simulation of policies driving one device on a scenario.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imprecise/core/job.hpp"
#include "imprecise/core/outcome.hpp"
#include "imprecise/sched/policy.hpp"
#include "imprecise/sched/observer.hpp"
#include "imprecise/sim/metrics.hpp"
#include "imprecise/sim/scenario.hpp"
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
  PolicyConfig policy;               ///< passed to make_policy (max_batch replaced as above)
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
};

/// Builds the policy with make_policy(policy_spec, scenario.models, config.policy) and runs it.
SimResult simulate(const Scenario& scenario, const std::string& policy_spec, const SimConfig& config);
/// Runs a policy the caller built (fresh: no job released to it yet) for `scenario.models`.
SimResult simulate(const Scenario& scenario, Policy& policy, const SimConfig& config);

}  // namespace imprecise::sim
