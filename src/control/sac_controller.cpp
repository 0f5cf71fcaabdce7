// sac: a trained discrete, branching soft actor-critic actor (ONNX) run by our own engine; no Python at serving time.
#include <algorithm>
#include <array>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "controllers_impl.hpp"
#include "imprecise/control/sac_features.hpp"
#include "imprecise/core/split.hpp"
#include "imprecise/error.hpp"
#include "imprecise/graph/onnx_import.hpp"
#include "imprecise/graph/partition.hpp"
#include "imprecise/nn/backend.hpp"

namespace imprecise::control::detail {

namespace {

/// slot -> the host's index of the model the actor's slot was trained for (kMetaSacModels); the
/// identity when the actor names none. Throws Error naming the file and the model the host lacks.
std::vector<std::size_t> actor_slots(const nn::Graph& graph, const std::string& path, std::span<const Model> models) {
  std::vector<std::size_t> order(models.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto named = graph.metadata.find(kMetaSacModels);
  if (named == graph.metadata.end()) return order;
  const std::vector<std::string> names = split(named->second, ',');
  std::string served;
  for (const Model& m : models) served += (served.empty() ? "" : ", ") + m.name;
  if (names.size() != models.size())
    throw Error(fmt::format("{}: the actor was trained for {} models ({}), the host serves {} ({})", path, names.size(),
                            named->second, models.size(), served));
  for (std::size_t slot = 0; slot < names.size(); ++slot) {
    const auto it = std::find_if(models.begin(), models.end(), [&](const Model& m) { return m.name == names[slot]; });
    if (it == models.end())
      throw Error(fmt::format("{}: the actor was trained for model '{}', which the host does not serve ({})", path,
                              names[slot], served));
    order[slot] = static_cast<std::size_t>(it - models.begin());
    if (std::find(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(slot), order[slot]) !=
        order.begin() + static_cast<std::ptrdiff_t>(slot))
      throw Error(fmt::format("{}: the actor names model '{}' twice ({})", path, names[slot], named->second));
  }
  return order;
}

/// The actor is one-input, one-output network (an MLP: one stage): observation [N, observation_size]
/// -> logits [N, action_size], laid out as sac_features.hpp says, its models in the order it names
/// (kMetaSacModels). Compiled once on the cpu backend for batch 1; a decision encodes in the host's
/// order, moves each model's features to its slot, runs the stage in its own buffers, takes each
/// branch's argmax, decodes, and hands each slot's setting to its model, allocating nothing.
class SacController final : public Controller {
 public:
  SacController(std::span<const Model> models, const ControllerConfig& config) : models_(models), config_(config) {
    const std::string& path = config.actor;
    if (path.empty()) throw Error("sac controller: no actor file (ControllerConfig::actor, or 'sac:PATH')");
    nn::Graph graph = nn::load_onnx(path);  // names the file when missing or corrupt
    nn::prepare(graph);
    const int models_n = static_cast<int>(models.size());
    const auto observations = static_cast<std::int64_t>(observation_size(models_n));
    const auto actions = static_cast<std::int64_t>(action_size(models_n, config));
    if (graph.inputs.size() != 1 || graph.outputs.size() != 1)
      throw Error(fmt::format("{}: the actor must have one input and one output, it has {} and {}", path,
                              graph.inputs.size(), graph.outputs.size()));
    const std::vector<nn::StageInfo> stages = nn::partition(graph);
    if (stages.size() != 1) throw Error(fmt::format("{}: the actor must be one stage, it has {}", path, stages.size()));
    const nn::Shape& in = graph.inputs.front().shape;
    if (in.size() != 2 || in[1] != observations)
      throw Error(fmt::format("{}: the actor's input '{}' is {}, the observation of {} models needs [N, {}]", path,
                              graph.inputs.front().name, nn::to_string(in), models_n, observations));
    const nn::Shape& out = stages.front().exit.shape;
    if (out.size() != 2 || out[1] != actions)
      throw Error(fmt::format("{}: the actor's output '{}' is {}, the action of {} models over {} lanes needs [N, {}]",
                              path, stages.front().exit.name, nn::to_string(out), models_n, config.lanes, actions));
    nn::CompileOptions options;
    options.max_batch = 1;
    stage_ = nn::BackendRegistry::get().at("cpu").compile(graph, stages.front(), options);
    input_ = nn::Tensor(nn::Shape{1, observations});
    input_ptr_[0] = &input_;
    choice_.assign(models.size() * kBranches, 0);
    slot_model_ = actor_slots(graph, path, models);
    host_features_.assign(static_cast<std::size_t>(observations), 0.0f);
    decoded_.resize(models.size());
  }

  std::string_view name() const override { return "sac"; }

  void decide(const ControlObservation& observation, std::span<ModelControl> next) override {
    encode_observation(observation, planning_models(observation, models_), config_, host_features_);
    const std::span<float> in = input_.values();
    for (std::size_t slot = 0; slot < slot_model_.size(); ++slot)
      std::copy_n(host_features_.begin() + static_cast<std::ptrdiff_t>(slot_model_[slot] * kFeaturesPerModel),
                  kFeaturesPerModel, in.begin() + static_cast<std::ptrdiff_t>(slot * kFeaturesPerModel));
    in.back() = host_features_.back();  // the global feature
    const std::span<const nn::Tensor* const> outputs = stage_->run(input_ptr_);
    argmax_action(outputs.back()->values(), config_, choice_);
    decode_action(choice_, config_, decoded_);
    for (std::size_t slot = 0; slot < slot_model_.size(); ++slot)
      if (slot_model_[slot] < next.size()) next[slot_model_[slot]] = decoded_[slot];
  }

 private:
  std::span<const Model> models_;
  ControllerConfig config_;
  std::unique_ptr<nn::CompiledStage> stage_;
  nn::Tensor input_;
  std::array<const nn::Tensor*, 1> input_ptr_{};
  std::vector<int> choice_;                // per actor slot
  std::vector<std::size_t> slot_model_;    // actor slot -> host model
  std::vector<float> host_features_;       // the observation in the host's model order
  std::vector<ModelControl> decoded_;      // per actor slot
};

}  // namespace

std::unique_ptr<Controller> make_sac(std::span<const Model> models, const ControllerConfig& config) {
  return std::make_unique<SacController>(models, config);
}

}  // namespace imprecise::control::detail
