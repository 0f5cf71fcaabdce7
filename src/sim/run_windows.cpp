// run_windows(): a whole run's ModelWindow per model, from its jobs and outcomes.
#include "run_windows.hpp"

#include <algorithm>

#include "imprecise/core/nearest_rank.hpp"

namespace imprecise::sim::detail {

std::vector<ModelWindow> run_windows(const Scenario& scenario, std::span<const Job> jobs,
                                     std::span<const Outcome> outcomes, std::span<const DispatchCount> dispatches) {
  const std::size_t models = scenario.models.size();
  std::vector<ModelWindow> w(models);
  std::vector<std::vector<Duration>> latency(models);
  std::vector<double> latency_sum(models, 0.0), slo_sum(models, 0.0);
  for (std::size_t i = 0; i < jobs.size() && i < outcomes.size(); ++i) {
    const Job& job = jobs[i];
    const Outcome& o = outcomes[i];
    const auto m = static_cast<std::size_t>(job.model);
    ModelWindow& win = w[m];
    ++win.arrived;
    ++win.answered;
    slo_sum[m] += static_cast<double>(job.deadline - job.release);
    switch (o.status) {
      case OutcomeStatus::completed:
        ++win.completed;
        if (o.exit > 0) win.expected_correct += scenario.models[m].utility.expected(o.exit, o.exit, o.confidence);
        break;
      case OutcomeStatus::missed: ++win.missed; break;
      case OutcomeStatus::rejected: ++win.rejected; break;
      case OutcomeStatus::failed: ++win.failed; break;
    }
    const Duration l = o.finish - job.release;
    latency[m].push_back(l);
    latency_sum[m] += static_cast<double>(l);
  }
  for (std::size_t m = 0; m < models; ++m) {
    ModelWindow& win = w[m];
    if (win.answered > 0) {
      win.latency_mean = static_cast<Duration>(std::llround(latency_sum[m] / win.answered));
      win.latency_p50 = nearest_rank(latency[m], 0.50);
      win.latency_p99 = nearest_rank(latency[m], 0.99);
    }
    if (win.arrived > 0) win.slo = static_cast<Duration>(std::llround(slo_sum[m] / win.arrived));
    if (m < dispatches.size()) {
      win.dispatches = dispatches[m].count;
      win.mean_batch = dispatches[m].count > 0 ? static_cast<double>(dispatches[m].jobs) / dispatches[m].count : 0.0;
    }
  }
  return w;
}

}  // namespace imprecise::sim::detail
