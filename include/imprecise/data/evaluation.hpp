// Evaluation: runs a multi-exit model over a labelled set, every exit, and measures accuracy,
// calibration (ECE) and stage time — what `imprecise eval` prints and calibration builds on.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/core/utility.hpp"

namespace imprecise::data {

struct ExitEvaluation {
  double accuracy = 0.0;
  double ece = 0.0;            ///< expected calibration error of the exit's confidence
  /// How well the exit's confidence separates its right answers from its wrong ones (confidence_auroc).
  double auroc = 0.0;
  double mean_stage_ms = 0.0;  ///< mean wall time of this exit's stage per batch of Evaluation::batch
};

struct Evaluation {
  std::size_t samples = 0;
  int batch = 0;
  std::vector<ExitEvaluation> exits;
  /// Share of samples that at least one exit gets right (any_exit_accuracy): what `oracle-utility`,
  /// which knows the label, reaches with time to spare by stopping at a right exit.
  double any_exit_accuracy = 0.0;
  /// samples x exits, row-major: the per-sample replay set (confidence, correct at every exit).
  std::vector<ExitRecord> records;
  /// samples x exits x classes when EvaluationOptions::keep_logits, else empty.
  std::vector<float> logits;
};

struct EvaluationOptions {
  int batch = 16;            ///< samples per run_stage call (clamped to the model's max_batch)
  int ece_bins = 15;         ///< equal-width confidence bins of the ECE
  bool keep_logits = false;  ///< keep every exit's logits (temperature scaling needs them)
};

/// Runs every stage of `model` on every sample of `set`. Throws Error when the set's inputs do not
/// fit the model or a label is outside the model's classes.
Evaluation evaluate(nn::MultiExitModel& model, const LabeledSet& set, const EvaluationOptions& options = {});

/// ECE of exit `exit` (1-based) in samples x exits records: sum over equal-width confidence bins of
/// |accuracy - mean confidence| weighted by the bin's share of samples.
double expected_calibration_error(std::span<const ExitRecord> records, int exits, int exit, int bins = 15);

/// Share of the samples (rows of a samples x exits record set) that at least one exit gets right. With
/// time to spare no policy that does not know the label beats the last exit's accuracy, so the ratio
/// of the two bounds what a real policy can reach of the oracle's accuracy at light load.
double any_exit_accuracy(std::span<const ExitRecord> records, int exits);

/// AUROC of exit `exit`'s (1-based) confidence as a score for that exit's correctness: the probability
/// that a random correct sample has a higher confidence than a random wrong one (ties count half).
/// 0.5 = uninformative, 1 = a threshold separates them. NaN when every sample is right or every one wrong.
double confidence_auroc(std::span<const ExitRecord> records, int exits, int exit);

}  // namespace imprecise::data
