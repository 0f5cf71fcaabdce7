// v2 REST/JSON request decoding and response encoding (nlohmann::json), every refusal naming its field.
#include "http_codec.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "infer_body_parser.hpp"

namespace imprecise::serve {

namespace {

using nlohmann::json;

Status invalid(std::string message) { return {StatusCode::invalid_argument, std::move(message)}; }

std::string type_of(const json& value) { return value.type_name(); }

Status read_string(const json& object, const char* key, std::string_view where, bool required, std::string& out) {
  const auto it = object.find(key);
  if (it == object.end())
    return required ? invalid(fmt::format("{}{}: missing", where, key)) : Status{};
  if (!it->is_string()) return invalid(fmt::format("{}{}: a string expected, {} sent", where, key, type_of(*it)));
  out = it->get<std::string>();
  return {};
}

// Only the documented keys: a typo ("input", "datatyp") is named instead of silently ignored.
Status check_keys(const json& object, std::initializer_list<const char*> known, std::string_view where) {
  for (const auto& [key, value] : object.items()) {
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (!found) {
      std::string list;
      for (const char* k : known) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
      return invalid(fmt::format("{}{}: unknown key (known: {})", where, key.substr(0, 40), list));
    }
  }
  return {};
}

// "deadline_us" (ours) or "timeout" (Triton's), both relative microseconds; the service checks the range
// and takes the earlier when both are given.
Status read_deadline(const json& parameters, const char* key, std::optional<std::int64_t>& us) {
  const auto it = parameters.find(key);
  if (it == parameters.end()) return {};
  const std::string field = fmt::format("parameters.{}", key);
  if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return invalid(fmt::format("{}: {} microseconds is not a deadline", field, value));
    us = static_cast<std::int64_t>(value);
  } else if (it->is_number_integer()) {
    us = it->get<std::int64_t>();  // negative: refused by the service, naming the field
  } else {
    return invalid(fmt::format("{}: an integer number of microseconds expected, {} sent", field, it->dump().substr(0, 40)));
  }
  return {};
}

Status read_shape(const json& input, std::string_view where, std::vector<std::int64_t>& shape, std::int64_t& elements) {
  const auto it = input.find("shape");
  if (it == input.end()) return invalid(fmt::format("{}shape: missing", where));
  if (!it->is_array()) return invalid(fmt::format("{}shape: an array of sizes expected, {} sent", where, type_of(*it)));
  elements = 1;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& d = (*it)[i];
    const bool integer = d.is_number_integer();
    const std::int64_t size = integer ? d.get<std::int64_t>() : -1;
    if (!integer || size < 0 || (size > 0 && elements > std::numeric_limits<std::int32_t>::max() / size))
      return invalid(fmt::format("{}shape[{}]: {} is not a valid size", where, i, d.dump().substr(0, 40)));
    elements *= size;
    shape.push_back(size);
  }
  return {};
}

// Read a boolean parameter (Triton's binary_data, binary_data_output), naming it when it is not one.
Status read_flag(const json& parameters, const char* key, std::string_view where, bool& flag) {
  const auto it = parameters.find(key);
  if (it == parameters.end()) return {};
  if (!it->is_boolean())
    return invalid(fmt::format("{}parameters.{}: true or false expected, {} sent", where, key, it->dump().substr(0, 40)));
  flag = it->get<bool>();
  return {};
}

// The bytes after the JSON (binary tensor data extension), handed to the binary inputs in order.
struct BinaryTail {
  std::string_view bytes;
  bool header_sent = false;
  std::size_t taken = 0;
  std::size_t left() const { return bytes.size() - taken; }
};

Status read_binary_input(const json& size_field, std::string_view where, BinaryTail& tail, InferInput& out) {
  const std::string field = fmt::format("{}parameters.binary_data_size", where);
  if (!size_field.is_number_unsigned())
    return invalid(fmt::format("{}: a byte count expected, {} sent", field, size_field.dump().substr(0, 40)));
  const auto size = size_field.get<std::uint64_t>();
  if (size > tail.left())
    return invalid(fmt::format("{}: {} bytes, but {} bytes of binary data are left after the JSON{}", field, size,
                               tail.left(),
                               tail.header_sent ? "" : fmt::format(" (binary inputs need the {} header: the length of "
                                                                   "the JSON that starts the body)",
                                                                   kInferenceHeaderLength)));
  const std::string_view bytes = tail.bytes.substr(tail.taken, static_cast<std::size_t>(size));
  tail.taken += bytes.size();
  return decode_raw_fp32(field, out.datatype, out.shape, bytes, out.values);
}

Status read_input(const json& input, std::size_t index, InputData* data, BinaryTail& tail, InferInput& out) {
  const std::string where = fmt::format("inputs[{}].", index);
  if (!input.is_object()) return invalid(fmt::format("inputs[{}]: an object expected, {} sent", index, type_of(input)));
  if (Status s = check_keys(input, {"name", "shape", "datatype", "data", "parameters"}, where); !s.ok()) return s;
  if (Status s = read_string(input, "name", where, true, out.name); !s.ok()) return s;
  if (Status s = read_string(input, "datatype", where, true, out.datatype); !s.ok()) return s;
  std::int64_t elements = 0;
  if (Status s = read_shape(input, where, out.shape, elements); !s.ok()) return s;
  const json* binary_size = nullptr;
  if (const auto p = input.find("parameters"); p != input.end()) {
    if (!p->is_object()) return invalid(fmt::format("{}parameters: an object expected, {} sent", where, type_of(*p)));
    if (const auto b = p->find("binary_data_size"); b != p->end()) binary_size = &*b;
  }
  // The models take FP32 only; checking before the data keeps the message about the datatype.
  if (out.datatype != "FP32")
    return invalid(fmt::format("{}datatype: '{}' is not accepted, the models take FP32", where, out.datatype.substr(0, 40)));
  const bool has_data = data != nullptr && data->present;
  if (binary_size != nullptr) {
    if (has_data)
      return invalid(fmt::format("{}data: sent beside parameters.binary_data_size; send the tensor one way", where));
    return read_binary_input(*binary_size, where, tail, out);
  }
  if (!has_data) return invalid(fmt::format("{}data: missing", where));
  if (!data->status.ok()) return data->status;
  out.values = std::move(data->values);
  if (static_cast<std::int64_t>(out.values.size()) != elements)
    return invalid(fmt::format("{}data: {} values sent, but shape {} needs {}", where, out.values.size(),
                               input["shape"].dump(), elements));
  return {};
}

// The one output, "logits"; its binary_data, when given, overrides the request's binary_data_output.
Status read_outputs(const json& outputs, bool& binary) {
  if (!outputs.is_array()) return invalid(fmt::format("outputs: an array expected, {} sent", type_of(outputs)));
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::string where = fmt::format("outputs[{}].", i);
    if (!outputs[i].is_object()) return invalid(fmt::format("outputs[{}]: an object expected", i));
    std::string name;
    if (Status s = read_string(outputs[i], "name", where, true, name); !s.ok()) return s;
    if (name != "logits")
      return invalid(fmt::format("{}name: '{}' is not an output (the models' one output is 'logits')", where,
                                 name.substr(0, 40)));
    // Other output parameters (Triton's classification) are ignored: the answer is always the logits.
    if (const auto p = outputs[i].find("parameters"); p != outputs[i].end()) {
      if (!p->is_object()) return invalid(fmt::format("{}parameters: an object expected, {} sent", where, type_of(*p)));
      if (Status s = read_flag(*p, "binary_data", where, binary); !s.ok()) return s;
    }
  }
  return {};
}

// Inference-Header-Content-Length: decimal digits, at most the body's size.
Status split_body(std::string_view body, std::optional<std::string_view> json_length, std::string_view& json_part,
                  BinaryTail& tail) {
  json_part = body;
  if (!json_length) return {};
  std::size_t length = 0;
  const char* end = json_length->data() + json_length->size();
  const auto [stop, error] = std::from_chars(json_length->data(), end, length);
  if (json_length->empty() || error != std::errc{} || stop != end || length > body.size())
    return invalid(fmt::format("{}: '{}' is not a length within the body's {} bytes", kInferenceHeaderLength,
                               json_length->substr(0, 40), body.size()));
  json_part = body.substr(0, length);
  tail.bytes = body.substr(length);
  tail.header_sent = true;
  return {};
}

Status decode(std::string_view body, std::optional<std::string_view> json_length, InferRequest& request,
              OutputEncoding& output) {
  std::string_view json_part;
  BinaryTail tail;
  if (Status s = split_body(body, json_length, json_part, tail); !s.ok()) return s;
  // nlohmann's reader ends the input at a NUL byte and would ignore whatever follows it.
  if (const auto nul = json_part.find('\0'); nul != std::string_view::npos)
    return invalid(fmt::format("request body: byte {} is NUL, which JSON does not allow{}", nul,
                               tail.header_sent ? "" : fmt::format(" (binary data after the JSON need the {} header)",
                                                                   kInferenceHeaderLength)));
  ParsedInferBody parsed;
  if (Status s = parse_infer_body(json_part, parsed); !s.ok()) return s;
  const json& document = parsed.document;
  if (!document.is_object()) return invalid(fmt::format("request body: a JSON object expected, {} sent", type_of(document)));
  if (Status s = check_keys(document, {"id", "parameters", "inputs", "outputs"}, ""); !s.ok()) return s;
  if (Status s = read_string(document, "id", "", false, request.id); !s.ok()) return s;
  bool binary_output = false;
  if (const auto p = document.find("parameters"); p != document.end()) {
    if (!p->is_object()) return invalid(fmt::format("parameters: an object expected, {} sent", type_of(*p)));
    // Other parameters (Triton's sequence_id, priority, ...) are extensions this server does not use.
    if (Status s = read_deadline(*p, "deadline_us", request.deadline_us); !s.ok()) return s;
    if (Status s = read_deadline(*p, "timeout", request.timeout_us); !s.ok()) return s;
    if (Status s = read_flag(*p, "binary_data_output", "", binary_output); !s.ok()) return s;
  }
  const auto inputs = document.find("inputs");
  if (inputs == document.end()) return invalid("inputs: missing");
  if (!inputs->is_array()) return invalid(fmt::format("inputs: an array expected, {} sent", type_of(*inputs)));
  for (std::size_t i = 0; i < inputs->size(); ++i) {
    InferInput input;
    InputData* data = i < parsed.data.size() ? &parsed.data[i] : nullptr;
    if (Status s = read_input((*inputs)[i], i, data, tail, input); !s.ok()) return s;
    request.inputs.push_back(std::move(input));
  }
  if (tail.left() > 0)
    return invalid(fmt::format("request body: {} bytes after the JSON ({}: {}) that no input's "
                               "parameters.binary_data_size claims",
                               tail.left(), kInferenceHeaderLength, json_part.size()));
  if (const auto outputs = document.find("outputs"); outputs != document.end())
    if (Status s = read_outputs(*outputs, binary_output); !s.ok()) return s;
  output = binary_output ? OutputEncoding::binary : OutputEncoding::json;
  return {};
}

}  // namespace

Status decode_infer_body(std::string_view body, std::optional<std::string_view> json_length, std::string_view model,
                         std::string_view version, InferRequest& request, OutputEncoding& output) {
  request = InferRequest{};
  request.model = model;
  request.version = version;
  output = OutputEncoding::json;
  try {
    return decode(body, json_length, request, output);
  } catch (const std::exception& e) {  // a bug, not the client's: still one clear answer, never a crash
    return {StatusCode::internal, fmt::format("request body: {}", e.what())};
  }
}

Status decode_infer_json(std::string_view body, std::string_view model, std::string_view version,
                         InferRequest& request) {
  OutputEncoding output = OutputEncoding::json;
  return decode_infer_body(body, std::nullopt, model, version, request, output);
}

EncodedBody encode_infer_body(const InferResponse& r, OutputEncoding output) {
  json body = json::object();
  body["model_name"] = r.model;
  if (!r.version.empty()) body["model_version"] = r.version;
  if (!r.id.empty()) body["id"] = r.id;
  if (!r.status.ok()) body["error"] = r.status.message;
  if (r.outcome_known) {
    json parameters = {{"outcome", to_string(r.outcome)},
                       {"status", to_string(r.status.code)},
                       {"exit", r.exit},
                       {"depth", r.depth},
                       {"prediction", r.prediction},
                       {"confidence", r.confidence},
                       {"queue_us", r.queue_us},
                       {"run_us", r.run_us},
                       {"total_us", r.total_us}};
    if (!r.label.empty()) parameters["label"] = r.label;
    body["parameters"] = std::move(parameters);
  }
  const bool binary = output == OutputEncoding::binary && !r.output.empty();
  const std::size_t binary_bytes = binary ? r.output.size() * sizeof(float) : 0;
  if (!r.output.empty()) {
    json tensor = {{"name", r.output_name}, {"shape", r.output_shape}, {"datatype", "FP32"}};
    if (binary) tensor["parameters"] = {{"binary_data_size", binary_bytes}};
    else tensor["data"] = r.output;
    body["outputs"] = json::array({std::move(tensor)});
  }
  EncodedBody encoded;
  encoded.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  encoded.json_length = encoded.body.size();
  if (binary) {
    static_assert(std::endian::native == std::endian::little, "the wire's FP32 is little-endian");
    encoded.body.append(reinterpret_cast<const char*>(r.output.data()), binary_bytes);
  }
  return encoded;
}

std::string encode_infer_json(const InferResponse& r) { return encode_infer_body(r, OutputEncoding::json).body; }

std::string error_json(std::string_view message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace imprecise::serve
