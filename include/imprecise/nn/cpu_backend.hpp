// CpuBackend: the reference backend (Eigen), always built; every other backend is checked against it.
#pragma once

#include <memory>
#include <string>

#include "imprecise/nn/backend.hpp"

namespace imprecise::nn {

/// Runs every operator in supported_ops() on the host: convolutions as im2col + GEMM, batch-aware,
/// buffers sized for the largest batch at compile time. One device (the host).
class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  int device_count() const override { return 1; }
  std::unique_ptr<CompiledStage> compile(const Graph& graph, const StageInfo& stage,
                                         const CompileOptions& options) const override;
};

}  // namespace imprecise::nn
