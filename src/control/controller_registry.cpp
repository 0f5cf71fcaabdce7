// make_controller: controller names -> controllers.
#include <fmt/format.h>

#include "controllers_impl.hpp"
#include "imprecise/control/controllers.hpp"
#include "imprecise/error.hpp"

namespace imprecise::control {

namespace detail {

std::span<const Model> planning_models(const ControlObservation& observation, std::span<const Model> built_with) {
  if (observation.planned_models.empty()) return built_with;
  if (observation.planned_models.size() != built_with.size())
    throw Error(fmt::format("controller: built for {} models, but the host plans {}", built_with.size(),
                            observation.planned_models.size()));
  return observation.planned_models;
}

}  // namespace detail

std::vector<std::string> controller_names() { return {"static", "aimd", "model-based", "sac"}; }

std::unique_ptr<Controller> make_controller(const std::string& spec, std::span<const Model> models,
                                            const ControllerConfig& config) {
  if (spec == "static") return detail::make_static(config);
  if (spec == "aimd") return detail::make_aimd(config);
  if (spec == "model-based") return detail::make_model_based(models, config);
  if (spec == "sac") return detail::make_sac(models, config);
  if (spec.starts_with("sac:")) {  // the actor's file named in the spec
    ControllerConfig with_actor = config;
    with_actor.actor = spec.substr(4);
    return detail::make_sac(models, with_actor);
  }
  throw Error(fmt::format("unknown controller '{}' (known: {})", spec, fmt::join(controller_names(), ", ")));
}

}  // namespace imprecise::control
