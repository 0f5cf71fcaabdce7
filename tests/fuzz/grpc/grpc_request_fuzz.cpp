// libFuzzer target: any bytes as a KServe v2 ModelInferRequest through the gRPC codec. The decoder must
// either refuse with invalid_argument naming a field or produce one input whose values match its shape;
// encoding a response from it must not fail either.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "inference/grpc_predict_v2.pb.h"
#include "serve/grpc/grpc_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  inference::ModelInferRequest wire;
  if (!wire.ParseFromArray(data, static_cast<int>(size))) return 0;
  imprecise::serve::InferRequest request;
  const imprecise::serve::Status status = imprecise::serve::decode_infer_request(wire, request);
  if (!status.ok()) {
    // Only ever a client error, always with a message naming what was wrong.
    if (status.code != imprecise::serve::StatusCode::invalid_argument || status.message.empty()) std::abort();
    return 0;
  }
  if (request.inputs.size() != 1 || request.model.empty()) std::abort();
  std::size_t elements = 1;
  for (std::int64_t d : request.inputs[0].shape) {
    if (d < 0) std::abort();
    elements *= static_cast<std::size_t>(d);
  }
  if (request.inputs[0].values.size() != elements) std::abort();

  imprecise::serve::InferResponse response;
  response.model = request.model;
  response.id = request.id;
  response.output_shape = {1, static_cast<std::int64_t>(request.inputs[0].values.size())};
  response.output = request.inputs[0].values;
  response.outcome_known = true;
  inference::ModelInferResponse out;
  imprecise::serve::encode_infer_response(response, out);
  std::string bytes;
  if (!out.SerializeToString(&bytes)) std::abort();
  (void)imprecise::serve::trailing_metadata(response);
  return 0;
}
