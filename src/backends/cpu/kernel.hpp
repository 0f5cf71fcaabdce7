// Internal to the cpu backend: the per-operator Kernel interface and the factories of the kernels kept in their own files.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "imprecise/backends/cpu/cpu_backend.hpp"
#include "imprecise/graph/graph.hpp"
#include "imprecise/graph/tensor.hpp"

namespace imprecise::nn::cpu {

using Index = std::int64_t;

/// One operator instance, configured at compile time; run() reads inputs and writes `out`, whose
/// shape the stage has already set for this batch. run() must not allocate.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void run(std::span<const Tensor* const> in, Tensor& out) = 0;
};

/// The kernel for any operator in supported_ops() (the onednn backend's fallback too); throws Error
/// naming the node for another.
std::unique_ptr<Kernel> make_kernel(const Graph& g, const Node& node, CpuIsa isa);
/// Conv (1-D and 2-D, groups, dilations, pads): conv.cpp. relu: also apply a Relu that
/// reads nothing but this Conv's output (the stage then drops that Relu and aliases its output).
std::unique_ptr<Kernel> make_conv(const Graph& g, const Node& node, bool relu, CpuIsa isa);
/// MaxPool / AveragePool: pool.cpp.
std::unique_ptr<Kernel> make_pool(const Graph& g, const Node& node);
/// The other operators, by family; nullptr when `node` is not of the family.
/// Relu, Sigmoid, Tanh, Identity/Reshape/Flatten/Squeeze/Unsqueeze, Add/Sub/Mul/Div, Global*Pool, BatchNormalization.
std::unique_ptr<Kernel> make_elementwise(const Graph& g, const Node& node);
/// Clip, LeakyRelu, HardSigmoid, HardSwish, Gelu, Erf: activation.cpp.
std::unique_ptr<Kernel> make_activation(const Graph& g, const Node& node);
/// Resize (nearest, bilinear): resize.cpp.
std::unique_ptr<Kernel> make_resize(const Graph& g, const Node& node);
/// Gemm, MatMul.
std::unique_ptr<Kernel> make_matmul(const Graph& g, const Node& node);
/// Transpose, Concat, Pad, Slice (Split runs as Slices), Softmax, ReduceMax, ReduceMean.
std::unique_ptr<Kernel> make_layout(const Graph& g, const Node& node);

/// Which build of the convolution `isa` selects on this CPU: "avx2" or "generic".
const char* conv_isa(CpuIsa isa);

}  // namespace imprecise::nn::cpu
