// The factories of the controllers, one per file (private to imprecise_control).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "imprecise/core/model.hpp"
#include "imprecise/sched/controller.hpp"

namespace imprecise::control::detail {

/// The models a decision reads profiles from: the host's (ControlObservation::planned_models, in the
/// runtime profiled while serving) when it gives them, else `built_with`. Throws Error when the host
/// has another number of models than the controller was built for.
std::span<const Model> planning_models(const ControlObservation& observation, std::span<const Model> built_with);

std::unique_ptr<Controller> make_static(const ControllerConfig& config);
std::unique_ptr<Controller> make_aimd(const ControllerConfig& config);
std::unique_ptr<Controller> make_model_based(std::span<const Model> models, const ControllerConfig& config);
std::unique_ptr<Controller> make_sac(std::span<const Model> models, const ControllerConfig& config);

}  // namespace imprecise::control::detail
