// Model repository: one folder per served model (the multi-exit ONNX, its profile, its calibration and a
// small config.json), the layout `imprecise serve --model-repository DIR` reads.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "imprecise/runtime/engine.hpp"

namespace imprecise::serve {

/// DIR/<name>/config.json, every key optional:
///   {"model": "model.onnx", "profile": "profile.json", "calibration": "calibration.json",
///    "mandatory_depth": 1, "max_batch": 8, "default_deadline_ms": 100, "labels": ["a", ...],
///    "version": "1"}
/// Paths are relative to the model's folder (they may point elsewhere, e.g. "../../models/vision.onnx").
/// Unknown keys and wrong types throw Error naming the file and the key.
struct ModelConfig {
  std::string name;  ///< the folder's name: the model's name on the wire
  std::filesystem::path folder;
  std::filesystem::path model = "model.onnx";
  std::filesystem::path profile = "profile.json";
  std::filesystem::path calibration = "calibration.json";  ///< temperatures + utility tables (optional file)
  int mandatory_depth = 1;
  int max_batch = 8;
  std::chrono::microseconds default_deadline{100'000};  ///< for a request that names no deadline
  std::vector<std::string> labels;                       ///< empty: the ONNX metadata's labels
  std::string version = "1";
};

/// Reads DIR/<name>/config.json; paths come back resolved against the folder.
ModelConfig read_model_config(const std::filesystem::path& folder);
/// Every sub-folder of `dir` holding a config.json, sorted by name. Throws Error naming the folder when
/// `dir` is missing, empty, or a config is malformed.
std::vector<ModelConfig> read_repository(const std::filesystem::path& dir);

/// The network (temperatures from the calibration, the config's mandatory depth and max batch) and the
/// scheduler's description (profile + utility tables) of one model, ready for runtime::Engine. Throws
/// Error naming the file that is missing or disagrees with the network.
runtime::ServedModel load_served_model(const ModelConfig& config, const std::string& backend);

}  // namespace imprecise::serve
