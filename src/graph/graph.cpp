// Graph IR helpers and prepare(): validation, constant/shape folding, BatchNorm folding, shape inference.
#include "imprecise/graph/graph.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "op_shapes.hpp"

namespace imprecise::nn {

using detail::fail;
using detail::kBatchValue;
using detail::kMaxSampleElements;
// All of a model's activations together (its input and every node's output, per sample): each tensor
// under the bound above could still add up to more than a host has (the ONNX loader's fuzzer found
// 2 GiB in a model of eleven ~50 M-value tensors). 2^27 values is 512 MiB, about five times what
// ResNet-50 at 224x224 produces per sample.
constexpr std::size_t kMaxSampleActivations = std::size_t{1} << 27;

Tensor Constant::as_tensor() const {
  if (type == ElementType::float32) return Tensor(shape, floats);
  std::vector<float> values;
  values.reserve(ints.size());
  for (const auto v : ints) values.push_back(static_cast<float>(v));
  return Tensor(shape, std::move(values));
}

namespace {

template <typename T>
const T* typed(const Node& node, const std::string& attribute) {
  const auto it = node.attributes.find(attribute);
  if (it == node.attributes.end()) return nullptr;
  const T* value = std::get_if<T>(&it->second);
  if (value == nullptr) throw Error(fmt::format("{}: attribute '{}' has the wrong type", node.describe(), attribute));
  return value;
}

}  // namespace

std::int64_t Node::attr_int(const std::string& attribute, std::int64_t fallback) const {
  const auto* v = typed<std::int64_t>(*this, attribute);
  return v ? *v : fallback;
}
float Node::attr_float(const std::string& attribute, float fallback) const {
  const auto* v = typed<float>(*this, attribute);
  return v ? *v : fallback;
}
std::string Node::attr_string(const std::string& attribute, const std::string& fallback) const {
  const auto* v = typed<std::string>(*this, attribute);
  return v ? *v : fallback;
}
std::vector<std::int64_t> Node::attr_ints(const std::string& attribute, std::vector<std::int64_t> fallback) const {
  const auto* v = typed<std::vector<std::int64_t>>(*this, attribute);
  return v ? *v : fallback;
}
const Constant& Node::attr_tensor(const std::string& attribute) const {
  const auto* v = typed<Constant>(*this, attribute);
  if (!v) throw Error(fmt::format("{}: attribute '{}' is missing", describe(), attribute));
  return *v;
}
std::string Node::describe() const { return fmt::format("node '{}' ({})", name, op); }

const Constant* Graph::find_constant(const std::string& tensor) const {
  const auto it = initializers.find(tensor);
  return it == initializers.end() ? nullptr : &it->second;
}

const std::vector<std::string>& supported_ops() {
  static const std::vector<std::string> ops{
      "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv", "Div", "Erf", "Flatten",
      "Gather", "Gelu", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "HardSigmoid", "HardSwish", "Identity",
      "LeakyRelu", "MatMul", "MaxPool", "Mul", "Pad", "ReduceMax", "ReduceMean", "Relu", "Reshape", "Resize", "Shape",
      "Sigmoid", "Slice", "Softmax", "Split", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze"};
  return ops;
}

namespace {

// ---- constant folding of the shape arithmetic (int64 tensors; kBatchValue stands for the batch size)

Constant int_constant(Shape shape, std::vector<std::int64_t> values) {
  Constant c;
  c.type = ElementType::int64;
  c.shape = std::move(shape);
  c.ints = std::move(values);
  return c;
}

// Folds `node` whose inputs are all known (constants, or activations for Shape). Returns false when
// the node is not foldable (it is then kept and run).
bool try_fold(const Node& node, const Graph& graph, const std::map<std::string, Shape>& shapes,
              std::map<std::string, Constant>& folded) {
  const std::string& where = graph.source;
  auto constant = [&](std::size_t i) -> const Constant* {
    if (i >= node.inputs.size() || node.inputs[i].empty()) return nullptr;
    return graph.find_constant(node.inputs[i]);
  };
  const std::string& op = node.op;
  if (op == "Constant") {
    if (node.inputs.size() != 0 || node.outputs.size() != 1) fail(where, node, "Constant takes no inputs, one output");
    if (node.has("value")) {
      folded[node.outputs[0]] = node.attr_tensor("value");
    } else if (node.has("value_ints")) {
      const auto v = node.attr_ints("value_ints");
      folded[node.outputs[0]] = int_constant(Shape{static_cast<std::int64_t>(v.size())}, v);
    } else if (node.has("value_int")) {
      folded[node.outputs[0]] = int_constant(Shape{}, {node.attr_int("value_int", 0)});
    } else if (node.has("value_float")) {
      Constant c;
      c.floats = {node.attr_float("value_float", 0.0f)};
      folded[node.outputs[0]] = c;
    } else {
      fail(where, node, "Constant without a supported value attribute");
    }
    return true;
  }
  if (node.outputs.size() != 1) return false;
  if (op == "Shape") {
    if (node.inputs.size() != 1) fail(where, node, "Shape takes one input");
    Shape s;
    if (const Constant* c = constant(0)) {
      s = c->shape;
    } else {
      const auto it = shapes.find(node.inputs[0]);
      if (it == shapes.end()) return false;
      s = it->second;
    }
    std::vector<std::int64_t> values(s.begin(), s.end());
    for (auto& v : values)
      if (v < 0) v = kBatchValue;
    const auto rank = static_cast<std::int64_t>(values.size());
    std::int64_t start = node.attr_int("start", 0), end = node.attr_int("end", rank);
    start = std::clamp<std::int64_t>(start < 0 ? start + rank : start, 0, rank);
    end = std::clamp<std::int64_t>(end < 0 ? end + rank : end, 0, rank);
    values = end > start ? std::vector<std::int64_t>(values.begin() + start, values.begin() + end) : std::vector<std::int64_t>{};
    folded[node.outputs[0]] = int_constant(Shape{static_cast<std::int64_t>(values.size())}, values);
    return true;
  }
  for (std::size_t i = 0; i < node.inputs.size(); ++i)
    if (!node.inputs[i].empty() && !constant(i)) return false;
  if (node.inputs.empty() || node.inputs[0].empty()) return false;  // (fuzzing: a left-out first input)
  const Constant& x = *constant(0);
  if (op == "Identity") {
    folded[node.outputs[0]] = x;
    return true;
  }
  if (op == "Gather") {
    const Constant* indices = constant(1);
    if (!indices || indices->type != ElementType::int64) fail(where, node, "indices must be an int64 constant");
    if (x.shape.size() != 1 || node.attr_int("axis", 0) != 0)
      fail(where, node, "only gathering from a 1-D constant on axis 0 is supported");
    Constant out = x;
    out.shape = indices->shape;
    out.ints.clear();
    out.floats.clear();
    const auto n = static_cast<std::int64_t>(x.size());
    for (auto i : indices->ints) {
      if (i < -n || i >= n) fail(where, node, fmt::format("index {} out of range for {} values", i, n));
      if (i < 0) i += n;
      if (x.type == ElementType::int64) out.ints.push_back(x.ints[static_cast<std::size_t>(i)]);
      else out.floats.push_back(x.floats[static_cast<std::size_t>(i)]);
    }
    folded[node.outputs[0]] = std::move(out);
    return true;
  }
  if (op == "Concat" && x.type == ElementType::int64) {
    std::vector<std::int64_t> values;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      const Constant& c = *constant(i);
      if (c.type != ElementType::int64 || c.shape.size() != 1) fail(where, node, "only 1-D int64 constants concatenate at load");
      values.insert(values.end(), c.ints.begin(), c.ints.end());
    }
    folded[node.outputs[0]] = int_constant(Shape{static_cast<std::int64_t>(values.size())}, values);
    return true;
  }
  if (op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" || op == "Flatten") {
    // Pure shape changes of a constant: infer the new shape with the same rules as for activations.
    std::vector<Shape> in_shapes;
    std::vector<const Constant*> in_constants;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      in_shapes.push_back(constant(i)->shape);
      in_constants.push_back(constant(i));
    }
    for (const auto v : x.ints)
      if (v == kBatchValue && op != "Unsqueeze" && op != "Squeeze" && op != "Reshape")
        fail(where, node, "cannot fold a shape computation on the batch size");
    Constant out = x;
    out.shape = detail::infer_shape(node, in_shapes, in_constants, 1, where);
    folded[node.outputs[0]] = std::move(out);
    return true;
  }
  if (op == "Slice" && x.shape.size() == 1) {
    // x.shape[2:] and the like: a 1-D constant (a shape) sliced at load.
    std::vector<const Constant*> in_constants;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) in_constants.push_back(constant(i));
    const auto axes = detail::slice_axes(node, x.shape, in_constants, where);
    const detail::SliceAxis& s = axes.at(0);
    Constant out = x;
    out.shape = Shape{s.count};
    out.ints.clear();
    out.floats.clear();
    for (std::int64_t i = 0; i < s.count; ++i) {
      const auto at = static_cast<std::size_t>(s.start + i * s.step);
      if (x.type == ElementType::int64) out.ints.push_back(x.ints[at]);
      else out.floats.push_back(x.floats[at]);
    }
    folded[node.outputs[0]] = std::move(out);
    return true;
  }
  if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div") && node.inputs.size() == 2 &&
      x.type == ElementType::int64 && constant(1) != nullptr && constant(1)->type == ElementType::int64) {
    // torch.chunk's split points: (x.shape[d] + 1) / 2 and the like, on a static axis.
    const Constant& y = *constant(1);
    if (x.size() != y.size() && x.size() != 1 && y.size() != 1)
      fail(where, node, "int64 operands must have the same number of values, or one of them a single value");
    const Constant& wide = x.size() >= y.size() ? x : y;
    std::vector<std::int64_t> values;
    for (std::size_t i = 0; i < wide.size(); ++i) {
      const std::int64_t a = x.ints[x.size() == 1 ? 0 : i], b = y.ints[y.size() == 1 ? 0 : i];
      if (a == kBatchValue || b == kBatchValue) fail(where, node, "cannot fold a shape computation on the batch size");
      if (op == "Div" && b == 0) fail(where, node, "division by zero");
      std::int64_t v = 0;
      bool overflow = false;
      if (op == "Add") overflow = __builtin_add_overflow(a, b, &v);
      else if (op == "Sub") overflow = __builtin_sub_overflow(a, b, &v);
      else if (op == "Mul") overflow = __builtin_mul_overflow(a, b, &v);
      else if (b == -1 && a == INT64_MIN) overflow = true;
      else v = a / b;  // ONNX integer Div truncates, as C++ does
      if (overflow) fail(where, node, "int64 arithmetic overflows");
      values.push_back(v);
    }
    folded[node.outputs[0]] = int_constant(wide.shape, std::move(values));
    return true;
  }
  if (x.type == ElementType::int64) fail(where, node, "arithmetic on int64 (shape) tensors is not supported");
  fail(where, node, "a node computing only from constants is not supported (fold it before export)");
}

// ---- BatchNormalization folding into the preceding Conv / Gemm

bool fold_batch_norm(Graph& graph, std::size_t bn_index, const std::map<std::string, std::size_t>& producer,
                     const std::map<std::string, int>& uses, std::set<std::string>& outputs) {
  const Node& bn = graph.nodes[bn_index];
  const std::string& x = bn.inputs[0];
  const auto p = producer.find(x);
  if (p == producer.end() || outputs.count(x) || uses.at(x) != 1) return false;
  Node& prev = graph.nodes[p->second];
  const bool conv = prev.op == "Conv";
  if (!conv && prev.op != "Gemm") return false;
  const Constant* w = graph.find_constant(prev.inputs[1]);
  if (!w || w->type != ElementType::float32) return false;
  std::vector<const Constant*> params;
  for (std::size_t i = 1; i < 5; ++i) {
    const Constant* c = graph.find_constant(bn.inputs[i]);
    if (!c || c->type != ElementType::float32) return false;
    params.push_back(c);
  }
  const float eps = bn.attr_float("epsilon", 1e-5f);
  const std::size_t channels = params[0]->floats.size();
  for (const Constant* c : params)
    if (c->floats.size() != channels) return false;
  std::vector<float> scale(channels), shift(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    scale[c] = params[0]->floats[c] / std::sqrt(params[3]->floats[c] + eps);
    shift[c] = params[1]->floats[c] - params[2]->floats[c] * scale[c];
  }
  Constant new_w = *w;
  std::vector<float> bias(channels, 0.0f);
  if (conv) {
    if (w->shape.empty() || static_cast<std::size_t>(w->shape[0]) != channels) return false;
    const std::size_t per = new_w.floats.size() / channels;
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t i = 0; i < per; ++i) new_w.floats[c * per + i] *= scale[c];
    if (prev.inputs.size() > 2 && !prev.inputs[2].empty()) {
      const Constant* b = graph.find_constant(prev.inputs[2]);
      if (!b || b->floats.size() != channels) return false;
      bias = b->floats;
    }
  } else {
    if (w->shape.size() != 2) return false;
    const bool trans_b = prev.attr_int("transB", 0) != 0;
    const auto rows = static_cast<std::size_t>(w->shape[0]), cols = static_cast<std::size_t>(w->shape[1]);
    if ((trans_b ? rows : cols) != channels) return false;
    const float alpha = prev.attr_float("alpha", 1.0f), beta = prev.attr_float("beta", 1.0f);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) new_w.floats[r * cols + c] *= alpha * scale[trans_b ? r : c];
    if (prev.inputs.size() > 2 && !prev.inputs[2].empty()) {
      const Constant* b = graph.find_constant(prev.inputs[2]);
      if (!b || b->type != ElementType::float32) return false;
      if (b->floats.size() == 1) std::fill(bias.begin(), bias.end(), beta * b->floats[0]);
      else if (b->floats.size() == channels)
        for (std::size_t c = 0; c < channels; ++c) bias[c] = beta * b->floats[c];
      else return false;
    }
    prev.attributes["alpha"] = 1.0f;
    prev.attributes["beta"] = 1.0f;
  }
  for (std::size_t c = 0; c < channels; ++c) bias[c] = bias[c] * scale[c] + shift[c];
  Constant new_b;
  new_b.shape = Shape{static_cast<std::int64_t>(channels)};
  new_b.floats = std::move(bias);
  const std::string w_name = prev.name + ".bn_folded_weight";
  const std::string b_name = prev.name + ".bn_folded_bias";
  graph.initializers[w_name] = std::move(new_w);
  graph.initializers[b_name] = std::move(new_b);
  prev.inputs.resize(3);
  prev.inputs[1] = w_name;
  prev.inputs[2] = b_name;
  prev.outputs[0] = bn.outputs[0];
  return true;
}

// ---- Split: one Slice per output (every backend runs Slice; a Split is rarely on the hot path)

std::vector<Node> split_into_slices(const Graph& graph, const Node& node) {
  const std::string& where = graph.source;
  if (node.inputs.empty() || node.inputs[0].empty()) fail(where, node, "has no input");
  if (node.outputs.empty()) fail(where, node, "has no output");
  if (node.inputs.size() > 2) fail(where, node, fmt::format("has {} inputs, expected 1 or 2", node.inputs.size()));
  const auto it = graph.shapes.find(node.inputs[0]);
  if (it == graph.shapes.end()) fail(where, node, "splitting a constant is not supported (fold it before export)");
  Shape x = it->second;
  x[0] = 1;  // axis 0 is refused, so the batch size does not matter
  std::vector<const Constant*> constants{nullptr};
  if (node.inputs.size() == 2) constants.push_back(node.inputs[1].empty() ? nullptr : graph.find_constant(node.inputs[1]));
  const detail::SplitSpec spec = detail::split_spec(node, x, constants, where);
  std::vector<Node> parts;
  std::int64_t start = 0;
  for (std::size_t k = 0; k < node.outputs.size(); ++k) {
    const std::int64_t end = start + spec.sizes[k];
    if (!node.outputs[k].empty()) {
      Node slice;
      slice.name = fmt::format("{}:{}", node.name, k);
      slice.op = "Slice";
      slice.inputs = {node.inputs[0]};
      slice.outputs = {node.outputs[k]};
      slice.attributes["starts"] = std::vector<std::int64_t>{start};  // Slice's attribute form (opset 1-9)
      slice.attributes["ends"] = std::vector<std::int64_t>{end};
      slice.attributes["axes"] = std::vector<std::int64_t>{static_cast<std::int64_t>(spec.axis)};
      parts.push_back(std::move(slice));
    }
    start = end;
  }
  return parts;
}

}  // namespace

void prepare(Graph& graph) {
  const std::string& where = graph.source;
  if (graph.inputs.size() != 1) throw Error(fmt::format("{}: the model must have exactly one input", where));
  Shape& in_shape = graph.inputs[0].shape;
  if (in_shape.empty()) throw Error(fmt::format("{}: input '{}' must have a batch axis", where, graph.inputs[0].name));
  for (std::size_t i = 1; i < in_shape.size(); ++i)
    if (in_shape[i] == 0)
      throw Error(fmt::format("{}: input '{}' has an empty dimension {}", where, graph.inputs[0].name, i));
    else if (in_shape[i] < 0)
      throw Error(fmt::format("{}: input '{}' has a symbolic dimension {} (only the batch axis may be symbolic)", where,
                              graph.inputs[0].name, i));
  in_shape[0] = -1;
  if (element_count(Shape(in_shape.begin() + 1, in_shape.end())) > kMaxSampleElements)
    throw Error(fmt::format("{}: input '{}' of shape {} is too large", where, graph.inputs[0].name, to_string(in_shape)));

  // Well-formedness: every input is defined before it is read, nothing is defined twice.
  std::set<std::string> defined;
  defined.insert(graph.inputs[0].name);
  for (const auto& [name, c] : graph.initializers) defined.insert(name);
  std::map<std::string, int> uses;
  for (const Node& node : graph.nodes) {
    for (const auto& input : node.inputs) {
      if (input.empty()) continue;
      if (!defined.count(input))
        fail(where, node, fmt::format("reads '{}', which no earlier node, input or initializer defines", input));
      ++uses[input];
    }
    for (const auto& output : node.outputs) {
      if (output.empty()) continue;
      if (!defined.insert(output).second) fail(where, node, fmt::format("redefines tensor '{}'", output));
      uses.emplace(output, 0);
    }
  }
  std::set<std::string> output_names;
  for (const auto& output : graph.outputs) {
    if (!defined.count(output.name)) throw Error(fmt::format("{}: output '{}' is never produced", where, output.name));
    if (!output_names.insert(output.name).second)
      throw Error(fmt::format("{}: output '{}' is listed twice", where, output.name));
  }

  std::size_t activations = element_count(Shape(in_shape.begin() + 1, in_shape.end()));

  // Fold constants and infer shapes in one pass (Shape needs the shapes seen so far).
  std::vector<Node> kept;
  std::map<std::string, std::size_t> producer;  // tensor -> index in kept
  graph.shapes.clear();
  graph.shapes[graph.inputs[0].name] = in_shape;
  // Infers the shape of `node` (not foldable) and keeps it.
  auto keep = [&](Node node) {
    bool has_activation = false;
    for (const auto& input : node.inputs)
      if (!input.empty() && !graph.is_constant(input)) has_activation = true;
    if (!has_activation) fail(where, node, "has no activation input");
    // Shape rules run with two concrete batch sizes: only the first axis may follow the batch.
    Shape per_batch[2];
    for (int b = 0; b < 2; ++b) {
      const std::int64_t batch = b + 2;
      std::vector<Shape> shapes;
      std::vector<const Constant*> constants;
      // Trailing optional inputs left out count as absent.
      std::size_t count = node.inputs.size();
      while (count > 0 && node.inputs[count - 1].empty()) --count;
      for (std::size_t i = 0; i < count; ++i) {
        const std::string& input = node.inputs[i];
        if (input.empty()) {
          // Clip's min and Resize's roi/scales may be left out before a later input; the rules see them as absent.
          if (node.op != "Clip" && node.op != "Resize")
            fail(where, node, fmt::format("optional input {} left out is not supported", i));
          shapes.emplace_back();
          constants.push_back(nullptr);
        } else if (const Constant* c = graph.find_constant(input)) {
          shapes.push_back(c->shape);
          constants.push_back(c);
        } else {
          Shape s = graph.shapes.at(input);
          s[0] = batch;
          shapes.push_back(std::move(s));
          constants.push_back(nullptr);
        }
      }
      per_batch[b] = detail::infer_shape(node, shapes, constants, batch, where);
    }
    const Shape& s2 = per_batch[0];
    const Shape& s3 = per_batch[1];
    bool batch_first = !s2.empty() && s2.size() == s3.size() && s2[0] == 2 && s3[0] == 3;
    for (std::size_t i = 1; batch_first && i < s2.size(); ++i) batch_first = s2[i] == s3[i];
    if (!batch_first)
      fail(where, node, fmt::format("output shape {} does not keep the batch as its first axis", to_string(s2)));
    // Bounds what a corrupt file can make us allocate (per sample; buffers hold max_batch samples).
    if (element_count(s2) / 2 > kMaxSampleElements)
      fail(where, node, fmt::format("output shape {} is too large", to_string(s2)));
    activations += element_count(s2) / 2;
    if (activations > kMaxSampleActivations)
      fail(where, node, fmt::format("the model's activations reach {} values per sample here, more than the {} allowed",
                                    activations, kMaxSampleActivations));
    Shape symbolic = s2;
    symbolic[0] = -1;
    graph.shapes[node.outputs[0]] = symbolic;
    producer[node.outputs[0]] = kept.size();
    kept.push_back(std::move(node));
  };
  for (Node& node : graph.nodes) {
    std::map<std::string, Constant> folded;
    if (try_fold(node, graph, graph.shapes, folded)) {
      for (auto& [name, c] : folded) {
        if (output_names.count(name)) fail(where, node, fmt::format("exit '{}' is a constant", name));
        graph.initializers[name] = std::move(c);
      }
      continue;
    }
    if (node.op == "Split") {
      for (Node& part : split_into_slices(graph, node)) keep(std::move(part));
      continue;
    }
    keep(std::move(node));
  }
  graph.nodes = std::move(kept);

  // BatchNormalization after a Conv/Gemm whose output nothing else reads: fold into its weights.
  std::vector<Node> final_nodes;
  std::vector<bool> drop(graph.nodes.size(), false);
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].op == "BatchNormalization" && fold_batch_norm(graph, i, producer, uses, output_names))
      drop[i] = true;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    if (!drop[i]) final_nodes.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(final_nodes);
  detail::fuse_activations(graph);

  for (auto& output : graph.outputs) {
    const auto it = graph.shapes.find(output.name);
    if (it == graph.shapes.end()) throw Error(fmt::format("{}: output '{}' has no inferred shape", where, output.name));
    output.shape = it->second;
  }
}

}  // namespace imprecise::nn
