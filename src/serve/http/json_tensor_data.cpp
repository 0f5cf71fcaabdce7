// Flattening of nested JSON tensor data, every element checked and named by its row-major index.
#include "json_tensor_data.hpp"

#include <cmath>
#include <limits>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace imprecise::serve {

namespace {

// Depth is bounded by the parser (kMaxJsonDepth), so recursion is safe here.
Status append(const nlohmann::json& node, std::string_view field, std::vector<float>& values) {
  if (node.is_array()) {
    for (const auto& element : node)
      if (Status s = append(element, field, values); !s.ok()) return s;
    return {};
  }
  const std::size_t index = values.size();
  if (!node.is_number())
    return {StatusCode::invalid_argument,
            fmt::format("{}[{}]: {} is not a number (FP32 data are JSON numbers; JSON has no NaN or Infinity)", field,
                        index, node.dump().substr(0, 40))};
  const double value = node.get<double>();
  if (std::fabs(value) > static_cast<double>(std::numeric_limits<float>::max()))
    return {StatusCode::invalid_argument, fmt::format("{}[{}]: {} is outside the FP32 range", field, index, value)};
  values.push_back(static_cast<float>(value));
  return {};
}

}  // namespace

Status read_fp32_data(const nlohmann::json& data, std::string_view field, std::vector<float>& values) {
  return append(data, field, values);
}

}  // namespace imprecise::serve
