// ExitResult and ConfidenceMeasure: what an exit head yields, whichever backend computed it.
#pragma once

#include <vector>

namespace imprecise::nn {

/// How an exit's confidence is computed from its softmax probabilities p (all lie in [0, 1]):
/// max_prob = max p; margin = top-1 minus top-2; entropy = 1 - H(p) / log(classes).
enum class ConfidenceMeasure { max_prob, margin, entropy };

/// One exit's answer for one job.
struct ExitResult {
  std::vector<float> logits;
  std::vector<float> probabilities;  ///< softmax of logits / T (T: the exit's temperature, default 1)
  int prediction = 0;                ///< argmax (first on ties)
  float confidence = 0.0f;
};

}  // namespace imprecise::nn
