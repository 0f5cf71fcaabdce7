// Internal to the cpu backend: the per-operator Kernel interface and the factories of the kernels kept in their own files.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "imprecise/nn/graph.hpp"
#include "imprecise/nn/tensor.hpp"

namespace imprecise::nn::cpu {

using Index = std::int64_t;

/// One operator instance, configured at compile time; run() reads inputs and writes `out`, whose
/// shape the stage has already set for this batch. run() must not allocate.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void run(std::span<const Tensor* const> in, Tensor& out) = 0;
};

/// Conv (1-D and 2-D, groups, dilations, pads): src/nn/cpu/conv.cpp. relu: also apply a Relu that
/// reads nothing but this Conv's output (the stage then drops that Relu and aliases its output).
std::unique_ptr<Kernel> make_conv(const Graph& g, const Node& node, bool relu);
/// MaxPool / AveragePool: src/nn/cpu/pool.cpp.
std::unique_ptr<Kernel> make_pool(const Graph& g, const Node& node);

/// Which build of the hot kernels runs: "avx2" (x86-64 with AVX2 + FMA, chosen at run time) or
/// "generic" (the baseline ISA the library was compiled for). IMPRECISE_CPU_ISA=generic in the
/// environment forces the generic kernels (for tests and comparisons).
const char* conv_isa();

}  // namespace imprecise::nn::cpu
