// libFuzzer target for the v2 REST request decoder: any bytes as a POST body. Decoding never throws and
// always ends in a status; a refusal names a field; the response encoder and the error body take whatever
// the decoder let through (ids, messages quoting the input) without failing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace imprecise::serve;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  InferRequest request;
  const Status status = decode_infer_json(body, "model", "", request);
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
  (void)encode_infer_json(response);
  return 0;
}
