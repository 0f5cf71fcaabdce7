// Controller: every control interval, sets each model's ModelControl (batch size, batching wait, lanes)
// from what the last interval showed (BCEdge's knobs); ControlLoop runs one inside a host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imprecise/core/model.hpp"
#include "imprecise/core/time.hpp"
#include "imprecise/sched/model_control.hpp"
#include "imprecise/sched/slo_utility.hpp"

namespace imprecise {

/// What a controller sees: the interval that just ended, per model (ModelWindow, slo_utility.hpp),
/// the settings that were in force, the device's lanes and the models as the host plans with them.
struct ControlObservation {
  Time now = 0;
  Duration interval = 0;                 ///< length of the window the figures cover
  int lanes = 1;                         ///< executor lanes of the host
  double busy_fraction = 0.0;            ///< lane time spent running stages / (interval x lanes)
  std::span<const ModelWindow> models;   ///< indexed by ModelId
  std::span<const ModelControl> current; ///< indexed by ModelId
  /// The host's models, indexed by ModelId, with the profiles it plans with: in the runtime, those
  /// measured while serving (EngineConfig::online_profile), which can differ a lot from the offline ones
  /// a controller was built with. Controllers read profiles from here (ControlLoop fills it); empty: the
  /// models the controller was built with.
  std::span<const Model> planned_models;
};

/// A controller decides; it never reads a clock, never sleeps and, after construction, allocates
/// nothing per decision (the sac actor's engine included), so it can run inside a scheduling pass.
class Controller {
 public:
  virtual ~Controller() = default;
  virtual std::string_view name() const = 0;
  /// `next` holds the current settings (one per model); overwrite those to change.
  virtual void decide(const ControlObservation& observation, std::span<ModelControl> next) = 0;
};

struct ControllerConfig {
  Duration interval = 100'000'000;  ///< control interval (ns): 100 ms
  int max_batch = 8;                ///< the largest batch any setting may ask for
  int lanes = 1;                    ///< the host's lanes
  Duration max_batch_wait = 10'000'000;  ///< the longest batching wait any setting may ask for (ns)
  /// static: the Triton-like setting it holds (max batch, max queue delay, instance count).
  ModelControl fixed{8, 0, 0};
  /// What model-based maximises (and the training environment rewards): accuracy-weighted by default.
  SloUtilityWeights utility{0.5, 1.0, true};
  std::string actor;                ///< sac: the trained actor's ONNX file
  /// ControlLoop::history() keeps at least the last this many intervals and at most twice as many, so
  /// that a host serving for days holds bounded memory (36,000: an hour at 100 ms). 0: every interval.
  std::size_t history_limit = 36'000;
};

/// A Controller that forwards to one shared with its owner (a host's config holds a shared_ptr; the
/// ControlLoop owns the one it runs).
std::unique_ptr<Controller> share_controller(std::shared_ptr<Controller> controller);

// The controllers themselves (static, aimd, model-based, sac) and make_controller live in
// imprecise::control (include/imprecise/control/controllers.hpp): sac runs its actor on our engine.

}  // namespace imprecise
