// CpuBackend: the reference backend (Eigen), always built; every other backend is checked against it.
#pragma once

#include <memory>
#include <string>

#include "imprecise/nn/backend.hpp"

namespace imprecise::nn {

/// Runs every operator in supported_ops() on the host: convolutions as a register-tiled GEMM over a
/// zero-padded copy of the input (AVX2+FMA kernels picked at run time on CPUs that have them; the
/// environment variable IMPRECISE_CPU_ISA=generic forces the portable ones), batch-aware, buffers
/// sized for the largest batch at compile time. Single-threaded. One device (the host).
class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  int device_count() const override { return 1; }
  std::unique_ptr<CompiledStage> compile(const Graph& graph, const StageInfo& stage,
                                         const CompileOptions& options) const override;
};

}  // namespace imprecise::nn
