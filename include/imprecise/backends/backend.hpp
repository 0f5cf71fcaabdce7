// Backend: the interface every compute backend implements (compile a stage of a graph, run it).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imprecise/graph/graph.hpp"
#include "imprecise/graph/partition.hpp"
#include "imprecise/graph/tensor.hpp"

namespace imprecise::nn {

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
  /// and stay valid until the next run(). Throws Error (naming the tensor) on a shape mismatch or a
  /// batch outside [1, max_batch()].
  virtual std::span<const Tensor* const> run(std::span<const Tensor* const> inputs) = 0;
};

struct CompileOptions {
  int max_batch = 8;  ///< largest batch run() accepts; buffers are sized for it
  int device = 0;     ///< device index for backends with several devices
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
