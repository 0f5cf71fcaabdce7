// Calibration: from a model's outputs on a held-out split to what the scheduler needs — per-exit
// temperatures, the confidence-binned utility tables R(l | k, c) and the per-sample replay set.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "imprecise/data/evaluation.hpp"
#include "imprecise/sim/replay.hpp"
#include "imprecise/core/utility.hpp"

namespace imprecise::data {

/// The temperature T > 0 minimising the negative log-likelihood of softmax(logits / T) over the
/// samples (rows of `classes` logits; labels[i] in [0, classes)). Golden-section search on log T.
double fit_temperature(std::span<const float> logits, int classes, std::span<const int> labels);

/// Replay records (samples x exits) recomputed with max-prob confidence from `evaluation.logits`
/// (needs EvaluationOptions::keep_logits) after dividing exit k's logits by temperatures[k].
std::vector<ExitRecord> records_with_temperatures(const Evaluation& evaluation, std::span<const int> classes,
                                                  std::span<const int> labels, std::span<const double> temperatures);

struct Calibration {
  std::vector<double> temperatures;  ///< per exit (all 1 when not fitted)
  std::vector<double> ece_raw;       ///< per exit, confidences as the model gives them
  std::vector<double> ece;           ///< per exit, after temperature scaling (== ece_raw when not fitted)
  sim::ReplaySet replay;             ///< the calibration split's records (after scaling)
  UtilityModel utility;              ///< tables built from `replay`
};

struct CalibrationOptions {
  bool temperature_scaling = true;  ///< fit one temperature per exit (needs keep_logits)
  int bins = 10;                    ///< confidence bins of the utility tables
  BinSpacing spacing = kDefaultBinSpacing;  ///< how the bins cut [0, 1] (equal mass: edges per exit)
  int ece_bins = 15;
};

/// Builds the calibration of a model from its evaluation on the calibration split.
Calibration calibrate(const Evaluation& evaluation, std::span<const int> classes, std::span<const int> labels,
                      const CalibrationOptions& options = {});

/// {"exits": L, "bins": B, "temperatures": [...], "ece_raw": [...], "ece": [...], "prior": [...],
///  "table": [...]} — the table laid out [k-1][bin][l-1] as UtilityModel stores it.
nlohmann::json to_json(const Calibration& calibration);

/// Reads a calibration file written by `imprecise profile` (models/<p>.calibration.json, the to_json
/// form above): temperatures, ECEs and the utility tables; `replay` stays empty. The shipped models'
/// calibration goes straight into the scheduler's Model (nn::describe) and the temperatures into
/// nn::MultiExitModel::Options. A closed format: a missing file, a missing or malformed field and an
/// unknown key all throw Error naming the file and the field.
Calibration load_calibration(const std::string& path);

}  // namespace imprecise::data
