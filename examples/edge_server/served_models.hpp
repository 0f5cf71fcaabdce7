// The models of a scenario as the engine serves them: each pipeline's trained network (with the
// temperatures `imprecise profile` fitted) and the test inputs its jobs carry.
#pragma once

#include <string>
#include <vector>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/runtime/engine.hpp"
#include "imprecise/sim/scenario.hpp"

namespace edge_server {

struct ServedSet {
  /// Per scenario model (same index): its pipeline's test inputs, in the order of the replay test
  /// set, so sample i of the simulator's job is input i here.
  std::vector<imprecise::data::LabeledSet> inputs;
  std::vector<std::string> model_paths;
  std::vector<std::vector<float>> temperatures;
};

/// Loads every scenario model's pipeline (model name = pipeline name). Throws imprecise::Error
/// naming the model when its pipeline, network or calibration is missing or disagrees with it.
ServedSet load_served_set(const imprecise::sim::Scenario& scenario, const std::string& data_dir);

/// Fresh networks + the scenario's descriptions, ready for an Engine (one per run: it owns them).
std::vector<imprecise::runtime::ServedModel> make_served_models(const imprecise::sim::Scenario& scenario,
                                                                const ServedSet& set, const std::string& backend);

}  // namespace edge_server
