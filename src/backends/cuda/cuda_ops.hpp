// Internal: one operator instance of a compiled cuda stage (configured at load, enqueued per batch size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <cublas_v2.h>
#include <cudnn.h>

#include "common.cuh"
#include "imprecise/graph/graph.hpp"

namespace imprecise::nn::detail {

/// A tensor in device memory. Activations have the batch on axis 0 (shape[0] is ignored and replaced
/// by the batch being run); constants keep their shape.
struct DeviceTensor {
  float* data = nullptr;
  Shape shape;
  bool batched = true;
};

/// A tensor's dimensions at one batch size, in a form kernels take by value (no allocation).
struct Extent {
  ::imprecise::detail::CudaDims dims{};
  int rank = 0;
  std::int64_t count = 1;
};
Extent extent(const DeviceTensor& t, int batch);
/// Row-major element strides of `e`.
::imprecise::detail::CudaDims contiguous_strides(const Extent& e);

/// What every operator of a stage shares. The workspace is sized after every operator has said what
/// it needs, so operators read it at enqueue time, not at construction.
struct StageContext {
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;
  void* workspace = nullptr;
  std::size_t workspace_bytes = 0;
  int max_batch = 1;
  std::string source;  ///< the model file, for error messages
};

/// Scaling factors cuDNN and cuBLAS read through pointers.
inline constexpr float kOne = 1.0f, kZero = 0.0f;

/// `v` as the int cuDNN takes; throws Error naming the node when it does not fit.
int to_int(std::int64_t v, const Graph& g, const Node& node);

class GpuOp {
 public:
  virtual ~GpuOp() = default;
  /// Enqueues the operator for `batch` samples on `stream` (also while a CUDA graph is captured):
  /// no allocation, no descriptor creation.
  virtual void enqueue(int batch, cudaStream_t stream) = 0;
  /// cuDNN workspace this operator needs at its largest batch.
  virtual std::size_t workspace_bytes() const { return 0; }
};

/// The operator for `node` reading `inputs` (in node order, optional ones left out) and writing
/// `output` (already allocated for max_batch). Throws Error naming the node when it cannot run it.
std::unique_ptr<GpuOp> make_gpu_op(const Graph& graph, const Node& node, std::vector<DeviceTensor> inputs,
                                   DeviceTensor output, StageContext& context);

// Per family (cuda_conv.cpp; cuda_ops_dnn.cpp: cuDNN and cuBLAS; cuda_ops_basic.cpp: our kernels).
std::unique_ptr<GpuOp> make_conv_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                    StageContext& ctx);
std::unique_ptr<GpuOp> make_pool_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                    StageContext& ctx);
std::unique_ptr<GpuOp> make_activation_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in,
                                          DeviceTensor out, StageContext& ctx);
std::unique_ptr<GpuOp> make_gemm_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                    StageContext& ctx);
std::unique_ptr<GpuOp> make_matmul_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                      StageContext& ctx);
/// Clip, LeakyRelu, HardSigmoid, HardSwish, Gelu, Erf on our elementwise kernel (cuda_ops_activation.cpp);
/// null for any other operator.
std::unique_ptr<GpuOp> make_unary_activation_op(const Graph& g, const Node& node, const std::vector<DeviceTensor>& in,
                                                const DeviceTensor& out);
std::unique_ptr<GpuOp> make_basic_op(const Graph& g, const Node& node, std::vector<DeviceTensor> in, DeviceTensor out,
                                     StageContext& ctx);

}  // namespace imprecise::nn::detail
