// `imprecise eval --pipeline vision|voice|lidar`: the C++ engine on a pipeline's held-out set; per-exit
// accuracy, calibration error and stage time as JSON.
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "imprecise/data/evaluation.hpp"
#include "imprecise/data/pipeline.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "nn_commands.hpp"

namespace imprecise::cli {

namespace {

struct EvalOptions {
  std::string pipeline;
  std::string backend = nn::default_backend();
  std::string split = "test";
  std::string model;
  std::string data_dir;
  std::size_t limit = 0;
  int batch = 16;
};

}  // namespace

void add_eval_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a pipeline's model on its held-out set with the C++ engine (JSON)");
  auto options = std::make_shared<EvalOptions>();
  cmd->add_option("--pipeline", options->pipeline, "vision, voice or lidar")->required();
  cmd->add_option("--backend", options->backend, "cpu, onednn or cuda (falls back to cpu without a GPU); default: the fastest cpu backend built in")->capture_default_str();
  cmd->add_option("--split", options->split, "test (default) or calibration")->capture_default_str();
  cmd->add_option("--model", options->model, "ONNX model (default: the pipeline's, under models/)");
  cmd->add_option("--data-dir", options->data_dir, "where the generated data lives (default: $IMPRECISE_DATA_DIR or data/)");
  cmd->add_option("--limit", options->limit, "at most N samples (0: all)")->capture_default_str();
  cmd->add_option("--batch", options->batch, "samples per stage run")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->callback([&action, options] {
    action = [options] {
      const data::Pipeline& pipeline = data::PipelineRegistry::get().at(options->pipeline);
      const data::LabeledSet set = pipeline.load({data::parse_split(options->split), options->limit, options->data_dir});
      nn::MultiExitModel::Options model_options;
      model_options.backend = options->backend;
      model_options.compile.max_batch = options->batch;
      nn::MultiExitModel model = nn::MultiExitModel::load(
          options->model.empty() ? data::source_path(pipeline.model) : options->model, model_options);
      data::EvaluationOptions eval_options;
      eval_options.batch = options->batch;
      const data::Evaluation evaluation = data::evaluate(model, set, eval_options);
      nlohmann::json exits = nlohmann::json::array();
      for (std::size_t k = 0; k < evaluation.exits.size(); ++k) {
        const data::ExitEvaluation& e = evaluation.exits[k];
        exits.push_back({{"exit", model.exit_names()[k]}, {"accuracy", e.accuracy}, {"ece", e.ece}, {"auroc", e.auroc},
                         {"mean_stage_ms", e.mean_stage_ms}});
      }
      const nlohmann::json out = {{"pipeline", pipeline.name}, {"split", options->split},
                                  {"backend", model.backend()}, {"samples", evaluation.samples},
                                  {"batch", evaluation.batch}, {"exits", exits},
                                  {"any_exit_accuracy", evaluation.any_exit_accuracy}};
      std::puts(out.dump(2).c_str());
      return kExitOk;
    };
  });
}

}  // namespace imprecise::cli
