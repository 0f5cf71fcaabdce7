// The HTTP client's side of the wire, pure functions (unit-tested): one FP32 input as a v2 request with
// its bytes after the JSON, and an InferResult read back from whatever the server answered.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "imprecise/client/client.hpp"

namespace imprecise::client {

/// The gRPC status codes InferResult::code takes, as the HTTP client produces them.
namespace grpc_code {
inline constexpr int ok = 0, unknown = 2, invalid_argument = 3, deadline_exceeded = 4, not_found = 5,
                     resource_exhausted = 8, internal = 13, unavailable = 14, unauthenticated = 16;
}  // namespace grpc_code

struct HttpInferBody {
  std::string body;         ///< JSON, then the input's little-endian FP32 bytes
  std::size_t json_length;  ///< for the Inference-Header-Content-Length header
};

/// inputs[0] `input_name`, FP32, `shape`, its bytes after the JSON; the logits asked back as binary;
/// `deadline` as the `deadline_us` parameter (at least 1 us).
HttpInferBody make_http_infer_body(const std::string& input_name, std::span<const float> input,
                                   std::span<const std::int64_t> shape, std::chrono::microseconds deadline);

/// The InferResult of an HTTP answer: the status mapped to the gRPC code space, the server's
/// {"error": ...} as the message, the parameters (exit, depth, prediction, outcome, queue_us, run_us,
/// total_us) and the logits, from the bytes after the JSON (`json_length`, the response's
/// Inference-Header-Content-Length) or from JSON "data". A body it cannot read gives code 13 (INTERNAL)
/// and says why.
InferResult read_http_answer(int http_status, std::string_view body, std::optional<std::size_t> json_length);

/// 200 -> 0, 400 -> 3, 401 -> 16, 404 -> 5, 429 -> 8, 500 -> 13, 503 -> 14, 504 -> 4; others -> 2 (UNKNOWN).
int grpc_code_of_http_status(int http_status);

}  // namespace imprecise::client
