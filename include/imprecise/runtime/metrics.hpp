// MetricsObserver: live counters and latency histograms of a running Engine, readable from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "imprecise/sched/observer.hpp"

namespace imprecise::runtime {

/// Lock-free log-linear histogram of durations: 8 buckets per power of two, so a percentile is exact
/// below 8 ns and within 12.5% above. record() is wait-free and never allocates.
class LatencyHistogram {
 public:
  void record(Duration value);
  std::int64_t count() const { return count_.load(std::memory_order_relaxed); }
  /// The upper edge of the bucket holding the q-quantile (nearest rank), 0 when empty.
  Duration percentile(double q) const;
  Duration max() const { return max_.load(std::memory_order_relaxed); }

  static constexpr int kBuckets = 8 + 60 * 8;
  static int bucket_of(Duration value);
  static Duration upper_edge(int bucket);

 private:
  std::array<std::atomic<std::int64_t>, kBuckets> buckets_{};
  std::atomic<std::int64_t> count_{0};
  std::atomic<Duration> max_{0};
};

struct MetricsSnapshot {
  std::int64_t admitted = 0;  ///< jobs the dispatcher took in (submitted and not refused at once)
  std::int64_t completed = 0, missed = 0, rejected = 0, failed = 0;
  std::int64_t dropped = 0;   ///< of `rejected`: shed by the policy
  std::int64_t decisions = 0, dispatches = 0;
  std::int64_t stage_jobs = 0;       ///< sum of dispatched batch sizes
  std::int64_t completed_depth = 0;  ///< sum of the answering exit over completed jobs
  std::int64_t profile_updates = 0;
  Duration lane_busy = 0;            ///< total time lanes ran stages, summed over lanes (up to lanes x wall time)
  Duration decision_p50 = 0, decision_p99 = 0;  ///< one Policy::next call
  Duration dispatch_p50 = 0, dispatch_p99 = 0;  ///< submit to first dispatch of a job
  Duration response_p50 = 0, response_p99 = 0;  ///< submit to outcome, completed jobs

  std::int64_t outcomes() const { return completed + missed + rejected + failed; }
  double mean_batch() const { return dispatches ? static_cast<double>(stage_jobs) / static_cast<double>(dispatches) : 0.0; }
  double mean_depth() const { return completed ? static_cast<double>(completed_depth) / static_cast<double>(completed) : 0.0; }
};

class MetricsObserver final : public Observer {
 public:
  MetricsSnapshot snapshot() const;
  const LatencyHistogram& decision_times() const { return decision_; }
  const LatencyHistogram& dispatch_latencies() const { return dispatch_; }
  const LatencyHistogram& response_times() const { return response_; }

  void on_admit(const JobInfo& job, Time now) override;
  void on_decision(Time now, Duration took, DecisionKind kind) override;
  void on_dispatch(int lane, ModelId model, int stage, std::span<const JobInfo> jobs, Time now) override;
  void on_stage_done(int lane, ModelId model, int stage, std::span<const JobInfo> jobs, Time start, Time end,
                     bool failed) override;
  void on_drop(const JobInfo& job, Time now) override;
  void on_outcome(const Outcome& outcome) override;
  void on_profile_update(ModelId model, int stage, int batch, const StageTiming& timing) override;

 private:
  std::atomic<std::int64_t> admitted_{0}, completed_{0}, missed_{0}, rejected_{0}, failed_{0}, dropped_{0};
  std::atomic<std::int64_t> decisions_{0}, dispatches_{0}, stage_jobs_{0}, completed_depth_{0}, profile_updates_{0};
  std::atomic<Duration> lane_busy_{0};
  LatencyHistogram decision_, dispatch_, response_;
};

}  // namespace imprecise::runtime
