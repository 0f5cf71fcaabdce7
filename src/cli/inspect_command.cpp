// `imprecise inspect MODEL.onnx`: stages, carried tensors, FLOPs and metadata of a multi-exit model, as JSON.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "imprecise/nn/backend.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "nn_commands.hpp"

namespace imprecise::cli {

namespace {

nlohmann::json tensor_json(const nn::CarriedTensor& t) {
  nlohmann::json shape = nlohmann::json::array();
  for (const auto d : t.shape) shape.push_back(d < 0 ? nlohmann::json("N") : nlohmann::json(d));
  return {{"name", t.name}, {"shape", shape}};
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("inspect", "Show the stages of a multi-exit ONNX model (JSON)");
  auto model_path = std::make_shared<std::string>();
  cmd->add_option("model", *model_path, "ONNX model (opset >= 13, one output per exit)")->required();
  cmd->callback([&action, model_path] {
    action = [model_path] {
      const nn::MultiExitModel model = nn::MultiExitModel::load(*model_path);
      nlohmann::json stages = nlohmann::json::array();
      for (const auto& stage : model.stage_info()) {
        nlohmann::json inputs = nlohmann::json::array(), carried = nlohmann::json::array();
        for (const auto& t : stage.inputs) inputs.push_back(tensor_json(t));
        for (const auto& t : stage.carried_out) carried.push_back(tensor_json(t));
        nlohmann::json ops = nlohmann::json::array();
        for (const auto n : stage.nodes) ops.push_back(model.graph().nodes[n].op);
        stages.push_back({{"index", stage.index},
                          {"exit", model.exit_names()[static_cast<std::size_t>(stage.index)]},
                          {"exit_tensor", tensor_json(stage.exit)},
                          {"nodes", stage.nodes.size()},
                          {"ops", ops},
                          {"params", stage.params},
                          {"flops_per_sample", stage.flops},
                          {"inputs", inputs},
                          {"carried_out", carried}});
      }
      nlohmann::json out = {{"model", *model_path},
                            {"input", tensor_json({model.graph().inputs[0].name, model.input_shape()})},
                            {"mandatory_depth", model.mandatory_depth()},
                            {"labels", model.labels()},
                            {"backends", nn::BackendRegistry::get().names()},
                            {"stages", stages}};
      std::printf("%s\n", out.dump(2).c_str());
      return kExitOk;
    };
  });
}

}  // namespace imprecise::cli
