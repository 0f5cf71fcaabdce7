// The protocol-neutral request and response of the inference service: what the gRPC and HTTP front
// ends (KServe Open Inference Protocol v2) decode into and encode from.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imprecise/core/outcome.hpp"

namespace imprecise::serve {

using Clock = std::chrono::steady_clock;

/// How a request ended on the wire. Each front end maps it once (grpc_status / http_status).
enum class StatusCode {
  ok,                  ///< answered (completed)
  invalid_argument,    ///< malformed request; the message names the field
  not_found,           ///< unknown model or version
  deadline_exceeded,   ///< missed: the mandatory part did not finish in time (best answer attached if any)
  resource_exhausted,  ///< refused at admission or shed under overload (queue full)
  unavailable,         ///< not accepting: shutting down
  internal,            ///< a stage failed
};
const char* to_string(StatusCode code);
/// 200, 400, 404, 504, 429, 503, 500.
int http_status(StatusCode code);

struct Status {
  StatusCode code = StatusCode::ok;
  std::string message;
  bool ok() const { return code == StatusCode::ok; }
};

/// One input tensor, decoded: the service takes FP32 only (the models' datatype).
struct InferInput {
  std::string name;
  std::string datatype;  ///< as sent ("FP32"); anything else is refused naming the field
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

struct InferRequest {
  std::string model;
  std::string version;  ///< empty: the model's only version
  std::string id;       ///< echoed back
  std::vector<InferInput> inputs;  ///< exactly one, batch 1: [1, sample...] or the sample shape
  /// The transport's deadline (the gRPC call's own); empty when the client set none. One further away
  /// than ServiceConfig::max_deadline counts as none.
  std::optional<Clock::time_point> deadline;
  /// Relative deadlines from request parameters, in microseconds, as sent: `deadline_us` (ours) and
  /// `timeout_us` (Triton's `timeout`). The service refuses one <= 0 or beyond max_deadline, naming its
  /// parameter.
  std::optional<std::int64_t> deadline_us;
  std::optional<std::int64_t> timeout_us;
  /// The service plans for the earliest of the three, less ServiceConfig::network_margin; with none,
  /// the model's default deadline from arrival.
};

/// The answer: the answering exit's logits as the output tensor, plus what happened.
struct InferResponse {
  Status status;
  std::string model, version, id;
  std::string output_name = "logits";
  std::vector<std::int64_t> output_shape;  ///< [1, classes]; empty with no answer
  std::vector<float> output;               ///< the answering exit's logits; empty with no answer
  bool outcome_known = false;  ///< false: refused before reaching the engine (bad input, unknown model, ...)
  OutcomeStatus outcome = OutcomeStatus::failed;  ///< the engine's outcome, when outcome_known
  int exit = 0;        ///< 1-based exit that answered (0: none)
  int depth = 0;       ///< stages finished
  int prediction = -1;
  std::string label;   ///< the prediction's label, when the model has labels
  double confidence = 0.0;
  std::int64_t queue_us = 0;  ///< arrival to first stage
  std::int64_t run_us = 0;    ///< time its stages ran
  std::int64_t total_us = 0;  ///< arrival to answer
};

/// Checks a datatype + shape + byte count and converts little-endian FP32 bytes (gRPC
/// raw_input_contents) to floats. `field` names the input in errors ("inputs[0]"). Returns
/// invalid_argument naming the field on a mismatch.
Status decode_raw_fp32(std::string_view field, std::string_view datatype, std::span<const std::int64_t> shape,
                       std::string_view bytes, std::vector<float>& values);

}  // namespace imprecise::serve
