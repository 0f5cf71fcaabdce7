// Workload: arrival streams (poisson, periodic, bursty, trace) with relative deadlines.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imprecise/core/model.hpp"
#include "imprecise/core/time.hpp"

namespace imprecise::sim {

enum class ArrivalKind { poisson, periodic, bursty, trace };

const char* to_string(ArrivalKind kind);
/// "poisson" | "periodic" | "bursty" | "trace"; throws Error naming the value otherwise.
ArrivalKind parse_arrival_kind(const std::string& name);

struct StreamSpec {
  std::string name;
  ModelId model = 0;
  ArrivalKind kind = ArrivalKind::poisson;
  /// Arrivals per second (bursty: during `on` periods). For a trace, its mean rate over the
  /// scenario (filled in by parse_scenario), used only by full_depth_utilization.
  double rate_hz = 0.0;
  Duration jitter = 0;  ///< periodic: each arrival moves uniformly within [-jitter, +jitter]
  Duration on = 0;      ///< bursty: length of a burst
  Duration off = 0;     ///< bursty: gap between bursts
  std::string trace_file;  ///< trace: CSV with a column "time_ms" (header optional), absolute path
  Duration relative_deadline = 0;  ///< deadline = release + this (> 0)
  double weight = 1.0;             ///< reward multiplier of this stream's jobs
};

/// Long-run arrivals per second (bursty: rate_hz * on / (on + off)).
double mean_rate_hz(const StreamSpec& stream);

/// Sorted release times in [0, horizon). `rate_scale` multiplies the rate (a trace is compressed in
/// time by it). Periodic streams start at a random phase in [0, period). Deterministic in `seed`.
/// Throws Error naming the stream and field for a bad spec, or the file for a bad trace.
std::vector<Time> generate_arrivals(const StreamSpec& stream, Duration horizon, double rate_scale,
                                    std::uint64_t seed);

/// Reads a trace CSV: one arrival time (ms, >= 0) per row in the column "time_ms" (the first
/// column when there is no header). Returned sorted. Errors name path:line:column.
std::vector<Time> load_trace_csv(const std::string& path);

}  // namespace imprecise::sim
