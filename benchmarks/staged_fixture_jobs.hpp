// StagedJobs: a fixture or pipeline multi-exit model plus jobs that have finished 0, 1, ... stages, the masters a
// per-stage benchmark copies before each timed run (run_stage advances the jobs it runs). Shared by
// engine_bench (cpu) and engine_cuda_bench.
#pragma once

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "imprecise/nn/backend.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"

namespace imprecise::bench {

inline constexpr int kMaxBatch = 32;
inline constexpr int kBatches[] = {1, 8, 32};
/// The test fixtures (mobilenet_exits: torchvision MobileNetV3 blocks), then the trained pipeline models (models/<name>.onnx).
inline const char* const kModels[] = {"cnn3", "resnet_skip", "audio1d", "pointnet", "mobilenet_exits", "vision", "voice", "lidar"};

inline std::string fixture(const std::string& name, const std::string& suffix) {
  return std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/nn/" + name + suffix;
}

inline std::string model_file(const std::string& name) {
  const std::string in_fixtures = fixture(name, ".onnx");
  return std::filesystem::exists(in_fixtures) ? in_fixtures : std::string(IMPRECISE_SOURCE_DIR) + "/models/" + name + ".onnx";
}

/// The fixture's real samples, or (pipeline models: timing only) 8 deterministic inputs of the model's shape.
inline nn::Tensor sample_inputs(const std::string& name, const nn::MultiExitModel& model) {
  if (std::filesystem::exists(fixture(name, ".input.npy"))) return nn::read_npy(fixture(name, ".input.npy"));
  nn::Shape shape = model.input_shape();
  shape[0] = 8;
  std::size_t n = 1;
  for (const auto d : shape) n *= static_cast<std::size_t>(d);
  std::vector<float> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
  return nn::Tensor(shape, std::move(values));
}

/// One [1, ...] tensor per sample of `all`.
inline std::vector<nn::Tensor> one_per_sample(const nn::Tensor& all) {
  nn::Shape one = all.shape();
  one[0] = 1;
  std::vector<nn::Tensor> v;
  for (std::size_t i = 0; i < static_cast<std::size_t>(all.batch()); ++i) {
    const auto s = all.sample(i);
    v.emplace_back(one, std::vector<float>(s.begin(), s.end()));
  }
  return v;
}

/// Why rows on `backend` cannot run here ("" when they can): not built, or no device.
inline std::string backend_unavailable(const std::string& backend) {
  const nn::Backend* b = nn::BackendRegistry::get().find(backend);
  if (!b) return "built without the " + backend + " backend";
  if (b->device_count() == 0) return "the " + backend + " backend sees no device";
  return "";
}

/// The backend a benchmark runs on: IMPRECISE_BENCH_BACKEND from the environment, else `fallback`.
inline std::string bench_backend(const std::string& fallback) {
  const char* name = std::getenv("IMPRECISE_BENCH_BACKEND");
  return name != nullptr && *name != '\0' ? name : fallback;
}

struct StagedJobs {
  nn::MultiExitModel model;
  std::vector<std::vector<nn::JobState>> depth;  ///< depth[k]: kMaxBatch jobs that finished k stages
};

/// Loads fixture `name` on `backend` (the other options from `options`) and runs kMaxBatch jobs
/// (cycling through the fixture's 8 real samples) stage by stage, keeping a copy of them before each stage.
inline std::unique_ptr<StagedJobs> stage_fixture_jobs(const std::string& name, const std::string& backend,
                                                      nn::MultiExitModel::Options options = {}) {
  options.backend = backend;
  options.compile.max_batch = kMaxBatch;
  auto p = std::make_unique<StagedJobs>(StagedJobs{nn::MultiExitModel::load(model_file(name), options), {}});
  const nn::Tensor inputs = sample_inputs(name, p->model);
  nn::Shape one = inputs.shape();
  one[0] = 1;
  std::vector<nn::JobState> jobs;
  for (int i = 0; i < kMaxBatch; ++i) {
    const auto sample = inputs.sample(static_cast<std::size_t>(i) % static_cast<std::size_t>(inputs.batch()));
    jobs.push_back(p->model.start(nn::Tensor(one, std::vector<float>(sample.begin(), sample.end()))));
  }
  std::vector<nn::JobState*> all;
  for (auto& job : jobs) all.push_back(&job);
  std::vector<nn::ExitResult> results;
  for (int k = 0; k < p->model.stages(); ++k) {
    p->depth.push_back(jobs);
    p->model.run_stage(k, all, results);
  }
  return p;
}

}  // namespace imprecise::bench
