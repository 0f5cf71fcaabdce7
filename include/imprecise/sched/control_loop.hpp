// ControlLoop: runs a Controller inside a host (simulator or Engine): gathers each interval's
// ModelWindows through an Observer, asks the controller, hands the settings to the policy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "imprecise/core/model.hpp"
#include "imprecise/core/time.hpp"
#include "imprecise/sched/controller.hpp"
#include "imprecise/sched/observer.hpp"
#include "imprecise/sched/policy.hpp"

namespace imprecise {

/// One control interval as it was: when it ended, what each model saw, the utility it scored and
/// the settings the controller chose for the next one.
struct ControlRecord {
  Time at = 0;
  std::vector<ModelWindow> windows;
  double utility = 0.0;
  std::vector<ModelControl> chosen;
  Duration decision = 0;      ///< wall time Controller::decide took
  Duration decision_cpu = 0;  ///< the deciding thread's CPU time in it: the wall time less preemption, plus
                              ///< the CPU clock's own two reads (system calls: about 1 us on the dev VM)
};

/// Where a control loop stands: what a server reports while it serves (Engine::control_status).
struct ControlStatus {
  std::string controller;               ///< Controller::name()
  std::vector<ModelControl> settings;   ///< in force now, indexed by ModelId
  std::int64_t intervals = 0;           ///< control intervals decided since the start
  std::optional<ControlRecord> last;    ///< the latest of them (none before the first one ends)
};

class ControlLoop {
 public:
  /// Applies each model's starting setting (config.fixed for static, else the controller's first
  /// choice on an empty window) at start(). `models` must outlive the loop.
  ControlLoop(std::unique_ptr<Controller> controller, std::span<const Model> models, ControllerConfig config);
  ~ControlLoop();

  /// The observer gathering the current window; the host must register it before it starts.
  std::shared_ptr<Observer> observer() const;
  /// Applies the starting settings to `policy`; returns when the first interval ends.
  Time start(Time now, Policy& policy);
  /// Ends the window at `now`, asks the controller, applies its settings to `policy`, records the
  /// interval; returns when the next one ends. Call under the host's scheduling lock.
  Time tick(Time now, Policy& policy);

  const std::vector<ModelControl>& controls() const;
  /// The intervals so far, oldest first: the last ControllerConfig::history_limit of them at least, all
  /// of them while there are fewer than twice that.
  const std::vector<ControlRecord>& history() const;
  /// The settings in force, the intervals so far and the last one (copied).
  ControlStatus status() const;
  const Controller& controller() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace imprecise
