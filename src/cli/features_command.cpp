// `imprecise features --pipeline P --split S --out DIR`: the pipeline's front end over a split, written as
// DIR/inputs.npy + DIR/labels.npy — what the training scripts read, so training and serving never disagree.
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/graph/npy.hpp"
#include "nn_commands.hpp"

namespace imprecise::cli {

namespace {

struct FeaturesOptions {
  std::string pipeline;
  std::string split = "train";
  std::string out;
  std::string data_dir;
  std::size_t limit = 0;
};

}  // namespace

void add_features_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("features", "Write a pipeline split through its C++ front end as .npy (for training)");
  auto options = std::make_shared<FeaturesOptions>();
  cmd->add_option("--pipeline", options->pipeline, "vision, voice or lidar")->required();
  cmd->add_option("--split", options->split, "train, calibration or test")->capture_default_str();
  cmd->add_option("--out", options->out, "output folder (inputs.npy, labels.npy)")->required();
  cmd->add_option("--data-dir", options->data_dir, "where the generated data lives (default: $IMPRECISE_DATA_DIR or data/)");
  cmd->add_option("--limit", options->limit, "at most N samples (0: all)")->capture_default_str();
  cmd->callback([&action, options] {
    action = [options] {
      const data::Pipeline& pipeline = data::PipelineRegistry::get().at(options->pipeline);
      const data::LabeledSet set = pipeline.load({data::parse_split(options->split), options->limit, options->data_dir});
      std::filesystem::create_directories(options->out);
      nn::write_npy(options->out + "/inputs.npy", set.inputs);
      nn::Tensor labels(nn::Shape{static_cast<std::int64_t>(set.size())});
      for (std::size_t i = 0; i < set.size(); ++i) labels[i] = static_cast<float>(set.labels[i]);
      nn::write_npy(options->out + "/labels.npy", labels);
      fmt::print("{} {}: {} samples of shape {} -> {}/inputs.npy, labels.npy\n", options->pipeline, options->split,
                 set.size(), nn::to_string(set.inputs.shape()), options->out);
      return kExitOk;
    };
  });
}

}  // namespace imprecise::cli
