// Internal: CudaStage, one stage compiled for the GPU (what CudaBackend::compile returns).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cuda_handles.hpp"
#include "cuda_ops.hpp"
#include "exit_head.cuh"
#include "imprecise/backends/backend.hpp"

namespace imprecise::nn::detail {

/// Owns, for max_batch: a stream, cuDNN and cuBLAS handles bound to it, device buffers for the
/// stage's inputs, constants and node outputs (reshapes are views), the cuDNN workspace, pinned
/// staging for inputs and outputs, host output tensors, and one CUDA graph per batch size.
/// run(): inputs -> pinned staging, graph launch (H2D copies, operators, the exit head, D2H copies),
/// synchronize, staging -> host outputs (and the exit's answers). Nothing is allocated or created
/// while it runs.
/// With device_exit_head (and an exit of shape [N, classes > 0]) the fused exit-head kernel runs
/// after the operators on the exit logits with options.exit_head, writing one packed device buffer
/// [probabilities batch*classes | confidence batch | prediction batch (int)] that comes back in one
/// D2H copy; exit_answers() then points at its host copy.
class CudaStage final : public CompiledStage {
 public:
  CudaStage(const Graph& graph, const StageInfo& stage, const CompileOptions& options, bool use_graphs,
            bool device_exit_head);
  int max_batch() const override { return max_batch_; }
  std::span<const Tensor* const> run(std::span<const Tensor* const> inputs) override;
  const ExitAnswers* exit_answers() const override { return head_ && answers_.batch > 0 ? &answers_ : nullptr; }
  StageCounters counters() const override { return counters_; }

 private:
  static constexpr std::size_t kCublasWorkspaceBytes = std::size_t{4} << 20;
  struct Input {
    DeviceTensor device;
    ::imprecise::detail::PinnedBuffer staging;
    std::size_t sample = 0;
    std::string name;
  };
  struct Output {
    const float* device = nullptr;
    std::size_t sample = 0;
    ::imprecise::detail::PinnedBuffer staging;
    Tensor host;
  };
  void enqueue(int batch);
  ::imprecise::detail::GraphExec capture(int batch);

  int device_, max_batch_, index_;
  std::string source_;
  // Declaration order is destruction order reversed: graphs and operators go before the buffers,
  // handles and the stream they use.
  ::imprecise::detail::Stream stream_;
  ::imprecise::detail::CudnnHandle cudnn_;
  ::imprecise::detail::CublasHandle cublas_;
  ::imprecise::detail::DeviceBuffer cublas_workspace_, workspace_;
  std::vector<::imprecise::detail::DeviceBuffer> buffers_;
  StageContext context_;
  std::vector<Input> inputs_;
  std::vector<Output> outputs_;
  std::vector<const Tensor*> output_ptrs_;
  // The device exit head (head_ false: the host answers the exit).
  bool head_ = false;
  const float* head_logits_ = nullptr;  // the exit's device buffer
  std::int64_t head_classes_ = 0;
  ::imprecise::detail::ExitMeasure head_measure_ = ::imprecise::detail::ExitMeasure::max_prob;
  float head_temperature_ = 1.0f;
  ::imprecise::detail::DeviceBuffer head_device_;  // max_batch * (classes + 2), packed per batch size
  ::imprecise::detail::PinnedBuffer head_staging_;
  std::vector<float> head_probabilities_, head_confidence_;
  std::vector<int> head_prediction_;
  ExitAnswers answers_;
  StageCounters counters_;
  std::vector<std::unique_ptr<GpuOp>> ops_;
  std::vector<std::string> op_names_;  // "node 'conv1' (Conv)" per operator, for error messages
  std::vector<::imprecise::detail::GraphExec> graphs_;  // [batch - 1]; empty: run eagerly
};

}  // namespace imprecise::nn::detail
