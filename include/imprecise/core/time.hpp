// Time on the scheduler's clock: integer nanoseconds, so plans and simulations are exact and reproducible.
#pragma once

#include <cstdint>
#include <limits>

namespace imprecise {

using Time = std::int64_t;      ///< absolute instant, nanoseconds since the clock's origin
using Duration = std::int64_t;  ///< span of time, nanoseconds

inline constexpr Time kNever = std::numeric_limits<Time>::max();

constexpr Duration from_ms(double ms) { return static_cast<Duration>(ms * 1e6 + (ms >= 0 ? 0.5 : -0.5)); }
constexpr Duration from_us(double us) { return static_cast<Duration>(us * 1e3 + (us >= 0 ? 0.5 : -0.5)); }
constexpr Duration from_seconds(double s) { return from_ms(s * 1e3); }
constexpr double to_ms(Duration d) { return static_cast<double>(d) / 1e6; }
constexpr double to_us(Duration d) { return static_cast<double>(d) / 1e3; }
constexpr double to_seconds(Duration d) { return static_cast<double>(d) / 1e9; }

}  // namespace imprecise
