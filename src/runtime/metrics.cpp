// MetricsObserver: atomic counters and log-linear histograms fed by the Engine's hooks.
#include "imprecise/runtime/metrics.hpp"

#include <bit>
#include <cmath>

namespace imprecise::runtime {

int LatencyHistogram::bucket_of(Duration value) {
  if (value < 8) return value < 0 ? 0 : static_cast<int>(value);
  const auto v = static_cast<std::uint64_t>(value);
  const int e = static_cast<int>(std::bit_width(v)) - 1;  // >= 3
  const int sub = static_cast<int>((v >> (e - 3)) & 7u);
  const int b = 8 + (e - 3) * 8 + sub;
  return b < kBuckets ? b : kBuckets - 1;
}

Duration LatencyHistogram::upper_edge(int bucket) {
  if (bucket < 8) return bucket;
  const int e = (bucket - 8) / 8 + 3;
  const int sub = (bucket - 8) % 8;
  return static_cast<Duration>((static_cast<std::uint64_t>(8 + sub + 1) << (e - 3)) - 1);
}

void LatencyHistogram::record(Duration value) {
  buckets_[static_cast<std::size_t>(bucket_of(value))].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  Duration seen = max_.load(std::memory_order_relaxed);
  while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

Duration LatencyHistogram::percentile(double q) const {
  std::int64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0;
  const auto rank = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(q * static_cast<double>(total))));
  std::int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[static_cast<std::size_t>(i)].load(std::memory_order_relaxed);
    if (seen >= rank) return std::min(upper_edge(i), max());
  }
  return max();
}

MetricsSnapshot MetricsObserver::snapshot() const {
  MetricsSnapshot s;
  s.admitted = admitted_.load();
  s.completed = completed_.load();
  s.missed = missed_.load();
  s.rejected = rejected_.load();
  s.failed = failed_.load();
  s.dropped = dropped_.load();
  s.decisions = decisions_.load();
  s.dispatches = dispatches_.load();
  s.stage_jobs = stage_jobs_.load();
  s.completed_depth = completed_depth_.load();
  s.profile_updates = profile_updates_.load();
  s.lane_busy = lane_busy_.load();
  s.decision_p50 = decision_.percentile(0.50);
  s.decision_p99 = decision_.percentile(0.99);
  s.dispatch_p50 = dispatch_.percentile(0.50);
  s.dispatch_p99 = dispatch_.percentile(0.99);
  s.response_p50 = response_.percentile(0.50);
  s.response_p99 = response_.percentile(0.99);
  return s;
}

void MetricsObserver::on_admit(const JobInfo&, Time) { admitted_.fetch_add(1, std::memory_order_relaxed); }

void MetricsObserver::on_decision(Time, Duration took, DecisionKind) {
  decisions_.fetch_add(1, std::memory_order_relaxed);
  decision_.record(took);
}

void MetricsObserver::on_dispatch(int, ModelId, int stage, std::span<const JobInfo> jobs, Time now) {
  dispatches_.fetch_add(1, std::memory_order_relaxed);
  stage_jobs_.fetch_add(static_cast<std::int64_t>(jobs.size()), std::memory_order_relaxed);
  if (stage == 0)
    for (const JobInfo& j : jobs) dispatch_.record(now - j.release);
}

void MetricsObserver::on_stage_done(int, ModelId, int, std::span<const JobInfo>, Time start, Time end, bool) {
  lane_busy_.fetch_add(end - start, std::memory_order_relaxed);
}

void MetricsObserver::on_drop(const JobInfo&, Time) { dropped_.fetch_add(1, std::memory_order_relaxed); }

void MetricsObserver::on_outcome(const Outcome& o) {
  switch (o.status) {
    case OutcomeStatus::completed:
      completed_.fetch_add(1, std::memory_order_relaxed);
      completed_depth_.fetch_add(o.exit, std::memory_order_relaxed);
      response_.record(o.finish - o.release);
      break;
    case OutcomeStatus::missed: missed_.fetch_add(1, std::memory_order_relaxed); break;
    case OutcomeStatus::rejected: rejected_.fetch_add(1, std::memory_order_relaxed); break;
    case OutcomeStatus::failed: failed_.fetch_add(1, std::memory_order_relaxed); break;
  }
}

void MetricsObserver::on_profile_update(ModelId, int, int, const StageTiming&) {
  profile_updates_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace imprecise::runtime
