// format_number(): its own file so that programs sharing control_options.cpp (examples/edge_server)
// link it without the CLI's main.
#include <charconv>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "cli_common.hpp"

namespace imprecise::cli {

std::string format_number(double value) {
  char buffer[64];
  const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, ptr) : fmt::format("{}", value);
}

}  // namespace imprecise::cli
