// The "data" of a v2 JSON input tensor: flat or nested arrays of numbers, read in row-major order.
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "imprecise/serve/inference.hpp"

namespace imprecise::serve {

/// Appends every number of `data` (an array, nested or not, or one number) to `values` as FP32.
/// A non-number element or one outside the FP32 range is refused naming "<field>[i]", i being its
/// row-major index. JSON has no NaN or Infinity literal, so a string such as "NaN" is refused as a
/// non-number too.
Status read_fp32_data(const nlohmann::json& data, std::string_view field, std::vector<float>& values);

}  // namespace imprecise::serve
