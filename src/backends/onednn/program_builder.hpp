// Internal to the onednn backend: builds the Program of one batch size, tracking which layout each
// activation is in and inserting a reorder where a consumer wants another.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "imprecise/graph/graph.hpp"
#include "program.hpp"

namespace imprecise::nn::onednn {

using dnnl::memory;

class ProgramBuilder {
 public:
  ProgramBuilder(StageStorage& storage, Program& program, std::int64_t batch)
      : s_(storage), p_(program), batch_(batch) {}

  std::int64_t batch() const { return batch_; }
  const dnnl::engine& engine() const { return s_.engine; }
  std::size_t value(const std::string& name) const { return s_.value_of.at(name); }
  bool has_value(const std::string& name) const { return s_.value_of.count(name) != 0; }
  /// The value's shape with this program's batch.
  memory::dims dims(std::size_t v) const;
  /// Row-major desc of `dims`.
  static memory::desc plain_desc(const memory::dims& dims);
  memory::desc plain_desc(std::size_t v) const { return plain_desc(dims(v)); }
  /// The layout tensors carried between this backend's stages are in: channels last for 3- to 5-D
  /// activations (what its convolutions and pools produce and read, so a stage boundary costs no
  /// reorder), row-major otherwise. Batch stays the outermost axis, so each sample's bytes are
  /// contiguous and the model can move jobs' samples between batches as opaque blocks.
  static memory::desc carry_desc(const memory::dims& dims);
  memory::desc carry_desc(std::size_t v) const { return carry_desc(dims(v)); }

  /// The value in the layout it was produced in.
  memory current(std::size_t v);
  /// The value in layout `want`, reordered (once per layout) when it was produced in another.
  memory need(std::size_t v, const memory::desc& want);
  /// The value in its plain tensor (what the fallbacks and the caller read); a model input as it is.
  memory plain(std::size_t v);
  /// A carried output in its carry tensor, in the carry layout (reordered there unless produced there);
  /// a stage input as it is.
  memory carry(std::size_t v);
  /// The same bytes as `m` under another desc (e.g. [N, K] for a plain [N, K, 1]).
  memory view(const memory& m, const memory::desc& as);
  /// Storage for node output v in layout `desc` (its plain tensor when desc is plain; a carried
  /// output's carry tensor when desc is the carry layout), recorded as the value's produced form.
  memory output(std::size_t v, const memory::desc& desc);
  /// Records that v's produced form is `m` (a reshape's output: a view of its input).
  void alias(std::size_t v, const memory& m) { produced_.insert_or_assign(v, m); }
  /// Appends a primitive call; args as (DNNL_ARG_*, memory).
  void call(const dnnl::primitive& primitive, const std::vector<std::pair<int, memory>>& args,
            const memory::desc& scratchpad);
  /// A fallback (cpu backend kernel) for the node, run on plain forms; its output is produced plain.
  void fallback(std::size_t fallback_index);
  /// Constant weights `data` (row-major under `plain`) in layout `want`, reordered once per layout.
  memory weights(const std::string& key, const std::vector<float>& data, const memory::desc& plain,
                 const memory::desc& want);

 private:
  memory input_memory(std::size_t v);
  /// v's plain tensor as its produced form (what a fallback kernel writes).
  memory output_plain(std::size_t v);
  /// Memory `desc` over `data` as v's produced form; `views` (when given) re-points it at each run.
  memory produce(std::size_t v, const memory::desc& desc, float* data, std::vector<std::pair<std::size_t, memory>>* views);
  /// A reorder of `have` into a new memory `want` over `data`, appended to the program; `views` as above.
  memory reorder_into(std::size_t v, const memory& have, const memory::desc& want, float* data,
                      std::vector<std::pair<std::size_t, memory>>* views);
  memory convert(std::size_t v, const memory::desc& want, bool into_plain_tensor);

  StageStorage& s_;
  Program& p_;
  std::int64_t batch_;
  std::unordered_map<std::size_t, memory> produced_;
  std::vector<std::pair<std::size_t, memory>> converted_;
};

/// Primitive attributes with a caller-provided scratchpad (one buffer per stage, given at run).
dnnl::primitive_attr user_scratchpad();

/// Nodes right after a Conv/Gemm/MatMul that its primitive applies too, each the only reader of what
/// it follows: an Add of a constant bias (Gemm/MatMul: PyTorch's Linear on 3-D input exports MatMul +
/// Add), then a Relu.
struct Fused {
  const Node* bias_add = nullptr;
  const Node* relu = nullptr;
  /// The tensor the fused primitive produces: the last fused node's output.
  const std::string& output(const Node& node) const {
    return relu != nullptr ? relu->outputs[0] : bias_add != nullptr ? bias_add->outputs[0] : node.outputs[0];
  }
};

/// Adds the primitives running `node` (and what `fused` names) to the program. Returns false, having
/// added nothing, when oneDNN does not take it, or only through an implementation slower than the cpu
/// kernel or one that allocates per call (the caller then runs the nodes one by one).
bool lower(ProgramBuilder& b, const Graph& g, const Node& node, const Fused& fused = {});

/// Whether the cpu kernel serves the node better than the implementation oneDNN picked (lower_ops.cpp).
bool worse_than_fallback(const dnnl::primitive_desc_base& pd);

/// Resize as a oneDNN resampling where its coordinates are exactly the node's (lower_resize.cpp).
bool lower_resize(ProgramBuilder& b, const Graph& g, const Node& node);

/// Whether lower() can fuse a bias Add / a Relu after `op`.
bool fuses_bias(const std::string& op);
bool fuses_relu(const std::string& op);

}  // namespace imprecise::nn::onednn
