// The open-loop arrival schedule of `imprecise loadgen`: when each request is sent, to which model, with
// which deadline and which test sample. Fixed before the run, so arrivals never wait for responses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imprecise/sim/scenario.hpp"

namespace imprecise::loadgen {

/// One request to send: `at_ns` after the run's start, answer wanted `deadline_us` after that.
struct PlannedRequest {
  std::int64_t at_ns = 0;
  int model = 0;   ///< index into Schedule::models
  int stream = 0;  ///< index into Schedule::streams
  int sample = 0;  ///< index into the model's test inputs
  std::int64_t deadline_us = 0;
};

struct Schedule {
  std::vector<std::string> models;   ///< model names as served (= pipeline names)
  std::vector<std::string> streams;  ///< one per stream (pattern mode: one per model)
  std::vector<PlannedRequest> requests;  ///< sorted by at_ns
  std::int64_t duration_ns = 0;
  /// Samples each model's requests draw from (sample < this); what load_inputs must provide.
  std::vector<std::size_t> samples_needed;
};

enum class Pattern { periodic, poisson, burst, trace };
/// "periodic" | "poisson" | "burst" | "trace"; throws Error naming --pattern and the known ones otherwise.
Pattern parse_pattern(std::string_view name);
const char* to_string(Pattern pattern);

/// A synthetic load: every model gets one stream of `rate_hz` requests per second (on average).
///   periodic: every 1/rate s from a random phase, each moved uniformly within +-jitter_ms;
///   poisson:  exponential gaps of mean 1/rate s;
///   burst:    `burst_size` requests at once, bursts every burst_size/rate s (mean rate = rate);
///   trace:    the rows of `trace_file` (CSV `time_ms,model`, header optional); `models` is then the
///             trace's models in order of first appearance.
struct PatternOptions {
  Pattern pattern = Pattern::periodic;
  std::vector<std::string> models;
  double rate_hz = 10.0;
  double jitter_ms = 0.0;
  int burst_size = 8;
  std::string trace_file;
  double deadline_ms = 100.0;
  double duration_s = 10.0;
  std::uint64_t seed = 1;
  std::size_t samples = 1000;  ///< test samples per model, used in turn
};
/// Throws Error naming the option (--rate, --duration-s, ...) or the trace's file:line for bad input.
Schedule schedule_from_pattern(const PatternOptions& options);

/// The very jobs the simulator and the in-process edge-server run release for (scenario, load, seed,
/// duration) (sim::plan_jobs): same arrivals, deadlines, streams and test samples.
Schedule schedule_from_scenario(const sim::Scenario& scenario, double load, std::uint64_t seed, double duration_s);

/// The requests of process `index` of `count` (request i goes to i % count), for several loadgen
/// processes sharing one schedule. Throws Error for index outside [0, count).
Schedule shard(const Schedule& schedule, int index, int count);

}  // namespace imprecise::loadgen
