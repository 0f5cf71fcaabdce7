// `imprecise infer --model M.onnx --input X.npy`: runs the first K stages on a batch, prints every exit as JSON.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "nn_commands.hpp"

namespace imprecise::cli {

namespace {

struct InferOptions {
  std::string model;
  std::string input;
  std::string backend = nn::default_backend();
  int stages = -1;
  std::string confidence = "max-prob";
};

}  // namespace

void add_infer_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("infer", "Run a multi-exit ONNX model on a batch (.npy), print the exits (JSON)");
  auto options = std::make_shared<InferOptions>();
  cmd->add_option("--model", options->model, "ONNX model (opset >= 13, one output per exit)")->required();
  cmd->add_option("--input", options->input, "float32 .npy input (float64 is converted to float32), first axis = batch (one sample may omit it)")->required();
  cmd->add_option("--backend", options->backend, "backend name (cpu, onednn, cuda); default: the fastest cpu backend built in")->capture_default_str();
  cmd->add_option("--stages", options->stages, "run the first K stages (default: all)");
  cmd->add_option("--confidence", options->confidence, "max-prob, margin or entropy")->capture_default_str();
  cmd->callback([&action, options] {
    action = [options] {
      nn::MultiExitModel::Options model_options;
      model_options.backend = options->backend;
      model_options.confidence = nn::parse_confidence_measure(options->confidence);
      nn::Tensor input = nn::read_npy(options->input);
      // Compile for the whole batch (bounded: run() splits larger batches into chunks).
      model_options.compile.max_batch = static_cast<int>(std::clamp<std::int64_t>(input.batch(), 1, 64));
      nn::MultiExitModel model = nn::MultiExitModel::load(options->model, model_options);
      if (model.backend() != options->backend)  // e.g. cuda built in but no GPU here: the model runs on the cpu
        std::fprintf(stderr, "imprecise: backend '%s' has no device here, running on '%s'\n", options->backend.c_str(),
                     model.backend().c_str());
      const int depth = options->stages < 0 ? model.stages() : options->stages;
      if (depth < 1 || depth > model.stages())
        throw InputError(fmt::format("--stages: {} outside [1, {}]", options->stages, model.stages()));
      // Check the shape as read from the .npy (before any batch axis is added), and name the .npy.
      const nn::Shape read = input.shape();
      const nn::Shape& want = model.input_shape();  // batch axis first, -1
      const nn::Shape sample(want.begin() + 1, want.end());
      const bool batched = read.size() == want.size() && read[0] >= 1 && nn::Shape(read.begin() + 1, read.end()) == sample;
      if (!batched && read != sample) {
        std::string expected = "[N";
        for (const auto d : sample) expected += fmt::format(", {}", d);
        throw InputError(fmt::format("{}: shape {} read, but the model {} takes {} (or {} for one sample)",
                                     options->input, nn::to_string(read), options->model, expected + "]",
                                     nn::to_string(sample)));
      }
      if (!batched) {  // a single sample without the batch axis
        nn::Shape with_batch{1};
        with_batch.insert(with_batch.end(), read.begin(), read.end());
        input.reshape(with_batch);
      }
      const auto results = model.run(input, depth);  // results[k][i]: exit k of sample i
      nlohmann::json exits = nlohmann::json::array();
      for (int k = 0; k < depth; ++k) {
        nlohmann::json logits = nlohmann::json::array(), prediction = nlohmann::json::array(),
                       confidence = nlohmann::json::array(), labels = nlohmann::json::array();
        for (const nn::ExitResult& r : results[static_cast<std::size_t>(k)]) {
          logits.push_back(r.logits);
          prediction.push_back(r.prediction);
          confidence.push_back(r.confidence);
          if (!model.labels().empty()) labels.push_back(model.labels()[static_cast<std::size_t>(r.prediction)]);
        }
        nlohmann::json e = {{"name", model.exit_names()[static_cast<std::size_t>(k)]},
                            {"logits", logits},
                            {"prediction", prediction},
                            {"confidence", confidence}};
        if (!model.labels().empty()) e["label"] = labels;
        exits.push_back(e);
      }
      const nlohmann::json out = {{"backend", model.backend()}, {"exits", exits}};
      std::printf("%s\n", out.dump().c_str());
      return kExitOk;
    };
  });
}

}  // namespace imprecise::cli
