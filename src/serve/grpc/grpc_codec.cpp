// ModelInferRequest decoding and ModelInferResponse encoding (KServe v2 gRPC <-> InferRequest/InferResponse).
#include "grpc_codec.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include <fmt/core.h>

namespace imprecise::serve {
namespace {

Status invalid(std::string message) { return {StatusCode::invalid_argument, std::move(message)}; }

/// The datatype and shape of inputs[0], checked once for both ways of sending the data; the element
/// count on success. Each error names the field.
Status check_input(const inference::ModelInferRequest::InferInputTensor& in, std::size_t& elements) {
  if (in.datatype() != "FP32")
    return invalid(fmt::format("inputs[0].datatype: '{}' is not accepted, the models take FP32", in.datatype()));
  std::int64_t count = 1;
  for (int i = 0; i < in.shape_size(); ++i) {
    const std::int64_t d = in.shape(i);
    // Bounded like decode_raw_fp32 so no product can overflow.
    if (d < 0 || (d > 0 && count > std::numeric_limits<std::int32_t>::max() / d))
      return invalid(fmt::format("inputs[0].shape[{}]: {} is not a valid size", i, d));
    count *= d;
  }
  elements = static_cast<std::size_t>(count);
  return {};
}

/// Names the typed contents field that does not fit FP32, if any.
const char* foreign_contents(const inference::InferTensorContents& c) {
  if (c.bool_contents_size() > 0) return "bool_contents";
  if (c.int_contents_size() > 0) return "int_contents";
  if (c.int64_contents_size() > 0) return "int64_contents";
  if (c.uint_contents_size() > 0) return "uint_contents";
  if (c.uint64_contents_size() > 0) return "uint64_contents";
  if (c.fp64_contents_size() > 0) return "fp64_contents";
  if (c.bytes_contents_size() > 0) return "bytes_contents";
  return nullptr;
}

Status decode_values(const inference::ModelInferRequest& wire, InferInput& input) {
  const auto& in = wire.inputs(0);
  std::size_t elements = 0;
  if (Status s = check_input(in, elements); !s.ok()) return s;
  const bool raw = wire.raw_input_contents_size() > 0;
  const bool typed = in.has_contents();
  if (raw && typed)
    return invalid("inputs[0].contents: set together with raw_input_contents; send the data in one of them");
  if (!raw && !typed)
    return invalid("inputs[0].contents: no data; send raw_input_contents[0] or inputs[0].contents.fp32_contents");
  if (raw) {
    if (wire.raw_input_contents_size() != 1)
      return invalid(fmt::format("raw_input_contents: {} entries for 1 input", wire.raw_input_contents_size()));
    const std::string& bytes = wire.raw_input_contents(0);
    return decode_raw_fp32("raw_input_contents[0]", in.datatype(), input.shape, bytes, input.values);
  }
  const auto& contents = in.contents();
  if (const char* other = foreign_contents(contents))
    return invalid(fmt::format("inputs[0].contents.{}: the models take FP32, send fp32_contents", other));
  if (static_cast<std::size_t>(contents.fp32_contents_size()) != elements)
    return invalid(fmt::format("inputs[0].contents.fp32_contents: {} values, but the shape needs {}",
                               contents.fp32_contents_size(), elements));
  input.values.assign(contents.fp32_contents().begin(), contents.fp32_contents().end());
  return {};
}

/// A deadline parameter's value in microseconds; int64 or uint64 (clamped: an absurd one is the core's to refuse).
Status deadline_parameter(const inference::ModelInferRequest& wire, const std::string& key,
                          std::optional<std::int64_t>& us) {
  const auto it = wire.parameters().find(key);
  if (it == wire.parameters().end()) return {};
  const inference::InferParameter& p = it->second;
  if (p.has_int64_param()) {
    us = p.int64_param();
  } else if (p.has_uint64_param()) {
    const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    us = static_cast<std::int64_t>(p.uint64_param() > max ? max : p.uint64_param());
  } else {
    return invalid(fmt::format("parameters.{}: must be an int64 parameter (microseconds)", key));
  }
  return {};
}

}  // namespace

Status decode_infer_request(const inference::ModelInferRequest& wire, InferRequest& request) {
  if (wire.model_name().empty()) return invalid("model_name: empty, name the model to run");
  request.model = wire.model_name();
  request.version = wire.model_version();
  request.id = wire.id();
  if (wire.inputs_size() != 1)
    return invalid(fmt::format("inputs: {} tensors, the models take exactly one", wire.inputs_size()));
  for (int i = 0; i < wire.outputs_size(); ++i)
    if (wire.outputs(i).name() != "logits")
      return invalid(fmt::format("outputs[{}].name: '{}' is not an output, the models have 'logits'", i,
                                 wire.outputs(i).name()));
  InferInput input;
  input.name = wire.inputs(0).name();
  input.datatype = wire.inputs(0).datatype();
  input.shape.assign(wire.inputs(0).shape().begin(), wire.inputs(0).shape().end());
  if (Status s = decode_values(wire, input); !s.ok()) return s;
  request.inputs.clear();
  request.inputs.push_back(std::move(input));

  if (Status s = deadline_parameter(wire, "deadline_us", request.deadline_us); !s.ok()) return s;
  return deadline_parameter(wire, "timeout", request.timeout_us);
}

namespace {

void set_int(inference::ModelInferResponse& wire, const char* key, std::int64_t value) {
  (*wire.mutable_parameters())[key].set_int64_param(value);
}

std::string fp32_bytes(const std::vector<float>& values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());  // little-endian, as the wire
  return bytes;
}

}  // namespace

void encode_infer_response(const InferResponse& response, inference::ModelInferResponse& wire) {
  wire.set_model_name(response.model);
  wire.set_model_version(response.version);
  wire.set_id(response.id);
  if (!response.output.empty()) {
    auto* out = wire.add_outputs();
    out->set_name(response.output_name);
    out->set_datatype("FP32");
    for (std::int64_t d : response.output_shape) out->add_shape(d);
    wire.add_raw_output_contents(fp32_bytes(response.output));
  }
  set_int(wire, "exit", response.exit);
  set_int(wire, "depth", response.depth);
  if (response.outcome_known) (*wire.mutable_parameters())["outcome"].set_string_param(to_string(response.outcome));
  set_int(wire, "prediction", response.prediction);
  (*wire.mutable_parameters())["confidence"].set_double_param(response.confidence);
  set_int(wire, "queue_us", response.queue_us);
  set_int(wire, "run_us", response.run_us);
  set_int(wire, "total_us", response.total_us);
  if (!response.label.empty()) (*wire.mutable_parameters())["label"].set_string_param(response.label);
}

std::vector<std::pair<std::string, std::string>> trailing_metadata(const InferResponse& response) {
  std::vector<std::pair<std::string, std::string>> md;
  if (!response.outcome_known) return md;  // refused before the engine: the status message says it all
  md.emplace_back("imprecise-outcome", to_string(response.outcome));
  md.emplace_back("imprecise-exit", std::to_string(response.exit));
  md.emplace_back("imprecise-depth", std::to_string(response.depth));
  md.emplace_back("imprecise-prediction", std::to_string(response.prediction));
  md.emplace_back("imprecise-queue-us", std::to_string(response.queue_us));
  md.emplace_back("imprecise-run-us", std::to_string(response.run_us));
  md.emplace_back("imprecise-total-us", std::to_string(response.total_us));
  if (!response.output.empty()) {
    std::string shape;
    for (std::int64_t d : response.output_shape) {
      if (!shape.empty()) shape += ',';
      shape += std::to_string(d);
    }
    md.emplace_back("imprecise-shape", shape);
    md.emplace_back("imprecise-logits-bin", fp32_bytes(response.output));
  }
  return md;
}

}  // namespace imprecise::serve
