// DecayedHistogram: exponentially decayed quantiles of durations in fixed memory (the online profile's estimator).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "imprecise/core/profile.hpp"

namespace imprecise::runtime::detail {

/// Durations in log-linear bins (HdrHistogram style: exact below 32 ns, then 16 bins per power of two,
/// so a bin is at most 1/16 of its lower edge wide). A sample's weight halves every `half_life` newer
/// samples: new samples get weight growth^n instead of old ones being scaled down, and everything is
/// renormalised once the weight gets large. Quantiles are read by interpolating inside a bin, clamped
/// to the smallest and largest sample ever seen (an estimate never leaves the data). Everything lives in
/// the object: no allocation at all.
class DecayedHistogram {
 public:
  static constexpr int kSubBits = 4;
  static constexpr Duration kTop = Duration{1} << 40;  ///< ~18 min: longer times are recorded as kTop - 1
  static constexpr std::size_t kBins = (1u << kSubBits) * (40 - kSubBits + 1);

  explicit DecayedHistogram(int half_life);  ///< throws Error unless half_life >= 1

  /// Records one time, clamped to [1, kTop - 1] (a zero time is a clock tick too coarse, not free work).
  void add(Duration took);
  std::int64_t count() const { return count_; }
  /// Decayed q-quantile (q in [0, 1]) in ns; 0 when empty.
  double quantile(double q) const;
  /// Decayed mean in ns (exact, not from the bins); 0 when empty.
  double mean() const { return total_ > 0 ? weighted_sum_ / total_ : 0.0; }
  /// Exact maximum of the last one to two half-lives of samples.
  Duration recent_max() const { return epoch_max_[0] > epoch_max_[1] ? epoch_max_[0] : epoch_max_[1]; }
  /// mean / p50 / p99 and, as max, the larger of recent_max() and the decayed p99.9, so one outlier is
  /// forgotten within a few half-lives. Monotone: 1 <= p50 <= p99 <= max, mean <= max. Needs count() > 0.
  StageTiming summary() const;

  static std::size_t bin_of(Duration d);
  static Duration lower_edge(std::size_t bin);
  static Duration width(std::size_t bin);

 private:
  void renormalise();

  std::array<double, kBins> mass_{};
  double growth_;        // 2^(1 / half_life)
  double weight_ = 1.0;  // weight of the next sample
  double total_ = 0.0, weighted_sum_ = 0.0;
  std::size_t lo_ = kBins, hi_ = 0;  // bins that may hold mass
  Duration smallest_ = 0, largest_ = 0;
  std::int64_t count_ = 0;
  std::array<Duration, 2> epoch_max_{};  // maxima of the current and the previous epoch of half_life samples
  int epoch_len_, epoch_left_, epoch_ = 0;
};

}  // namespace imprecise::runtime::detail
