// CudaBackend: the GPU backend (cuDNN, cuBLAS and our kernels in kernels/); built only when CUDA is found.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "imprecise/nn/backend.hpp"
#include "imprecise/nn/multi_exit_model.hpp"

namespace imprecise::nn {

/// Runs every operator the CPU backend runs, on an NVIDIA GPU. compile() allocates everything a
/// stage needs (weights, activations for max_batch, cuDNN workspace, pinned staging, descriptors for
/// every batch size) and captures one CUDA graph per batch size; run() only copies and launches.
/// A size whose capture fails (a library call that cannot be captured) runs its operators one by
/// one instead; IMPRECISE_CUDA_GRAPHS=0 in the environment at load makes every size do so.
/// Registered as "cuda" when the library is built with CUDA; reports 0 devices (never aborts) where
/// there is no GPU or no driver.
class CudaBackend final : public Backend {
 public:
  std::string name() const override { return "cuda"; }
  int device_count() const override;
  std::unique_ptr<CompiledStage> compile(const Graph& graph, const StageInfo& stage,
                                         const CompileOptions& options) const override;
};

/// The fused exit-head kernel on `device`: softmax, prediction and confidence of every row of
/// `logits` ([rows, classes]) into results[0, rows), as post_process() computes them on the host
/// (softmax of logits / temperature). A convenience for checks and tools: it allocates device memory
/// per call. Throws Error when there is no device, `results` is too short or temperature <= 0.
void cuda_post_process(const Tensor& logits, ConfidenceMeasure measure, std::span<ExitResult> results,
                       float temperature = 1.0f, int device = 0);

}  // namespace imprecise::nn
