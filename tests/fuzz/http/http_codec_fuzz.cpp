// libFuzzer target for the v2 REST request decoder: any bytes as a POST body, with or without the
// binary tensor data extension's Inference-Header-Content-Length. An input that starts with '#' carries
// that header's value up to the first newline, then the body. Decoding never throws and always ends in a
// status; a refusal names a field; the response encoder and the error body take whatever the decoder let
// through (ids, messages quoting the input) without failing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "http_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace imprecise::serve;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::optional<std::string_view> header;
  if (!body.empty() && body.front() == '#') {
    const auto newline = body.find('\n');
    header = body.substr(1, newline == std::string_view::npos ? body.size() - 1 : newline - 1);
    body = newline == std::string_view::npos ? std::string_view{} : body.substr(newline + 1);
  }
  InferRequest request;
  OutputEncoding output = OutputEncoding::json;
  const Status status = decode_infer_body(body, header, "model", "", request, output);
  if (status.code == StatusCode::internal) std::abort();  // an exception escaped the checks: a bug
  if (!status.ok()) {
    if (status.code != StatusCode::invalid_argument || status.message.empty()) std::abort();
    (void)error_json(status.message);  // messages quote (truncated) input: must stay encodable
    return 0;
  }
  // What was accepted is consistent: every input's values fill its shape.
  for (const InferInput& input : request.inputs) {
    std::size_t elements = 1;
    for (const auto d : input.shape) elements *= static_cast<std::size_t>(d);
    if (input.values.size() != elements || input.datatype != "FP32") std::abort();
  }
  InferResponse response;
  response.model = request.model;
  response.id = request.id;
  response.outcome_known = true;
  if (!request.inputs.empty()) {
    response.output = request.inputs.front().values;
    response.output_shape = {1, static_cast<std::int64_t>(response.output.size())};
  }
  const EncodedBody encoded = encode_infer_body(response, output);
  // Binary output: exactly the logits' bytes after the JSON.
  if (encoded.has_binary() != (output == OutputEncoding::binary && !response.output.empty())) std::abort();
  if (encoded.body.size() - encoded.json_length != (encoded.has_binary() ? response.output.size() * sizeof(float) : 0))
    std::abort();
  return 0;
}
