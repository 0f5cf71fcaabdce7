// v2 REST/JSON request decoding and response encoding (nlohmann::json), every refusal naming its field.
#include "http_codec.hpp"

#include <algorithm>
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

Status read_input(const json& input, std::size_t index, InputData* data, InferInput& out) {
  const std::string where = fmt::format("inputs[{}].", index);
  if (!input.is_object()) return invalid(fmt::format("inputs[{}]: an object expected, {} sent", index, type_of(input)));
  if (Status s = check_keys(input, {"name", "shape", "datatype", "data", "parameters"}, where); !s.ok()) return s;
  if (Status s = read_string(input, "name", where, true, out.name); !s.ok()) return s;
  if (Status s = read_string(input, "datatype", where, true, out.datatype); !s.ok()) return s;
  std::int64_t elements = 0;
  if (Status s = read_shape(input, where, out.shape, elements); !s.ok()) return s;
  if (const auto p = input.find("parameters"); p != input.end()) {
    if (!p->is_object()) return invalid(fmt::format("{}parameters: an object expected, {} sent", where, type_of(*p)));
    if (p->contains("binary_data_size"))
      return invalid(fmt::format("{}parameters.binary_data_size: the binary tensor extension is not supported; "
                                 "send the data as JSON numbers",
                                 where));
  }
  // The models take FP32 only; checking before the data keeps the message about the datatype.
  if (out.datatype != "FP32")
    return invalid(fmt::format("{}datatype: '{}' is not accepted, the models take FP32", where, out.datatype.substr(0, 40)));
  if (data == nullptr || !data->present) return invalid(fmt::format("{}data: missing", where));
  if (!data->status.ok()) return data->status;
  out.values = std::move(data->values);
  if (static_cast<std::int64_t>(out.values.size()) != elements)
    return invalid(fmt::format("{}data: {} values sent, but shape {} needs {}", where, out.values.size(),
                               input["shape"].dump(), elements));
  return {};
}

Status read_outputs(const json& outputs) {
  if (!outputs.is_array()) return invalid(fmt::format("outputs: an array expected, {} sent", type_of(outputs)));
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::string where = fmt::format("outputs[{}].", i);
    if (!outputs[i].is_object()) return invalid(fmt::format("outputs[{}]: an object expected", i));
    std::string name;
    if (Status s = read_string(outputs[i], "name", where, true, name); !s.ok()) return s;
    // Output parameters (Triton's binary_data, classification) are ignored: the answer is always JSON.
    if (name != "logits")
      return invalid(fmt::format("{}name: '{}' is not an output (the models' one output is 'logits')", where,
                                 name.substr(0, 40)));
  }
  return {};
}

Status decode(std::string_view body, InferRequest& request) {
  ParsedInferBody parsed;
  if (Status s = parse_infer_body(body, parsed); !s.ok()) return s;
  const json& document = parsed.document;
  if (!document.is_object()) return invalid(fmt::format("request body: a JSON object expected, {} sent", type_of(document)));
  if (Status s = check_keys(document, {"id", "parameters", "inputs", "outputs"}, ""); !s.ok()) return s;
  if (Status s = read_string(document, "id", "", false, request.id); !s.ok()) return s;
  if (const auto p = document.find("parameters"); p != document.end()) {
    if (!p->is_object()) return invalid(fmt::format("parameters: an object expected, {} sent", type_of(*p)));
    // Other parameters (Triton's sequence_id, priority, ...) are extensions this server does not use.
    if (Status s = read_deadline(*p, "deadline_us", request.deadline_us); !s.ok()) return s;
    if (Status s = read_deadline(*p, "timeout", request.timeout_us); !s.ok()) return s;
  }
  const auto inputs = document.find("inputs");
  if (inputs == document.end()) return invalid("inputs: missing");
  if (!inputs->is_array()) return invalid(fmt::format("inputs: an array expected, {} sent", type_of(*inputs)));
  for (std::size_t i = 0; i < inputs->size(); ++i) {
    InferInput input;
    InputData* data = i < parsed.data.size() ? &parsed.data[i] : nullptr;
    if (Status s = read_input((*inputs)[i], i, data, input); !s.ok()) return s;
    request.inputs.push_back(std::move(input));
  }
  if (const auto outputs = document.find("outputs"); outputs != document.end())
    if (Status s = read_outputs(*outputs); !s.ok()) return s;
  return {};
}

}  // namespace

Status decode_infer_json(std::string_view body, std::string_view model, std::string_view version,
                         InferRequest& request) {
  request = InferRequest{};
  request.model = model;
  request.version = version;
  try {
    return decode(body, request);
  } catch (const std::exception& e) {  // a bug, not the client's: still one clear answer, never a crash
    return {StatusCode::internal, fmt::format("request body: {}", e.what())};
  }
}

std::string encode_infer_json(const InferResponse& r) {
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
  if (!r.output.empty())
    body["outputs"] = json::array(
        {{{"name", r.output_name}, {"shape", r.output_shape}, {"datatype", "FP32"}, {"data", r.output}}});
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string error_json(std::string_view message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace imprecise::serve
