// DecayedHistogram: log-linear bins, growing sample weights, interpolated quantiles.
#include "decayed_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include <fmt/format.h>

#include "imprecise/error.hpp"

namespace imprecise::runtime::detail {

namespace {
constexpr int kSub = 1 << DecayedHistogram::kSubBits;
constexpr double kRenormaliseAt = 0x1p64;  // far from overflow, frequent enough to stay cheap
constexpr double kNegligible = 1e-18;      // mass below this share of the total is dropped on renormalising
}  // namespace

DecayedHistogram::DecayedHistogram(int half_life)
    : growth_(std::exp2(1.0 / std::max(half_life, 1))), epoch_len_(half_life), epoch_left_(half_life) {
  if (half_life < 1) throw Error(fmt::format("decayed histogram: half_life is {}, must be >= 1", half_life));
}

std::size_t DecayedHistogram::bin_of(Duration d) {
  d = std::clamp<Duration>(d, 1, kTop - 1);
  if (d < kSub) return static_cast<std::size_t>(d);
  const int shift = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(d))) - 1 - kSubBits;
  return static_cast<std::size_t>(shift) * kSub + static_cast<std::size_t>(d >> shift);
}

Duration DecayedHistogram::lower_edge(std::size_t bin) {
  const std::size_t shift = bin < 2 * kSub ? 0 : bin / kSub - 1;
  return static_cast<Duration>(bin - shift * kSub) << shift;
}

Duration DecayedHistogram::width(std::size_t bin) { return Duration{1} << (bin < 2 * kSub ? 0 : bin / kSub - 1); }

void DecayedHistogram::add(Duration took) {
  const Duration d = std::clamp<Duration>(took, 1, kTop - 1);
  const std::size_t b = bin_of(d);
  mass_[b] += weight_;
  total_ += weight_;
  weighted_sum_ += weight_ * static_cast<double>(d);
  lo_ = std::min(lo_, b);
  hi_ = std::max(hi_, b);
  smallest_ = count_ == 0 ? d : std::min(smallest_, d);
  largest_ = std::max(largest_, d);
  ++count_;
  epoch_max_[static_cast<std::size_t>(epoch_)] = std::max(epoch_max_[static_cast<std::size_t>(epoch_)], d);
  if (--epoch_left_ == 0) {  // start a new epoch: the recent maximum then covers one to two half-lives
    epoch_ ^= 1;
    epoch_max_[static_cast<std::size_t>(epoch_)] = 0;
    epoch_left_ = epoch_len_;
  }
  weight_ *= growth_;
  if (weight_ > kRenormaliseAt) renormalise();
}

void DecayedHistogram::renormalise() {
  const double scale = 1.0 / weight_;
  const double negligible = total_ * scale * kNegligible;
  total_ = 0.0;
  std::size_t lo = kBins, hi = 0;
  for (std::size_t b = lo_; b <= hi_; ++b) {
    mass_[b] *= scale;
    if (mass_[b] < negligible) mass_[b] = 0.0;  // long forgotten: keeps the scan short and clear of denormals
    if (mass_[b] > 0.0) {
      lo = std::min(lo, b);
      hi = std::max(hi, b);
    }
    total_ += mass_[b];
  }
  lo_ = lo;
  hi_ = hi;
  weighted_sum_ *= scale;
  weight_ = 1.0;
}

double DecayedHistogram::quantile(double q) const {
  if (count_ == 0) return 0.0;
  const double target = std::clamp(q, 0.0, 1.0) * total_;
  double below = 0.0;
  for (std::size_t b = lo_; b <= hi_; ++b) {
    if (mass_[b] <= 0.0) continue;
    if (below + mass_[b] >= target) {  // inside bin b: spread its mass evenly over the bin
      const double frac = (target - below) / mass_[b];
      const double v = static_cast<double>(lower_edge(b)) + frac * static_cast<double>(width(b));
      return std::clamp(v, static_cast<double>(smallest_), static_cast<double>(largest_));
    }
    below += mass_[b];
  }
  return static_cast<double>(largest_);  // rounding left the target just above the summed mass
}

StageTiming DecayedHistogram::summary() const {
  StageTiming t;
  t.p50 = std::max<Duration>(std::llround(quantile(0.50)), 1);
  t.p99 = std::max<Duration>(std::llround(quantile(0.99)), t.p50);
  t.max = std::max({static_cast<Duration>(std::llround(quantile(0.999))), recent_max(), t.p99});
  t.mean = std::clamp<Duration>(std::llround(mean()), 1, t.max);
  return t;
}

}  // namespace imprecise::runtime::detail
