// UtilityModel: R(l | k, c), the probability that exit l answers correctly given confidence c seen at exit k.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace imprecise {

/// Per-sample record of one model on one input: the confidence and correctness at every exit.
/// Produced by the profiler from a real model, or by the parametric generator (sim/replay.hpp).
struct ExitRecord {
  float confidence = 0.0f;
  bool correct = false;
};

/// How calibrate() cuts [0, 1] into confidence bins: equal widths, or equal numbers of calibration
/// samples per bin and exit (quantiles), which puts the resolution where the confidences are (the
/// max-softmax mass of a good exit sits in 0.9-1.0).
enum class BinSpacing { equal_width, equal_mass };
/// The one default for scenarios, `imprecise profile` and calibrate() (on the parametric sweep it
/// moved accuracy by at most 0.15 points either way against equal widths).
inline constexpr BinSpacing kDefaultBinSpacing = BinSpacing::equal_mass;

/// Calibration tables built offline from a held-out set. Exits are numbered 1..L (a depth);
/// depth 0 means "no exit finished" and is worth nothing.
class UtilityModel {
 public:
  UtilityModel() = default;
  /// prior[l-1] = R(l); table is laid out [k-1][bin][l-1] (entries with l < k are ignored).
  UtilityModel(int exits, int bins, std::vector<double> prior, std::vector<double> table);
  /// With bin edges: edges[(k-1) * (bins-1) + j] is the upper edge of bin j at exit k (a confidence
  /// c falls in the first bin whose upper edge is > c), non-decreasing per exit, in [0, 1]. Empty
  /// edges mean equal-width bins (what tables without edges, older ones included, always used).
  UtilityModel(int exits, int bins, std::vector<double> prior, std::vector<double> table, std::vector<double> edges);

  /// Builds the tables from per-sample records (samples x exits, row-major) with confidence bins
  /// on [0, 1] of equal width or, with BinSpacing::equal_mass, equal mass per exit. Sparse bins are shrunk toward the exit's marginal so small
  /// calibration sets stay sane. With `monotone_in_depth` (default), each row R(. | k, c) is
  /// fitted to be non-decreasing in depth (isotonic regression): for an anytime network a deeper
  /// exit is no worse on average, and without the fit sampling noise makes planners stop early for
  /// nothing. Pass false for a model that really "overthinks" (deeper exits worse on some inputs).
  static UtilityModel calibrate(int exits, std::span<const ExitRecord> records, int bins = 10,
                                bool monotone_in_depth = true, BinSpacing spacing = kDefaultBinSpacing);

  int exits() const { return exits_; }
  int bins() const { return bins_; }

  /// R(depth) before any stage ran.
  double prior(int depth) const { return depth <= 0 ? 0.0 : prior_[depth - 1]; }
  /// R(depth | observed_exit, confidence); falls back to the prior when nothing was observed.
  double expected(int depth, int observed_exit, double confidence) const {
    return at(row(observed_exit, confidence), depth, observed_exit);
  }
  /// R(depth | ...) read from a row() taken for `observed_exit`: 0 at depth 0; depths below the
  /// observed exit read as the observed exit (its answer is already there).
  static double at(std::span<const double> row, int depth, int observed_exit) {
    return depth <= 0 ? 0.0 : row[static_cast<std::size_t>(std::max(depth, observed_exit) - 1)];
  }
  /// R(. | observed_exit, confidence) for every depth at once (entry depth - 1; the prior when nothing
  /// was observed): one bin lookup for a whole row. Depths below observed_exit read as observed_exit.
  std::span<const double> row(int observed_exit, double confidence) const {
    if (observed_exit <= 0) return prior_;
    const std::size_t at = (static_cast<std::size_t>(observed_exit - 1) * bins_ + bin_of(confidence, observed_exit)) * exits_;
    return std::span<const double>(table_).subspan(at, static_cast<std::size_t>(exits_));
  }
  /// Confidence bin of `confidence` seen at exit `exit` (the model's edges, else equal widths on
  /// [0, 1]). Out-of-range values are clamped: below 0 is the lowest bin, above 1 the highest. NaN (a
  /// broken exit, e.g. NaN logits) is the lowest bin: an answer that cannot be trusted counts as the
  /// least confident one, so a planner would rather go deeper.
  int bin_of(double confidence, int exit = 1) const {
    if (confidence != confidence) return 0;  // NaN
    if (!edges_.empty()) {
      const auto first = edges_.begin() + static_cast<std::ptrdiff_t>(exit - 1) * (bins_ - 1);
      return static_cast<int>(std::upper_bound(first, first + (bins_ - 1), confidence) - first);
    }
    if (!(confidence > 0.0)) return 0;  // negative, zero
    if (confidence >= 1.0) return bins_ - 1;
    const int b = static_cast<int>(confidence * bins_);
    return b >= bins_ ? bins_ - 1 : b;
  }
  const std::vector<double>& prior_table() const { return prior_; }
  const std::vector<double>& table() const { return table_; }
  /// Bin edges per exit (see the constructor); empty for equal-width bins.
  const std::vector<double>& edges() const { return edges_; }

 private:
  int exits_ = 0;
  int bins_ = 0;
  std::vector<double> prior_;
  std::vector<double> table_;
  std::vector<double> edges_;
};

/// Least-squares non-decreasing fit of `values`, in place (pool adjacent violators): how calibration keeps
/// "a deeper exit is no worse" when the tables are built with that assumption.
void make_non_decreasing(std::span<double> values);

}  // namespace imprecise
