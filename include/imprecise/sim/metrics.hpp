// Metrics of one simulation run: per stream and in total; JSON and CSV renderings.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imprecise/core/job.hpp"
#include "imprecise/core/outcome.hpp"

namespace imprecise::sim {

/// The q-quantile of `v` by nearest rank (0 when empty; reorders `v`): imprecise::nearest_rank, the one
/// percentile rule of every report (simulator, real runs, loadgen), so their latency figures compare.
double nearest_rank_percentile(std::vector<double>& v, double q);

struct StreamMetrics {
  std::string name;
  int jobs = 0;
  int completed = 0;
  int missed = 0;
  int rejected = 0;
  int failed = 0;
  int correct = 0;
  double accuracy = 0.0;           ///< correct / jobs: missed, rejected and failed count as wrong
  double weighted_accuracy = 0.0;  ///< sum(weight * correct) / sum(weight)
  double miss_ratio = 0.0;         ///< missed / jobs
  double drop_ratio = 0.0;         ///< rejected / jobs
  double mean_depth = 0.0;         ///< over completed jobs
  double latency_p50_ms = 0.0;     ///< release -> outcome, completed jobs
  double latency_p99_ms = 0.0;
};

struct SimMetrics {
  std::string policy;
  double load = 0.0;
  std::uint64_t seed = 0;
  StreamMetrics total;
  std::vector<StreamMetrics> streams;
  double utilization = 0.0;      ///< busy time / horizon (horizon = max(duration, end of the run))
  double wasted_ms = 0.0;        ///< device time spent on jobs that had already ended
  double decision_p50_us = 0.0;  ///< wall time of one Policy::next() call
  double decision_p99_us = 0.0;
  std::int64_t decisions = 0;    ///< Policy::next() calls
  std::int64_t events = 0;       ///< arrivals, stage completions, expiries and wake-ups processed
  double events_per_second = 0.0;  ///< events / wall time of the run
  /// Planning policies: the largest reward quantum a plan used (0 when none quantized) and how many
  /// plans had it coarsened past the configured delta to bound the DP's size (the (1 - eps) bound
  /// then does not hold for them).
  double delta_used_max = 0.0;
  std::int64_t coarsened_decisions = 0;
};

/// Counts one stream's (or all) jobs; `jobs` and `outcomes` are parallel (outcome i is job i's).
/// `stream` < 0 takes every job.
StreamMetrics summarize_stream(const std::string& name, std::span<const Job> jobs,
                               std::span<const Outcome> outcomes, int stream = -1);

/// Fields that depend on the wall clock (differ between identical runs).
inline constexpr const char* kTimingFields[] = {"decision_p50_us", "decision_p99_us",
                                                 "events_per_second"};

/// Top level: policy, load, seed, the total's fields (jobs, completed, ..., accuracy, miss_ratio,
/// drop_ratio, mean_depth, latency_*), utilization, wasted_ms, decision_p50_us, decision_p99_us,
/// decisions, events, events_per_second, delta_used_max, coarsened_decisions, and "streams": [ {name, jobs, ...}, ... ].
nlohmann::json to_json(const SimMetrics& metrics);
nlohmann::json to_json(const StreamMetrics& metrics);

/// One CSV row per run (the total); the header names the columns, no trailing newline on either.
std::string csv_header();
std::string to_csv_row(const SimMetrics& metrics);

}  // namespace imprecise::sim
