// check_stage_inputs: the one check every backend makes of the tensors handed to a stage.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <span>

#include "imprecise/error.hpp"
#include "imprecise/graph/tensor.hpp"

namespace imprecise::nn {

/// Checks the inputs handed to a stage: their count, each one's shape against the stage's (the batch
/// axis free), and that they agree on a batch size in [1, max_batch]; returns that batch size. Throws
/// Error naming `source`, the stage and the input. `shape_of(i)` and `name_of(i)` describe the stage's
/// i-th input (backends keep them in different structures).
template <class ShapeOf, class NameOf>
std::int64_t check_stage_inputs(std::span<const Tensor* const> inputs, std::size_t expected, ShapeOf shape_of,
                                NameOf name_of, const std::string& source, int stage, int max_batch) {
  if (inputs.size() != expected)
    throw Error(fmt::format("{}: stage {} takes {} inputs, given {}", source, stage, expected, inputs.size()));
  std::int64_t batch = -1;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Shape& want = shape_of(i);
    const Shape& have = inputs[i]->shape();
    bool ok = have.size() == want.size() && !have.empty() && inputs[i]->size() == element_count(have);
    for (std::size_t d = 1; ok && d < want.size(); ++d) ok = have[d] == want[d];
    if (!ok)
      throw Error(fmt::format("{}: stage {}: input '{}' has shape {}, expected {}", source, stage, name_of(i),
                              to_string(have), to_string(want)));
    if (batch >= 0 && have[0] != batch)
      throw Error(fmt::format("{}: stage {}: inputs disagree on the batch size ({} and {})", source, stage, batch,
                              have[0]));
    batch = have[0];
  }
  if (batch < 1 || batch > max_batch)
    throw Error(fmt::format("{}: stage {}: batch {} outside [1, {}]", source, stage, batch, max_batch));
  return batch;
}

}  // namespace imprecise::nn
