// Loading the pipelines' networks, temperatures and test inputs for the edge-server experiment.
#include "served_models.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/core.h>

#include "imprecise/data/calibration.hpp"
#include "imprecise/error.hpp"

namespace edge_server {

using imprecise::Error;
namespace data = imprecise::data;
namespace nn = imprecise::nn;

namespace {

// Temperatures from models/<name>.calibration.json (written by `imprecise profile`, read with the public
// data::load_calibration); all 1 without one.
std::vector<float> read_temperatures(const std::string& model_path, const std::string& name, int exits) {
  const auto file = std::filesystem::path(model_path).parent_path() / (name + ".calibration.json");
  std::vector<float> temperatures(static_cast<std::size_t>(exits), 1.0f);
  if (!std::filesystem::exists(file)) return temperatures;
  const data::Calibration calibration = data::load_calibration(file.string());
  if (calibration.temperatures.size() != temperatures.size())
    throw Error(fmt::format("{}: temperatures: expected {} numbers", file.string(), exits));
  std::copy(calibration.temperatures.begin(), calibration.temperatures.end(), temperatures.begin());
  return temperatures;
}

}  // namespace

ServedSet load_served_set(const imprecise::sim::Scenario& scenario, const std::string& data_dir) {
  ServedSet set;
  for (std::size_t m = 0; m < scenario.models.size(); ++m) {
    const auto& model = scenario.models[m];
    const data::Pipeline& pipeline = data::PipelineRegistry::get().at(model.name);
    const std::size_t samples = static_cast<std::size_t>(scenario.test_sets[m].samples());
    data::LabeledSet inputs = pipeline.load({data::Split::test, samples, data_dir});
    if (inputs.size() != samples)
      throw Error(fmt::format("model '{}': the replay test set has {} samples, the pipeline's test split {}", model.name,
                              samples, inputs.size()));
    set.inputs.push_back(std::move(inputs));
    set.model_paths.push_back(data::source_path(pipeline.model));
    set.temperatures.push_back(read_temperatures(set.model_paths.back(), model.name, model.stages()));
  }
  return set;
}

std::vector<imprecise::runtime::ServedModel> make_served_models(const imprecise::sim::Scenario& scenario,
                                                                const ServedSet& set, const std::string& backend) {
  std::vector<imprecise::runtime::ServedModel> served;
  for (std::size_t m = 0; m < scenario.models.size(); ++m) {
    nn::MultiExitModel::Options options;
    options.backend = backend;
    // The engine checks the network accepts every batch its profile lists; the policy batches at most
    // scenario.max_batch anyway.
    options.compile.max_batch = std::max(scenario.max_batch, scenario.models[m].profile.max_batch());
    options.temperatures = set.temperatures[m];
    options.mandatory_depth = scenario.models[m].mandatory_depth;
    nn::MultiExitModel network = nn::MultiExitModel::load(set.model_paths[m], options);
    if (network.stages() != scenario.models[m].stages())
      throw Error(fmt::format("model '{}': the network has {} stages, its profile {}", scenario.models[m].name,
                              network.stages(), scenario.models[m].stages()));
    served.push_back({std::move(network), scenario.models[m]});
  }
  return served;
}

}  // namespace edge_server
