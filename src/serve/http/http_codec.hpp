// The v2 REST/JSON inference request and response bodies <-> the protocol-neutral InferRequest and
// InferResponse. Pure functions (no server), so they are unit-tested and fuzzed on their own.
#pragma once

#include <string>
#include <string_view>

#include "imprecise/serve/inference.hpp"

namespace imprecise::serve {

/// Decodes a `POST /v2/models/{model}[/versions/{version}]/infer` body:
///   {"id": "...", "parameters": {"deadline_us": N | "timeout": N}, "inputs": [{"name", "shape",
///    "datatype", "data", "parameters"}], "outputs": [{"name": "logits"}]}
/// `data` is flat or nested (row-major) numbers. Returns invalid_argument naming the field on anything
/// malformed (a truncated or malformed body: the byte where parsing stopped); fills `request` on success.
/// Never throws.
Status decode_infer_json(std::string_view body, std::string_view model, std::string_view version,
                         InferRequest& request);

/// The v2 response body: model_name, model_version, id, "parameters" (exit, depth, outcome, prediction,
/// label, confidence, queue_us, run_us, total_us) and the answering exit's logits as "outputs"; a
/// response that is not OK also carries {"error": message} (with the best answer, if any, beside it).
std::string encode_infer_json(const InferResponse& response);

/// {"error": message}: the body of every refused HTTP request.
std::string error_json(std::string_view message);

}  // namespace imprecise::serve
