// CudaBackend: the GPU backend (host code in src/backends/cuda, kernels in kernels/cuda); built only when CUDA is found.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "imprecise/backends/backend.hpp"
#include "imprecise/backends/exit_result.hpp"
#include "imprecise/graph/tensor.hpp"

namespace imprecise::nn {

/// false when the environment sets IMPRECISE_CUDA_GRAPHS=0, else true.
bool default_cuda_graphs();

/// false when the environment sets IMPRECISE_CUDA_EXIT_HEAD=0, else true.
bool default_cuda_device_exit_head();

/// Settings of a CudaBackend, fixed when it is created.
struct CudaBackendOptions {
  /// Capture one CUDA graph per batch size at compile() (default true; the environment may turn it
  /// off). false: every batch size runs its operators one by one (the path a failed capture takes).
  bool graphs = default_cuda_graphs();
  /// Answer each stage's exit on the device: the fused exit-head kernel runs after the stage's
  /// operators (inside its CUDA graph) and only probabilities, predictions and confidences come back
  /// with the logits; CompiledStage::exit_answers() then gives them. Default true (the environment
  /// may turn it off: IMPRECISE_CUDA_EXIT_HEAD=0). false, or CompileOptions::exit_head.on_device
  /// false: the host answers (post_process), as before.
  bool device_exit_head = default_cuda_device_exit_head();
};

/// Runs every operator the CPU backend runs, on an NVIDIA GPU, and (options.device_exit_head) each
/// stage's exit head. compile() allocates everything a
/// stage needs (weights, activations for max_batch, cuDNN workspace, pinned staging, descriptors for
/// every batch size) and captures one CUDA graph per batch size; run() only copies and launches.
/// A size whose capture fails (a library call that cannot be captured) runs its operators one by
/// one instead; with options.graphs false every size does so.
/// Registered as "cuda" (default options) when the library is built with CUDA; reports 0 devices
/// (never aborts) where there is no GPU or no driver.
class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(CudaBackendOptions options = {}) : options_(options) {}
  const CudaBackendOptions& options() const { return options_; }
  std::string name() const override { return "cuda"; }
  int device_count() const override;
  std::unique_ptr<CompiledStage> compile(const Graph& graph, const StageInfo& stage,
                                         const CompileOptions& options) const override;

 private:
  CudaBackendOptions options_;
};

/// The fused exit-head kernel on `device`: softmax, prediction and confidence of every row of
/// `logits` ([rows, classes]) into results[0, rows), as post_process() computes them on the host
/// (softmax of logits / temperature). A convenience for checks and tools: it allocates device memory
/// per call. Throws Error when there is no device, `results` is too short or temperature <= 0.
void cuda_post_process(const Tensor& logits, ConfidenceMeasure measure, std::span<ExitResult> results,
                       float temperature = 1.0f, int device = 0);

}  // namespace imprecise::nn
