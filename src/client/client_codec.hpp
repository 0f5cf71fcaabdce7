// The client's side of the wire: one FP32 input as a ModelInferRequest, and an InferResult read back from
// a response (OK) or from the trailing metadata the imprecise server sends with an error status.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include <grpcpp/support/string_ref.h>

#include "imprecise/client/client.hpp"
#include "inference/grpc_predict_v2.pb.h"

namespace imprecise::client {

/// inputs[0] `input_name`, FP32, `shape`, the values as raw_input_contents[0] (little-endian, as the wire).
inference::ModelInferRequest make_infer_request(const std::string& model, const std::string& input_name,
                                                std::span<const float> input, std::span<const std::int64_t> shape);

/// The logits (raw_output_contents[0], or outputs[0].contents.fp32_contents from servers that send typed
/// contents) and the parameters exit, depth, prediction, outcome, queue_us, run_us, total_us.
void read_response(const inference::ModelInferResponse& response, InferResult& result);

/// The same from the `imprecise-*` trailing metadata of a non-OK call (absent keys are left as they are).
void read_trailing_metadata(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, InferResult& result);

}  // namespace imprecise::client
