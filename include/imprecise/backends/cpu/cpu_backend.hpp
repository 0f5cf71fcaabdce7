// CpuBackend: the reference backend (Eigen), always built; every other backend is checked against it.
#pragma once

#include <memory>
#include <string>

#include "imprecise/backends/backend.hpp"

namespace imprecise::nn {

/// Which build of the hot kernels (convolution) a CpuBackend runs.
enum class CpuIsa {
  automatic,  ///< AVX2+FMA on an x86-64 CPU that has them (checked at run time), else generic
  generic,    ///< the baseline ISA the library was compiled for (tests, comparisons)
};
/// `generic` when the environment sets IMPRECISE_CPU_ISA=generic, else `automatic`.
CpuIsa default_cpu_isa();

/// Settings of a CpuBackend, fixed when it is created.
struct CpuBackendOptions {
  CpuIsa isa = default_cpu_isa();  ///< default: automatic (the environment may force generic)
};

/// Runs every operator in supported_ops() on the host: convolutions as a register-tiled GEMM over a
/// zero-padded copy of the input (AVX2+FMA kernels on CPUs that have them unless options.isa is
/// generic), batch-aware, buffers sized for the largest batch at compile time. Single-threaded. One
/// device (the host). The registry's instance uses the default options.
class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(CpuBackendOptions options = {}) : options_(options) {}
  const CpuBackendOptions& options() const { return options_; }
  std::string name() const override { return "cpu"; }
  int device_count() const override { return 1; }
  std::unique_ptr<CompiledStage> compile(const Graph& graph, const StageInfo& stage,
                                         const CompileOptions& options) const override;

 private:
  CpuBackendOptions options_;
};

}  // namespace imprecise::nn
