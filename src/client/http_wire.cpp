// Request encoding and answer decoding for HttpClient (nlohmann::json for the JSON parts).
#include "http_wire.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace imprecise::client {

namespace {

using nlohmann::json;

template <class T>
void read_number(const json& parameters, const char* key, T& out) {
  if (const auto it = parameters.find(key); it != parameters.end() && it->is_number()) out = it->get<T>();
}

InferResult unreadable(int http_status, std::string why) {
  InferResult r;
  r.code = grpc_code::internal;
  r.message = fmt::format("HTTP {}: the answer could not be read: {}", http_status, std::move(why));
  return r;
}

}  // namespace

int grpc_code_of_http_status(int http_status) {
  switch (http_status) {
    case 200: return grpc_code::ok;
    case 400: return grpc_code::invalid_argument;
    case 401: return grpc_code::unauthenticated;
    case 404: return grpc_code::not_found;
    case 429: return grpc_code::resource_exhausted;
    case 500: return grpc_code::internal;
    case 503: return grpc_code::unavailable;
    case 504: return grpc_code::deadline_exceeded;
    default: return grpc_code::unknown;
  }
}

HttpInferBody make_http_infer_body(const std::string& input_name, std::span<const float> input,
                                   std::span<const std::int64_t> shape, std::chrono::microseconds deadline) {
  const json head = {
      {"inputs", json::array({{{"name", input_name},
                               {"datatype", "FP32"},
                               {"shape", std::vector<std::int64_t>(shape.begin(), shape.end())},
                               {"parameters", {{"binary_data_size", input.size_bytes()}}}}})},
      {"outputs", json::array({{{"name", "logits"}, {"parameters", {{"binary_data", true}}}}})},
      {"parameters", {{"deadline_us", std::max<std::int64_t>(1, deadline.count())}}}};
  HttpInferBody out;
  out.body = head.dump();
  out.json_length = out.body.size();
  static_assert(std::endian::native == std::endian::little, "the wire's FP32 is little-endian");
  out.body.append(reinterpret_cast<const char*>(input.data()), input.size_bytes());
  return out;
}

InferResult read_http_answer(int http_status, std::string_view body, std::optional<std::size_t> json_length) {
  const std::size_t head_length = json_length.value_or(body.size());
  if (head_length > body.size())
    return unreadable(http_status, fmt::format("Inference-Header-Content-Length {} is past the body's {} bytes",
                                               head_length, body.size()));
  const json answer = json::parse(body.substr(0, head_length), nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object()) return unreadable(http_status, "not a JSON object");
  InferResult r;
  r.code = grpc_code_of_http_status(http_status);
  if (const auto e = answer.find("error"); e != answer.end() && e->is_string()) r.message = e->get<std::string>();
  else if (r.code != 0) r.message = fmt::format("HTTP {}", http_status);
  if (const auto p = answer.find("parameters"); p != answer.end() && p->is_object()) {
    if (const auto o = p->find("outcome"); o != p->end() && o->is_string()) r.outcome = o->get<std::string>();
    read_number(*p, "exit", r.exit);
    read_number(*p, "depth", r.depth);
    read_number(*p, "prediction", r.prediction);
    read_number(*p, "queue_us", r.queue_us);
    read_number(*p, "run_us", r.run_us);
    read_number(*p, "total_us", r.total_us);
  }
  const auto outputs = answer.find("outputs");
  if (outputs == answer.end() || !outputs->is_array() || outputs->empty()) return r;
  const json& tensor = outputs->front();
  try {
    r.shape = tensor.at("shape").get<std::vector<std::int64_t>>();
    if (const auto data = tensor.find("data"); data != tensor.end()) {
      r.logits = data->get<std::vector<float>>();
      return r;
    }
    const auto size = tensor.at("parameters").at("binary_data_size").get<std::size_t>();
    const std::string_view tail = body.substr(head_length);
    if (size != tail.size() || size % sizeof(float) != 0)
      return unreadable(http_status, fmt::format("{} bytes of logits announced, {} sent", size, tail.size()));
    r.logits.resize(size / sizeof(float));
    std::memcpy(r.logits.data(), tail.data(), size);
  } catch (const json::exception& e) {
    return unreadable(http_status, fmt::format("outputs[0]: {}", e.what()));
  }
  return r;
}

}  // namespace imprecise::client
