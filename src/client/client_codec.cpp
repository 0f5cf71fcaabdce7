// ModelInferRequest building and InferResult reading for imprecise::client.
#include "client_codec.hpp"

#include <charconv>
#include <cstring>
#include <string_view>

namespace imprecise::client {
namespace {

void read_floats(std::string_view bytes, std::vector<float>& values) {
  values.resize(bytes.size() / sizeof(float));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
}

std::int64_t int_parameter(const inference::ModelInferResponse& r, const char* key, std::int64_t fallback) {
  const auto it = r.parameters().find(key);
  if (it == r.parameters().end()) return fallback;
  if (it->second.has_int64_param()) return it->second.int64_param();
  if (it->second.has_uint64_param()) return static_cast<std::int64_t>(it->second.uint64_param());
  return fallback;
}

/// A decimal metadata value; `fallback` when absent or not a number.
std::int64_t int_value(const std::multimap<grpc::string_ref, grpc::string_ref>& md, std::string_view key,
                       std::int64_t fallback) {
  const auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return fallback;
  std::int64_t value = fallback;
  const char* begin = it->second.data();
  const auto [end, error] = std::from_chars(begin, begin + it->second.size(), value);
  return error == std::errc() && end == begin + it->second.size() ? value : fallback;
}

/// The answer's scalar fields, one list for both places the server puts them: response parameters on OK,
/// trailing metadata (`imprecise-<name>`) with an error status. `get(parameter, metadata key, current)`
/// returns the field's value, or `current` when it is absent.
template <class Get>
void read_scalars(InferResult& r, Get get) {
  r.exit = static_cast<int>(get("exit", "imprecise-exit", r.exit));
  r.depth = static_cast<int>(get("depth", "imprecise-depth", r.depth));
  r.prediction = static_cast<int>(get("prediction", "imprecise-prediction", r.prediction));
  r.queue_us = get("queue_us", "imprecise-queue-us", r.queue_us);
  r.run_us = get("run_us", "imprecise-run-us", r.run_us);
  r.total_us = get("total_us", "imprecise-total-us", r.total_us);
}

}  // namespace

inference::ModelInferRequest make_infer_request(const std::string& model, const std::string& input_name,
                                                std::span<const float> input, std::span<const std::int64_t> shape) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  auto* tensor = request.add_inputs();
  tensor->set_name(input_name);
  tensor->set_datatype("FP32");
  for (std::int64_t d : shape) tensor->add_shape(d);
  request.add_raw_input_contents(std::string(reinterpret_cast<const char*>(input.data()), input.size_bytes()));
  return request;
}

void read_response(const inference::ModelInferResponse& response, InferResult& result) {
  if (response.outputs_size() > 0) {
    const auto& out = response.outputs(0);
    result.shape.assign(out.shape().begin(), out.shape().end());
    if (response.raw_output_contents_size() > 0)
      read_floats(response.raw_output_contents(0), result.logits);
    else
      result.logits.assign(out.contents().fp32_contents().begin(), out.contents().fp32_contents().end());
  }
  read_scalars(result, [&](const char* parameter, const char*, std::int64_t current) {
    return int_parameter(response, parameter, current);
  });
  if (const auto it = response.parameters().find("outcome");
      it != response.parameters().end() && it->second.has_string_param())
    result.outcome = it->second.string_param();
}

void read_trailing_metadata(const std::multimap<grpc::string_ref, grpc::string_ref>& md, InferResult& result) {
  if (const auto it = md.find("imprecise-outcome"); it != md.end())
    result.outcome.assign(it->second.data(), it->second.size());
  read_scalars(result, [&](const char*, const char* key, std::int64_t current) { return int_value(md, key, current); });
  if (const auto it = md.find("imprecise-logits-bin"); it != md.end())  // gRPC has undone the base64
    read_floats(std::string_view(it->second.data(), it->second.size()), result.logits);
  if (const auto it = md.find("imprecise-shape"); it != md.end()) {
    result.shape.clear();
    std::string_view text(it->second.data(), it->second.size());
    while (!text.empty()) {
      const std::size_t comma = text.find(',');
      std::int64_t d = 0;
      const std::string_view part = text.substr(0, comma);
      if (std::from_chars(part.data(), part.data() + part.size(), d).ec != std::errc()) break;
      result.shape.push_back(d);
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    }
  }
}

}  // namespace imprecise::client
