// ModelControl: the knobs a controller sets per model (BCEdge's batch size and concurrency, plus the batching wait).
#pragma once

#include "imprecise/core/time.hpp"

namespace imprecise {

/// What a Controller (controller.hpp) decides for one model at every control interval; a policy
/// applies it from its next decision on (Policy::set_control). The defaults change nothing.
struct ModelControl {
  /// Largest batch a dispatch of this model may carry; 0: the policy's PolicyConfig::max_batch.
  /// Clamped to the profile's and the host's limit.
  int max_batch = 0;
  /// Hold a batch smaller than max_batch this long after its oldest member arrived, for more jobs
  /// to join (Triton's max queue delay), but never past the latest start that keeps every job the
  /// plan has on time on time. 0: dispatch at once.
  Duration batch_wait = 0;
  /// Lanes this model may occupy at once; 0: all of them.
  int lanes = 0;

  friend bool operator==(const ModelControl&, const ModelControl&) = default;
};

}  // namespace imprecise
