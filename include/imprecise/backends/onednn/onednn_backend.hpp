// OnednnBackend: the fast CPU backend (oneDNN primitives per stage and batch size); built when libdnnl-dev is found.
#pragma once

#include <memory>
#include <string>

#include "imprecise/backends/backend.hpp"

namespace imprecise::nn {

/// Intra-op threads per compiled stage: IMPRECISE_ONEDNN_THREADS from the environment when set (>= 1),
/// else 1 (lanes are the unit of concurrency: one thread each by default).
int default_onednn_threads();

/// Settings of an OnednnBackend, fixed when it is created.
struct OnednnBackendOptions {
  int threads = default_onednn_threads();  ///< threads each stage's primitives use (default 1)
  /// A batch whose activations exceed this many bytes (the largest one of the stage, for the whole
  /// batch) runs in sub-batches whose largest activation fits, each still one primitive call per node:
  /// an activation read back from memory costs more than the calls saved. Half a core's L2 (1 MiB on
  /// the development VM): there the pipeline models ran 4-10 % faster at batch 32 than with 8 MiB,
  /// and the small fixtures the same. Only stages run wholly by oneDNN primitives are split. 0: never.
  std::size_t sub_batch_bytes = std::size_t{512} << 10;
};

/// Runs convolutions, Gemm/MatMul (constant weights), pooling, reductions, activations, same-shape
/// binary ops and reshapes as oneDNN primitives in the layouts oneDNN prefers (BatchNorm folded, a
/// following bias Add and Relu fused at load); every other operator, and any node for which oneDNN
/// offers only a slow or per-call-allocating kernel, runs the cpu backend's kernel for that node. Primitives, their
/// memories, reordered weights and scratch are created at compile time for every batch size 1..max_batch,
/// so the batch dimension is the primitive's. One device (the host). The registry's instance uses the
/// default options.
class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(OnednnBackendOptions options = {}) : options_(options) {}
  const OnednnBackendOptions& options() const { return options_; }
  std::string name() const override { return "onednn"; }
  int device_count() const override { return 1; }
  std::unique_ptr<CompiledStage> compile(const Graph& graph, const StageInfo& stage,
                                         const CompileOptions& options) const override;

 private:
  OnednnBackendOptions options_;
};

}  // namespace imprecise::nn
