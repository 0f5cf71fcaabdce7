// The factories of the controllers, one per file (private to imprecise_control).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "imprecise/core/model.hpp"
#include "imprecise/sched/controller.hpp"

namespace imprecise::control::detail {

std::unique_ptr<Controller> make_static(const ControllerConfig& config);
std::unique_ptr<Controller> make_aimd(const ControllerConfig& config);
std::unique_ptr<Controller> make_model_based(std::span<const Model> models, const ControllerConfig& config);
std::unique_ptr<Controller> make_sac(std::span<const Model> models, const ControllerConfig& config);

}  // namespace imprecise::control::detail
