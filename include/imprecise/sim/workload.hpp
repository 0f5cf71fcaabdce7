// Workload: arrival streams (poisson, periodic, bursty, trace) with relative deadlines.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
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

/// A time-varying load: a piecewise-linear multiplier of every stream's rate over time, through
/// `points` (time, multiplier), sorted by time, held flat before the first and after the last point.
/// Empty: the rates are constant (and the arrivals are exactly those without a schedule).
struct LoadSchedule {
  std::vector<std::pair<Time, double>> points;

  bool empty() const { return points.empty(); }
  /// The multiplier at `t` (1 when empty).
  double at(Time t) const;
  /// The largest multiplier (1 when empty): arrivals are drawn at this rate, then thinned.
  double peak() const;
};

/// Checks a schedule: points sorted by time (>= 0), multipliers finite and >= 0 with a positive
/// peak; throws Error naming `field` otherwise.
void validate(const LoadSchedule& schedule, const std::string& field);

/// The named shapes over a run of `horizon`:
///   ramp:FROM:TO                     linear from FROM at 0 to TO at the horizon;
///   bursts:BASE:PEAK:PERIOD_S:DUTY   a square wave: PEAK for the first DUTY (0..1) of every
///                                    PERIOD_S seconds, BASE for the rest;
///   points:T_S=L,T_S=L,...           the multiplier L at T_S seconds, linear in between.
/// Throws Error naming the spec and the bad part.
LoadSchedule parse_load_schedule(const std::string& spec, Duration horizon);

/// Thinning (Lewis-Shedler): of arrivals drawn at the schedule's peak rate, the indices of those
/// kept, arrival i with probability at(times[i]) / peak() (a uniform from (seed, i)): a Poisson
/// stream becomes the inhomogeneous Poisson stream of the scheduled rate.
std::vector<std::size_t> thin_by_schedule(std::span<const Time> times, const LoadSchedule& schedule,
                                          std::uint64_t seed);

/// Reads a trace CSV: one arrival time (ms, >= 0) per row in the column "time_ms" (the first
/// column when there is no header). Returned sorted. Errors name path:line:column.
std::vector<Time> load_trace_csv(const std::string& path);

}  // namespace imprecise::sim
