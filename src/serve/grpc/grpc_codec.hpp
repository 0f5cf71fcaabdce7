// The gRPC codec: KServe v2 ModelInferRequest -> protocol-neutral InferRequest, and InferResponse ->
// ModelInferResponse (or, for a non-OK status, trailing metadata: gRPC sends no message with an error).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "imprecise/serve/inference.hpp"
#include "inference/grpc_predict_v2.pb.h"

namespace imprecise::serve {

/// Model name, version, id, the one FP32 input (raw_input_contents[0] or inputs[0].contents.fp32_contents,
/// exactly one of them, its count checked against the shape) and the deadline parameters (`deadline_us`,
/// Triton's `timeout`: int64 microseconds, relative; the earlier wins). Other parameters are ignored.
/// Returns invalid_argument naming the field; `request.deadline` (the transport's) is left alone.
Status decode_infer_request(const inference::ModelInferRequest& wire, InferRequest& request);

/// model_name, model_version, id; the answer as one FP32 output ("logits", [1, classes]) in
/// raw_output_contents; parameters exit, depth, outcome, prediction, confidence, queue_us, run_us,
/// total_us and label (when the model has labels).
void encode_infer_response(const InferResponse& response, inference::ModelInferResponse& wire);

/// What a non-OK call carries instead of a message: `imprecise-outcome` (when the engine ran it),
/// `imprecise-exit`, `imprecise-depth`, `imprecise-prediction`, `imprecise-queue-us`, `imprecise-run-us`,
/// `imprecise-total-us`, and with a best finished answer its logits as `imprecise-logits-bin` (raw
/// little-endian FP32; gRPC base64s "-bin" keys itself) and `imprecise-shape` ("1,10").
std::vector<std::pair<std::string, std::string>> trailing_metadata(const InferResponse& response);

}  // namespace imprecise::serve
