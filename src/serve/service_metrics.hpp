// ServiceMetrics: the service's Prometheus series (per model: requests, responses by status, outcomes,
// answers per exit, histograms of queue, run and total time), updated lock-free from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "imprecise/runtime/metrics.hpp"
#include "imprecise/sched/control_loop.hpp"
#include "imprecise/serve/inference.hpp"

namespace imprecise::serve {

/// A Prometheus histogram with fixed buckets (seconds), cumulative when written out.
class SecondsHistogram {
 public:
  static constexpr std::array<double, 14> kBounds{50e-6, 100e-6, 250e-6, 500e-6, 1e-3,  2.5e-3, 5e-3,
                                                  10e-3, 25e-3,  50e-3,  100e-3, 250e-3, 1.0,    5.0};
  void record(std::int64_t microseconds);
  /// `name`_bucket{labels,le=...}, _sum and _count lines.
  void write(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::array<std::atomic<std::int64_t>, kBounds.size() + 1> counts_{};  // last: +Inf
  std::atomic<std::int64_t> sum_us_{0};
};

class ServiceMetrics {
 public:
  ServiceMetrics(std::vector<std::string> models, std::vector<int> exits);

  void on_request(int model);  ///< -1: the request named no known model
  void on_response(int model, const InferResponse& response);
  /// Every series, with the engine's own figures (decision time, batches) from `engine` and, when the
  /// engine runs a controller, its settings per model and its last interval from `control`.
  std::string text(const runtime::MetricsObserver& engine, const std::optional<ControlStatus>& control) const;

 private:
  void write_control(std::string& out, const ControlStatus& control) const;

  static constexpr int kCodes = 7;
  static constexpr int kOutcomes = 4;
  struct PerModel {
    std::atomic<std::int64_t> requests{0};
    std::array<std::atomic<std::int64_t>, kCodes> responses{};
    std::array<std::atomic<std::int64_t>, kOutcomes> outcomes{};
    std::unique_ptr<std::atomic<std::int64_t>[]> answers;  // per exit
    int exits = 0;
    SecondsHistogram queue, run, total;
  };
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<PerModel>> models_;
  std::atomic<std::int64_t> unknown_model_requests_{0};
};

}  // namespace imprecise::serve
