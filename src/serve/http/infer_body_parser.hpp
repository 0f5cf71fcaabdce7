// The v2 inference body parsed in one pass (nlohmann's SAX interface): a JSON document for the small
// parts, while each input's "data" goes straight into floats. A DOM would hold 16-32 bytes per number;
// this holds 4, so the body size limit bounds memory at about twice the body.
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "imprecise/serve/inference.hpp"

namespace imprecise::serve {

/// Nesting deeper than this is refused (a bound on the parser's work).
inline constexpr int kMaxJsonDepth = 32;

/// The "data" of inputs[i], read in row-major order (flat or nested arrays, or one number).
struct InputData {
  bool present = false;
  std::vector<float> values;
  /// The first element that is not a number or is beyond FP32, naming "inputs[i].data[k]".
  Status status;
};

struct ParsedInferBody {
  nlohmann::json document;  ///< the body, with each inputs[i].data left as null
  std::vector<InputData> data;  ///< by input index
};

/// Parses `body`; invalid_argument naming the byte where parsing stopped (malformed, truncated, a number
/// beyond a double) or the nesting limit.
Status parse_infer_body(std::string_view body, ParsedInferBody& parsed);

}  // namespace imprecise::serve
