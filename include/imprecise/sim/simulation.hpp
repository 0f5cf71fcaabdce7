// Simulation: the one discrete-event simulator, steppable: run to a time, look at the last control
// interval, change the controls, go on (a Gym environment drives it; simulate() runs it to the end).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "imprecise/core/time.hpp"
#include "imprecise/sched/controller.hpp"
#include "imprecise/sched/model_control.hpp"
#include "imprecise/sched/policy.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"

namespace imprecise::sim {

/// Who sets the controls: SimConfig::controller (none when null), or the caller through apply()
/// (a control interval still ends every config.control.interval; observation() shows it).
enum class ControlMode { config, external };

class Simulation {
 public:
  /// Builds its policy with make_policy(policy_spec, scenario.models, config.policy), afresh at every
  /// reset. `scenario` must outlive the simulation. Starts at time 0 with config.seed.
  Simulation(const Scenario& scenario, std::string policy_spec, SimConfig config,
             ControlMode mode = ControlMode::config);
  /// Drives a caller's fresh policy (no job released to it yet): one run, reset() throws.
  Simulation(const Scenario& scenario, Policy& policy, SimConfig config);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  /// Starts over at time 0 with `seed`: its jobs, a fresh policy and a fresh control loop.
  void reset(std::uint64_t seed);
  /// Runs every event at or before `until`. External control: stops right after a control interval
  /// ends (before the policy's decisions at that instant), so that apply() takes effect at once.
  /// Returns !done().
  bool run_until(Time until);
  /// No event is left: every job has its outcome.
  bool done() const;
  /// The time of the last event run.
  Time now() const;
  /// When the current control interval ends (kNever without control).
  Time next_control() const;

  /// External control: the control interval that ended last (an empty one before the first), with
  /// `current` = the settings in force over it. Its spans live until the next run_until or apply.
  ControlObservation observation() const;
  /// SloUtility (config.control.utility) of that interval.
  double last_utility() const;
  /// External control: every model's setting (ModelId order), in force from now on. Throws Error
  /// naming the field for a wrong count or a negative value.
  void apply(std::span<const ModelControl> controls);
  /// The settings in force (one per model).
  const std::vector<ModelControl>& controls() const;

  /// Runs to the end and returns what happened (once per reset).
  SimResult finish();

  const Scenario& scenario() const;
  const SimConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imprecise::sim
