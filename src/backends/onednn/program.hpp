// Internal to the onednn backend: what a compiled stage owns (activations, buffers, weights, fallback
// kernels) and the program it runs for one batch size (primitive calls with their argument arrays).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "imprecise/graph/tensor.hpp"
#include "kernel.hpp"

namespace imprecise::nn::onednn {

/// 64-byte aligned float storage, allocated once at compile time (oneDNN's kernels prefer the alignment).
class AlignedBuffer {
 public:
  explicit AlignedBuffer(std::size_t bytes)
      : size_(bytes), data_(static_cast<float*>(::operator new(bytes == 0 ? 64 : bytes, std::align_val_t{64}))) {}
  float* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  std::size_t size_;
  std::unique_ptr<float, Free> data_;
};

/// One activation of the stage (a stage input or a node output). Its plain (row-major) form lives in
/// `plain`, sized for max_batch, which the fallback kernels read and write and run() returns for the
/// exit; a carried output is returned in `carry`, in the carry layout (ProgramBuilder::carry_desc). The
/// oneDNN layouts a program chooses live in StageStorage::native buffers.
struct Value {
  std::string name;
  Shape shape;     ///< batch axis -1
  int input = -1;  ///< index among the stage inputs, or -1 for a node output
  /// A stage input carried from an earlier stage (not a model input): its bytes are in the carry
  /// layout, and its plain form, where a fallback needs one, is made into `plain`.
  bool carried = false;
  bool carried_out = false;  ///< a node output a later stage reads: returned in `carry`
  Tensor plain;    ///< node outputs whose plain form is used (StageStorage::plain_data); empty otherwise
  Tensor carry;    ///< a carried output, in the carry layout (StageStorage::carry_data)
};

/// A node the backend runs with the cpu backend's kernel, on plain tensors; shared by every program.
struct Fallback {
  std::unique_ptr<cpu::Kernel> kernel;
  std::vector<std::size_t> inputs;  ///< values, or constants (index kConstant + i)
  std::size_t output = 0;           ///< value
  std::vector<const Tensor*> args;  ///< filled per run, sized at compile
};
inline constexpr std::size_t kConstant = std::size_t{1} << 40;  ///< Fallback::inputs tag of a constant

/// One primitive execution: oneDNN's C entry point takes a prepared argument array, so a run builds nothing.
struct Call {
  dnnl::primitive primitive;
  std::vector<dnnl_exec_arg_t> args;  ///< the scratchpad's slot is patched once all programs exist
  dnnl::memory::desc scratchpad;      ///< what the primitive needs (zero size: none)
};

/// Everything one batch size runs: calls and fallbacks in node order.
struct Program {
  struct Action {
    bool fallback = false;
    std::size_t index = 0;  ///< into calls, or into StageStorage::fallbacks
  };
  std::vector<Call> calls;
  std::vector<Action> actions;
  std::vector<dnnl::memory> memories;  ///< keeps alive the memories the argument arrays point to
  /// Memories over a stage input (its data handle is the caller's tensor, set at each run).
  std::vector<std::pair<std::size_t, dnnl::memory>> input_views;
  /// Memories over a value's plain tensor (by value), re-pointed at each run: a stage run in sub-batches
  /// points them at the sub-batch's first sample.
  std::vector<std::pair<std::size_t, dnnl::memory>> plain_views;
  /// The same over a carried output's `carry` tensor.
  std::vector<std::pair<std::size_t, dnnl::memory>> carry_views;
  bool has_fallbacks = false;
};

/// What every program of a stage shares.
struct StageStorage {
  dnnl::engine engine;
  std::int64_t max_batch = 1;
  std::vector<Value> values;
  std::map<std::string, std::size_t> value_of;  ///< tensor name -> values index
  std::vector<Tensor> constants;                ///< the fallbacks' constant inputs
  std::vector<Fallback> fallbacks;
  std::map<std::size_t, std::size_t> fallback_of_node;  ///< graph node -> fallbacks index
  /// Activation buffers in oneDNN's layouts, by role ("<value>:out", "<value>:as<k>"). Programs are
  /// built from the largest batch down, so the first request of a key is its largest.
  std::map<std::string, std::vector<AlignedBuffer>> native;
  /// Weights reordered into a primitive's layout, by (node, layout); primitives of several batch sizes
  /// that want the same layout share them.
  std::vector<std::pair<std::string, dnnl::memory>> weights;
  std::vector<std::unique_ptr<AlignedBuffer>> weight_storage;

  /// Value v's plain tensor, allocated (for max_batch) on first use: an activation that lives only in a
  /// oneDNN layout costs no plain copy.
  float* plain_data(std::size_t v) { return allocated(values.at(v), &Value::plain); }
  /// Value v's carry tensor (a carried output), allocated for max_batch on first use.
  float* carry_data(std::size_t v) { return allocated(values.at(v), &Value::carry); }

  float* native_buffer(const std::string& key, std::size_t bytes) {
    auto& list = native[key];
    for (const auto& b : list)
      if (b.size() >= bytes) return b.data();
    list.emplace_back(bytes);
    return list.back().data();
  }

 private:
  /// value.*tensor, allocated for max_batch on first use.
  float* allocated(Value& value, Tensor Value::*tensor) const {
    Tensor& t = value.*tensor;
    if (t.shape().empty()) {
      Shape full = value.shape;
      full[0] = max_batch;
      t = Tensor(full);
    }
    return t.data();
  }
};

}  // namespace imprecise::nn::onednn
