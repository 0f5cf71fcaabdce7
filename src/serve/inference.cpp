// Status names, their HTTP codes, and the one decoder of raw FP32 tensor bytes.
#include "imprecise/serve/inference.hpp"

#include <bit>
#include <cstring>
#include <limits>

#include <fmt/core.h>

namespace imprecise::serve {

const char* to_string(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return "OK";
    case StatusCode::invalid_argument: return "INVALID_ARGUMENT";
    case StatusCode::not_found: return "NOT_FOUND";
    case StatusCode::deadline_exceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::resource_exhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::unavailable: return "UNAVAILABLE";
    case StatusCode::internal: return "INTERNAL";
  }
  return "UNKNOWN";
}

int http_status(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return 200;
    case StatusCode::invalid_argument: return 400;
    case StatusCode::not_found: return 404;
    case StatusCode::deadline_exceeded: return 504;  // Gateway Timeout: the answer came too late
    case StatusCode::resource_exhausted: return 429;
    case StatusCode::unavailable: return 503;
    case StatusCode::internal: return 500;
  }
  return 500;
}

Status decode_raw_fp32(std::string_view field, std::string_view datatype, std::span<const std::int64_t> shape,
                       std::string_view bytes, std::vector<float>& values) {
  if (datatype != "FP32")
    return {StatusCode::invalid_argument,
            fmt::format("{}.datatype: '{}' is not accepted, the models take FP32", field, datatype)};
  std::int64_t elements = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0 || (shape[i] > 0 && elements > std::numeric_limits<std::int32_t>::max() / shape[i]))
      return {StatusCode::invalid_argument, fmt::format("{}.shape[{}]: {} is not a valid size", field, i, shape[i])};
    elements *= shape[i];
  }
  const auto expected = static_cast<std::size_t>(elements) * sizeof(float);
  if (bytes.size() != expected)
    return {StatusCode::invalid_argument,
            fmt::format("{}: {} bytes sent, but shape and FP32 need {}", field, bytes.size(), expected)};
  values.resize(static_cast<std::size_t>(elements));
  static_assert(std::endian::native == std::endian::little, "the wire's FP32 is little-endian");
  if (expected > 0) std::memcpy(values.data(), bytes.data(), expected);
  return {};
}

}  // namespace imprecise::serve
