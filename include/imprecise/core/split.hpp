// split: the one rule for the comma- and colon-separated lists the library reads (ONNX metadata, CSV
// lines of our own generators, load schedules).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imprecise {

/// The parts of `text` between `separator`s, exactly: n separators give n + 1 parts, empty ones
/// included ("" gives one empty part, "a," gives "a" and ""). No quoting, no trimming.
inline std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = text.find(separator, start);
    parts.emplace_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

}  // namespace imprecise
