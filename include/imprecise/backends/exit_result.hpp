// ExitResult and ConfidenceMeasure: what an exit head yields, whichever backend computed it.
#pragma once

#include <cstdint>
#include <span>
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

/// The exit head a stage's exit is answered with (fixed when the stage is compiled).
struct ExitHead {
  ConfidenceMeasure measure = ConfidenceMeasure::max_prob;
  float temperature = 1.0f;  ///< > 0: the softmax is of logits / temperature
  /// Let a backend that has its own exit head (cuda: the fused kernel, in the stage's CUDA graph)
  /// answer on its device. false, or a backend without one: the host computes the answer from the
  /// exit logits with post_process (multi_exit_model.hpp), the one host rule.
  bool on_device = true;
};

/// The exit head's answers a backend computed itself during the last CompiledStage::run, rows
/// [0, batch): what post_process would give for each row of the exit logits run() returned.
struct ExitAnswers {
  std::int64_t batch = 0;
  std::int64_t classes = 0;
  std::span<const float> probabilities;  ///< [batch * classes], row-major
  std::span<const int> prediction;       ///< [batch]
  std::span<const float> confidence;     ///< [batch]
};

}  // namespace imprecise::nn
