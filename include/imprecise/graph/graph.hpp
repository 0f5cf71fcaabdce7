// Graph: our own IR of a network (nodes, initializers, inputs/outputs, metadata), independent of protobuf.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "imprecise/graph/tensor.hpp"

namespace imprecise::nn {

/// Element type of a constant. Activations are always float32; int64 constants carry shapes,
/// axes and indices.
enum class ElementType { float32, int64 };

/// A constant tensor (initializer or Constant node value).
struct Constant {
  ElementType type = ElementType::float32;
  Shape shape;
  std::vector<float> floats;       ///< when type == float32
  std::vector<std::int64_t> ints;  ///< when type == int64

  std::size_t size() const { return type == ElementType::float32 ? floats.size() : ints.size(); }
  Tensor as_tensor() const;  ///< float view (int64 values converted)
};

using AttributeValue =
    std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>, std::vector<float>, Constant>;

struct Node {
  std::string name;  ///< the ONNX node name, or "<op>_<index>" when the file has none
  std::string op;    ///< ONNX op_type, e.g. "Conv"
  std::vector<std::string> inputs;   ///< "" = optional input left out
  std::vector<std::string> outputs;
  std::map<std::string, AttributeValue> attributes;

  bool has(const std::string& attribute) const { return attributes.count(attribute) != 0; }
  /// Typed attribute access; a missing attribute gives `fallback`, a wrong type throws Error naming the node.
  std::int64_t attr_int(const std::string& attribute, std::int64_t fallback) const;
  float attr_float(const std::string& attribute, float fallback) const;
  std::string attr_string(const std::string& attribute, const std::string& fallback) const;
  std::vector<std::int64_t> attr_ints(const std::string& attribute, std::vector<std::int64_t> fallback = {}) const;
  const Constant& attr_tensor(const std::string& attribute) const;
  /// "node 'conv1' (Conv)": how error messages name a node.
  std::string describe() const;
};

/// A graph input or output. Dimensions < 0 are symbolic (the batch axis).
struct ValueInfo {
  std::string name;
  Shape shape;
};

struct Graph {
  std::string source;  ///< file (or description) it was read from; prefixes error messages
  std::string name;
  std::int64_t opset = 0;
  std::vector<ValueInfo> inputs;   ///< activations only (initializers are not listed here)
  std::vector<ValueInfo> outputs;  ///< one per exit, in exit order
  std::vector<Node> nodes;         ///< topologically ordered
  std::map<std::string, Constant> initializers;
  std::map<std::string, std::string> metadata;  ///< ONNX metadata_props
  /// Shape of every activation, filled by prepare(); the batch axis is -1.
  std::map<std::string, Shape> shapes;

  const Constant* find_constant(const std::string& tensor) const;
  bool is_constant(const std::string& tensor) const { return find_constant(tensor) != nullptr; }
};

/// Load-time passes, in order: check the graph is well formed and topologically ordered; fold
/// Constant nodes, Identity, and the Shape/Gather/Unsqueeze/Concat chains PyTorch's exporter emits
/// for view/flatten (the batch size stays symbolic); fold BatchNormalization into a preceding
/// Conv/Gemm whose output has no other user; infer every activation's shape with a symbolic batch
/// axis, checking each operator's inputs and attributes. Throws Error naming the source and node.
void prepare(Graph& graph);

/// Operators prepare() and the CPU backend accept.
const std::vector<std::string>& supported_ops();

}  // namespace imprecise::nn
