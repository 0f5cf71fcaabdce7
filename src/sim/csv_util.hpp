// Tiny CSV helpers shared by the replay and trace readers (internal to src/sim).
#pragma once

#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "imprecise/error.hpp"

namespace imprecise::sim::detail {

/// Splits one CSV line on commas (no quoting: our files hold numbers and plain names).
inline std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = line.find(',', start);
    std::string_view cell = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t' || cell.back() == '\r')) cell.remove_suffix(1);
    cells.push_back(cell);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

/// Parses a finite double or returns false.
inline bool parse_double(std::string_view text, double& out) {
  if (text.empty()) return false;
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  out = std::strtod(copy.c_str(), &end);
  return errno == 0 && end == copy.c_str() + copy.size() && out == out && out - out == 0.0;
}

[[noreturn]] inline void fail_at(const std::string& path, int line, int column, const std::string& what) {
  throw Error(fmt::format("{}:{}:{}: {}", path, line, column, what));
}

}  // namespace imprecise::sim::detail
