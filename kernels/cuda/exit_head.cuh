// The fused exit head: softmax, argmax prediction and confidence of each row of logits in one kernel.
#pragma once

#include <cstdint>

#include "common.cuh"

namespace imprecise::detail {

/// The confidence measures, numbered as nn::ConfidenceMeasure (max_prob, margin, entropy).
enum class ExitMeasure : int { max_prob = 0, margin = 1, entropy = 2 };

/// For each of `rows` rows of `logits` ([rows, classes]): probabilities (softmax), prediction (argmax
/// of the probabilities, first on ties) and confidence (max-prob; top-1 minus top-2; or
/// 1 - H(p)/log(classes) clamped to [0, 1]), computed as nn::post_process does on the host; the
/// softmax is of logits / temperature (temperature scaling, 1 = plain softmax).
void launch_exit_head(const float* logits, float* probabilities, int* prediction, float* confidence,
                      std::int64_t rows, std::int64_t classes, ExitMeasure measure, float temperature,
                      cudaStream_t stream);

}  // namespace imprecise::detail
