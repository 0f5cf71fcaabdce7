// Reproducible random numbers for the simulator: splitmix64 hashing and hand-written variates.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace imprecise::sim {

/// splitmix64 finalizer: a cheap, high-quality 64-bit mix. Used to derive independent seeds from
/// tuples such as (seed, stream) or (seed, model, stage, job, batch) — the basis of common random
/// numbers across policies.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Hash of a tuple of integers, order-sensitive.
constexpr std::uint64_t hash_of(std::initializer_list<std::uint64_t> parts) {
  std::uint64_t h = 0x243f6a8885a308d3ULL;
  for (std::uint64_t p : parts) h = mix64(h ^ mix64(p));
  return h;
}

/// Uniform in (0, 1) from the top 53 bits; never exactly 0 or 1 (safe for log and inverse CDFs).
constexpr double unit_open(std::uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
/// Written out instead of std::normal_distribution so results do not depend on the standard library.
inline double normal_quantile(double p) {
  constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                          1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                          6.680131188771972e+01,  -1.328068155288572e+01};
  constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                          -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                          3.754408661907416e+00};
  constexpr double low = 0.02425;
  if (p <= 0.0) return -40.0;
  if (p >= 1.0) return 40.0;
  if (p < low) {
    const double q = std::sqrt(-2.0 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  if (p > 1.0 - low) {
    const double q = std::sqrt(-2.0 * std::log(1.0 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}
/// Standard normal CDF.
inline double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

/// splitmix64 stream generator with the few variates the simulator needs.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64() {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return unit_open(next_u64()); }                          ///< (0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }  ///< (lo, hi)
  double exponential(double rate) { return -std::log(uniform()) / rate; }     ///< mean 1/rate
  double normal() { return normal_quantile(uniform()); }                      ///< N(0, 1)
  /// Uniform integer in [0, n), n > 0 (modulo bias negligible for n << 2^64).
  std::uint64_t below(std::uint64_t n) { return next_u64() % n; }

 private:
  std::uint64_t state_;
};

}  // namespace imprecise::sim
