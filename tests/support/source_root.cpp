// Linked into the data tests: models, fixtures and data sets resolve against this source tree (the library
// itself has no build-machine path compiled in).
#include "imprecise/data/pipeline.hpp"

namespace {

const bool kSourceRootSet = [] {
  imprecise::data::set_source_root(IMPRECISE_SOURCE_DIR);
  return true;
}();

}  // namespace
