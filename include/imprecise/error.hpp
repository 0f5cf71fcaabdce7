// imprecise::Error: thrown for setup errors (bad model, bad config); its message names the file, node or field.
#pragma once

#include <stdexcept>
#include <string>

namespace imprecise {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace imprecise
