// prepare_error: the message prepare() throws for a hand-built graph ("no error" when it accepts it),
// for the tests that check an importer error names its node.
#pragma once

#include <string>

#include "imprecise/error.hpp"
#include "imprecise/graph/graph.hpp"

namespace imprecise::nn::test_support {

inline std::string prepare_error(Graph g) {
  try {
    prepare(g);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace imprecise::nn::test_support
