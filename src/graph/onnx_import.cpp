// ONNX import: protobuf ModelProto -> Graph, with every size and type checked against what the file claims.
#include "imprecise/graph/onnx_import.hpp"

#include <climits>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include <fmt/core.h>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#include <onnx/onnx_pb.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "imprecise/error.hpp"

namespace imprecise::nn {

namespace {

Shape dims_of(const onnx::TensorProto& tensor) {
  return Shape(tensor.dims().begin(), tensor.dims().end());
}

// Reads raw little-endian values of type T from raw_data, checking the byte count.
template <typename T>
std::vector<T> raw_values(const onnx::TensorProto& tensor, std::size_t count, const std::string& where) {
  const std::string& raw = tensor.raw_data();
  if (raw.size() != count * sizeof(T))
    throw Error(fmt::format("{}: tensor '{}' has {} bytes of data, its shape {} needs {}", where, tensor.name(),
                            raw.size(), to_string(dims_of(tensor)), count * sizeof(T)));
  std::vector<T> values(count);
  if (count > 0) std::memcpy(values.data(), raw.data(), raw.size());
  return values;
}

Constant read_tensor(const onnx::TensorProto& tensor, const std::string& where) {
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(fmt::format("{}: tensor '{}' uses external data, which is not supported", where, tensor.name()));
  Constant c;
  c.shape = dims_of(tensor);
  for (const auto d : c.shape)
    if (d < 0) throw Error(fmt::format("{}: tensor '{}' has a negative dimension", where, tensor.name()));
  std::size_t count = 0;
  try {
    count = element_count(c.shape);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: tensor '{}': {}", where, tensor.name(), e.what()));
  }
  const bool raw = tensor.has_raw_data();
  auto check = [&](std::size_t have) {
    if (have != count)
      throw Error(fmt::format("{}: tensor '{}' has {} values, its shape {} needs {}", where, tensor.name(), have,
                              to_string(c.shape), count));
  };
  switch (tensor.data_type()) {
    case onnx::TensorProto::FLOAT:
      c.type = ElementType::float32;
      if (raw) {
        c.floats = raw_values<float>(tensor, count, where);
      } else {
        check(static_cast<std::size_t>(tensor.float_data_size()));
        c.floats.assign(tensor.float_data().begin(), tensor.float_data().end());
      }
      break;
    case onnx::TensorProto::DOUBLE: {
      c.type = ElementType::float32;
      std::vector<double> values;
      if (raw) {
        values = raw_values<double>(tensor, count, where);
      } else {
        check(static_cast<std::size_t>(tensor.double_data_size()));
        values.assign(tensor.double_data().begin(), tensor.double_data().end());
      }
      for (const double v : values) c.floats.push_back(static_cast<float>(v));
      break;
    }
    case onnx::TensorProto::INT64:
      c.type = ElementType::int64;
      if (raw) {
        c.ints = raw_values<std::int64_t>(tensor, count, where);
      } else {
        check(static_cast<std::size_t>(tensor.int64_data_size()));
        c.ints.assign(tensor.int64_data().begin(), tensor.int64_data().end());
      }
      break;
    case onnx::TensorProto::INT32: {
      c.type = ElementType::int64;
      if (raw) {
        for (const auto v : raw_values<std::int32_t>(tensor, count, where)) c.ints.push_back(v);
      } else {
        check(static_cast<std::size_t>(tensor.int32_data_size()));
        c.ints.assign(tensor.int32_data().begin(), tensor.int32_data().end());
      }
      break;
    }
    default:
      throw Error(fmt::format("{}: tensor '{}' has element type {}, only float, double, int32 and int64 are supported",
                              where, tensor.name(), static_cast<int>(tensor.data_type())));
  }
  return c;
}

ValueInfo read_value_info(const onnx::ValueInfoProto& info, const std::string& where) {
  ValueInfo v;
  v.name = info.name();
  if (!info.type().has_tensor_type())
    throw Error(fmt::format("{}: graph input/output '{}' is not a tensor", where, info.name()));
  const auto& type = info.type().tensor_type();
  if (type.elem_type() != onnx::TensorProto::FLOAT)
    throw Error(fmt::format("{}: graph input/output '{}' must be float32", where, info.name()));
  for (const auto& d : type.shape().dim()) v.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return v;
}

}  // namespace

Graph parse_onnx(std::span<const std::byte> bytes, const std::string& where) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  if (bytes.empty()) throw Error(fmt::format("{}: empty file", where));
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) throw Error(fmt::format("{}: file too large", where));
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(fmt::format("{}: not a valid ONNX model (protobuf parse failed: truncated or corrupt)", where));
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw Error(fmt::format("{}: ONNX model has no graph (truncated or corrupt)", where));

  Graph graph;
  graph.source = where;
  for (const auto& opset : model.opset_import())
    if (opset.domain().empty() || opset.domain() == "ai.onnx") graph.opset = opset.version();
  if (graph.opset < 13)
    throw Error(fmt::format("{}: ONNX opset {} is not supported (13 or later is needed)", where, graph.opset));
  for (const auto& prop : model.metadata_props()) graph.metadata[prop.key()] = prop.value();

  const auto& g = model.graph();
  graph.name = g.name();
  for (const auto& init : g.initializer()) {
    if (init.name().empty()) throw Error(fmt::format("{}: initializer without a name", where));
    graph.initializers[init.name()] = read_tensor(init, where);
  }
  for (const auto& input : g.input())
    if (!graph.initializers.count(input.name())) graph.inputs.push_back(read_value_info(input, where));
  for (const auto& output : g.output()) graph.outputs.push_back(read_value_info(output, where));

  int index = 0;
  for (const auto& n : g.node()) {
    Node node;
    node.op = n.op_type();
    node.name = n.name().empty() ? fmt::format("{}_{}", n.op_type(), index) : n.name();
    ++index;
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      throw Error(fmt::format("{}: {}: operator domain '{}' is not supported", where, node.describe(), n.domain()));
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    for (const auto& a : n.attribute()) {
      switch (a.type()) {
        case onnx::AttributeProto::INT: node.attributes[a.name()] = static_cast<std::int64_t>(a.i()); break;
        case onnx::AttributeProto::FLOAT: node.attributes[a.name()] = a.f(); break;
        case onnx::AttributeProto::STRING: node.attributes[a.name()] = a.s(); break;
        case onnx::AttributeProto::INTS:
          node.attributes[a.name()] = std::vector<std::int64_t>(a.ints().begin(), a.ints().end());
          break;
        case onnx::AttributeProto::FLOATS:
          node.attributes[a.name()] = std::vector<float>(a.floats().begin(), a.floats().end());
          break;
        case onnx::AttributeProto::TENSOR:
          try {
            node.attributes[a.name()] = read_tensor(a.t(), where);
          } catch (const Error& e) {
            throw Error(fmt::format("{} (attribute '{}' of {})", e.what(), a.name(), node.describe()));
          }
          break;
        default:
          throw Error(fmt::format("{}: {}: attribute '{}' has an unsupported type", where, node.describe(), a.name()));
      }
    }
    graph.nodes.push_back(std::move(node));
  }
  if (graph.inputs.size() != 1)
    throw Error(fmt::format("{}: the model must have exactly one (non-initializer) input, it has {}", where,
                            graph.inputs.size()));
  if (graph.outputs.empty()) throw Error(fmt::format("{}: the model has no outputs (one per exit expected)", where));
  return graph;
}

Graph load_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open file", path));
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(fmt::format("{}: cannot read file", path));
  return parse_onnx(std::as_bytes(std::span<const char>(bytes)), path);
}

}  // namespace imprecise::nn
