// Internal: CudaStage, one stage compiled for the GPU (what CudaBackend::compile returns).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cuda_handles.hpp"
#include "cuda_ops.hpp"
#include "imprecise/backends/backend.hpp"

namespace imprecise::nn::detail {

/// Owns, for max_batch: a stream, cuDNN and cuBLAS handles bound to it, device buffers for the
/// stage's inputs, constants and node outputs (reshapes are views), the cuDNN workspace, pinned
/// staging for inputs and outputs, host output tensors, and one CUDA graph per batch size.
/// run(): inputs -> pinned staging, graph launch (H2D copies, operators, D2H copies), synchronize,
/// staging -> host outputs. Nothing is allocated or created while it runs.
class CudaStage final : public CompiledStage {
 public:
  CudaStage(const Graph& graph, const StageInfo& stage, const CompileOptions& options, bool use_graphs);
  int max_batch() const override { return max_batch_; }
  std::span<const Tensor* const> run(std::span<const Tensor* const> inputs) override;

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
  std::vector<std::unique_ptr<GpuOp>> ops_;
  std::vector<std::string> op_names_;  // "node 'conv1' (Conv)" per operator, for error messages
  std::vector<::imprecise::detail::GraphExec> graphs_;  // [batch - 1]; empty: run eagerly
};

}  // namespace imprecise::nn::detail
