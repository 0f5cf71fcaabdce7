// Backend: the interface every compute backend implements (compile a stage of a graph, run it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imprecise/backends/exit_result.hpp"
#include "imprecise/graph/graph.hpp"
#include "imprecise/graph/partition.hpp"
#include "imprecise/graph/tensor.hpp"

namespace imprecise::nn {

/// What a compiled stage has done since it was compiled (never reset; for tests and benchmarks).
struct StageCounters {
  std::int64_t runs = 0;              ///< run() calls
  std::int64_t device_exit_rows = 0;  ///< exit rows answered by the backend's own exit head (ExitAnswers)
  /// Host time (ns) copying inputs into and outputs out of the backend's staging buffers (pinned
  /// memory on cuda); 0 for a backend that runs on the host.
  std::int64_t staging_ns = 0;
  /// Host time (ns) waiting for the device: launch to synchronize (on cuda the CUDA graph, its H2D
  /// and D2H copies included); 0 for a backend that runs on the host.
  std::int64_t device_ns = 0;
};

/// One stage compiled for a backend. Everything it needs (weights, intermediate buffers, scratch) is
/// allocated by Backend::compile for `max_batch()`; run() does not allocate.
class CompiledStage {
 public:
  virtual ~CompiledStage() = default;
  CompiledStage() = default;
  CompiledStage(const CompiledStage&) = delete;
  CompiledStage& operator=(const CompiledStage&) = delete;

  virtual int max_batch() const = 0;
  /// inputs: one tensor per StageInfo::inputs, in that order, each of shape [batch, ...]. The
  /// returned tensors (StageInfo::carried_out in order, then the exit) live in the stage's own buffers
  /// and stay valid until the next run(). The exit is row-major; a carried tensor is in the
  /// backend's own carry layout (batch outermost, so each sample's bytes are one contiguous block the
  /// caller may move between batches), which only the same backend's later stages read. Throws Error
  /// (naming the tensor) on a shape mismatch or a batch outside [1, max_batch()].
  virtual std::span<const Tensor* const> run(std::span<const Tensor* const> inputs) = 0;
  /// The exit's answers (CompileOptions::exit_head) for the last run(), when the backend computed
  /// them itself; nullptr when the caller computes them on the host from the exit logits run()
  /// returned (post_process). The default, and the cpu backend's answer: nullptr. Valid until the
  /// next run().
  virtual const ExitAnswers* exit_answers() const { return nullptr; }
  virtual StageCounters counters() const { return {}; }
};

struct CompileOptions {
  int max_batch = 8;  ///< largest batch run() accepts; buffers are sized for it
  int device = 0;     ///< device index for backends with several devices
  ExitHead exit_head; ///< how this stage's exit is answered, for a backend that answers it itself
};

class Backend {
 public:
  virtual ~Backend() = default;
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  virtual std::string name() const = 0;
  /// Devices present now; 0 means the backend is built but cannot run here (never an abort).
  virtual int device_count() const = 0;
  /// Compiles `stage` of the prepared `graph`. Throws Error naming the node it cannot handle.
  virtual std::unique_ptr<CompiledStage> compile(const Graph& graph, const StageInfo& stage,
                                                 const CompileOptions& options) const = 0;
};

}  // namespace imprecise::nn
