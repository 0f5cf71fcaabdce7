// The v2 REST/JSON inference request and response bodies <-> the protocol-neutral InferRequest and
// InferResponse. Pure functions (no server), so they are unit-tested and fuzzed on their own.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "imprecise/serve/inference.hpp"

namespace imprecise::serve {

/// Triton's binary tensor data extension (also KServe's): an input whose "parameters" hold
/// "binary_data_size" sends that many bytes (little-endian FP32, row-major) after the JSON instead of
/// "data", and the header below says where the JSON ends. An output asked for with
/// "parameters": {"binary_data": true} (or every output, with the request's "binary_data_output") comes
/// back the same way.
inline constexpr const char* kInferenceHeaderLength = "Inference-Header-Content-Length";

/// How the answer's output tensor is to be sent.
enum class OutputEncoding { json, binary };

/// Decodes a `POST /v2/models/{model}[/versions/{version}]/infer` body:
///   {"id": "...", "parameters": {"deadline_us": N | "timeout": N, "binary_data_output": B},
///    "inputs": [{"name", "shape", "datatype", "data" | "parameters": {"binary_data_size": N}}],
///    "outputs": [{"name": "logits", "parameters": {"binary_data": B}}]}
/// then, when `json_length` (the Inference-Header-Content-Length header as sent) is given, the binary
/// inputs' bytes in input order after its first `json_length` bytes. `data` is flat or nested
/// (row-major) numbers. Returns invalid_argument naming the field or header on anything malformed (a
/// truncated or malformed body: the byte where parsing stopped); fills `request` and `output` on
/// success. Never throws.
Status decode_infer_body(std::string_view body, std::optional<std::string_view> json_length, std::string_view model,
                         std::string_view version, InferRequest& request, OutputEncoding& output);

/// decode_infer_body for an all-JSON body (no Inference-Header-Content-Length).
Status decode_infer_json(std::string_view body, std::string_view model, std::string_view version,
                         InferRequest& request);

/// An encoded response: the body, and where its JSON ends (the body's size unless binary data follow).
struct EncodedBody {
  std::string body;
  std::size_t json_length = 0;
  bool has_binary() const { return json_length < body.size(); }
};

/// The v2 response body: model_name, model_version, id, "parameters" (exit, depth, outcome, prediction,
/// label, confidence, queue_us, run_us, total_us) and the answering exit's logits as "outputs"; a
/// response that is not OK also carries {"error": message} (with the best answer, if any, beside it).
/// The output as asked: JSON numbers under "data", or, binary, its bytes after the JSON and
/// "parameters": {"binary_data_size": N} in their place.
EncodedBody encode_infer_body(const InferResponse& response, OutputEncoding output);

/// encode_infer_body with the output as JSON numbers.
std::string encode_infer_json(const InferResponse& response);

/// {"error": message}: the body of every refused HTTP request.
std::string error_json(std::string_view message);

}  // namespace imprecise::serve
