// Reads one series' value out of a Prometheus text exposition, for tests of what the server counts.
#pragma once

#include <string>

namespace imprecise::testing {

/// The value of the line `series value` (series with its labels, exactly as exposed); -1 when absent.
inline double metric_value(const std::string& text, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  const auto at = text.find(needle);
  if (at == std::string::npos) return -1.0;
  return std::stod(text.substr(at + needle.size()));
}

}  // namespace imprecise::testing
