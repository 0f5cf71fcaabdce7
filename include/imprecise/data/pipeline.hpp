// Pipeline: a served model together with its data — where its splits come from and the front end
// that turns a raw input (image, audio, point cloud) into the model's input tensor.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "imprecise/graph/tensor.hpp"

namespace imprecise::data {

/// train: what the model is fitted on; calibration: held out from training, for the utility
/// tables and temperature scaling; test: held out from both, for the reported accuracy.
enum class Split { train, calibration, test };
Split parse_split(std::string_view name);  ///< "train" | "calibration" | "test"; Error otherwise
const char* to_string(Split split);

/// Model inputs after the pipeline's front end, with their labels: inputs [N, ...], labels[i] in
/// [0, label_names.size()).
struct LabeledSet {
  nn::Tensor inputs;
  std::vector<int> labels;
  std::vector<std::string> label_names;
  std::size_t size() const { return labels.size(); }
};

struct LoadRequest {
  Split split = Split::test;
  std::size_t limit = 0;  ///< at most this many samples (0: all), taken from the start of the split
  std::string data_dir;   ///< empty: the pipeline's default (see data_root())
};

struct Pipeline {
  std::string name;         ///< "vision", "voice", "lidar"
  std::string description;  ///< one line: the data set and the model
  std::string model;        ///< the trained ONNX model, relative to the source tree (models/...)
  /// Loads a split through the front end. Throws Error naming the file and, when the data is not
  /// generated yet, the script that generates it.
  std::function<LabeledSet(const LoadRequest&)> load;
};

/// The folder the relative paths of models, scenarios and data sets resolve against (the repository:
/// models/, scenarios/, tests/fixtures/, data/). Nothing is compiled into the library: a program passes
/// its own (the CLI, examples and tests pass their source folder); else $IMPRECISE_SOURCE_DIR; else ".".
void set_source_root(std::string dir);
std::string source_root();
/// Where generated data sets live: $IMPRECISE_DATA_DIR, else <source root>/data.
std::string data_root();
/// `relative` resolved against source_root().
std::string source_path(const std::string& relative);

/// The pipelines built into the library (vision, voice, lidar).
class PipelineRegistry {
 public:
  static PipelineRegistry& get();
  std::vector<std::string> names() const;
  const Pipeline* find(std::string_view name) const;
  /// Like find() but throws Error listing the known names.
  const Pipeline& at(std::string_view name) const;
  void add(Pipeline pipeline);

 private:
  PipelineRegistry();
  std::vector<Pipeline> pipelines_;
};

}  // namespace imprecise::data
