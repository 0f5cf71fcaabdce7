// The controllers of batch size, batching wait and lanes (BCEdge's knobs) and their registry.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "imprecise/core/model.hpp"
#include "imprecise/sched/controller.hpp"

namespace imprecise::control {

/// Names accepted by make_controller:
///   static       holds config.fixed (Triton-like: max batch, max queue delay, instance count)
///   aimd         Clipper's additive increase, multiplicative decrease of each model's max batch
///   model-based  predicts every candidate setting's SloUtility from the profiles and the arrival rate
///   sac          a trained soft actor-critic actor (ONNX, config.actor or "sac:PATH") run on our engine
std::vector<std::string> controller_names();
/// Throws Error("unknown controller '...'") for a bad name, and Error naming the file for a bad actor.
/// `models` must outlive the controller.
std::unique_ptr<Controller> make_controller(const std::string& spec, std::span<const Model> models,
                                            const ControllerConfig& config);

}  // namespace imprecise::control
