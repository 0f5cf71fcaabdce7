// Metrics: per-stream counting, percentiles, and the JSON/CSV renderings the CLI writes.
#include "imprecise/sim/metrics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "imprecise/core/nearest_rank.hpp"

namespace imprecise::sim {
namespace {

double ratio(double num, double den) { return den > 0.0 ? num / den : 0.0; }

}  // namespace

double nearest_rank_percentile(std::vector<double>& v, double q) { return nearest_rank(v, q); }

StreamMetrics summarize_stream(const std::string& name, std::span<const Job> jobs, std::span<const Outcome> outcomes,
                               int stream) {
  StreamMetrics m;
  m.name = name;
  double weight = 0.0, weight_correct = 0.0, depth_sum = 0.0;
  std::vector<double> latencies;
  for (std::size_t i = 0; i < jobs.size() && i < outcomes.size(); ++i) {
    const Job& job = jobs[i];
    if (stream >= 0 && job.stream != stream) continue;
    const Outcome& o = outcomes[i];
    ++m.jobs;
    weight += job.weight;
    switch (o.status) {
      case OutcomeStatus::completed:
        ++m.completed;
        depth_sum += o.depth;
        latencies.push_back(to_ms(o.finish - job.release));
        if (o.correct) {
          ++m.correct;
          weight_correct += job.weight;
        }
        break;
      case OutcomeStatus::missed: ++m.missed; break;
      case OutcomeStatus::rejected: ++m.rejected; break;
      case OutcomeStatus::failed: ++m.failed; break;
    }
  }
  m.accuracy = ratio(m.correct, m.jobs);
  m.weighted_accuracy = ratio(weight_correct, weight);
  m.miss_ratio = ratio(m.missed, m.jobs);
  m.drop_ratio = ratio(m.rejected, m.jobs);
  m.mean_depth = ratio(depth_sum, m.completed);
  m.latency_p50_ms = nearest_rank_percentile(latencies, 0.50);
  m.latency_p99_ms = nearest_rank_percentile(latencies, 0.99);
  return m;
}

nlohmann::json to_json(const StreamMetrics& m) {
  return nlohmann::json{{"name", m.name},
                        {"jobs", m.jobs},
                        {"completed", m.completed},
                        {"missed", m.missed},
                        {"rejected", m.rejected},
                        {"failed", m.failed},
                        {"correct", m.correct},
                        {"accuracy", m.accuracy},
                        {"weighted_accuracy", m.weighted_accuracy},
                        {"miss_ratio", m.miss_ratio},
                        {"drop_ratio", m.drop_ratio},
                        {"mean_depth", m.mean_depth},
                        {"latency_p50_ms", m.latency_p50_ms},
                        {"latency_p99_ms", m.latency_p99_ms}};
}

nlohmann::json to_json(const SimMetrics& m) {
  nlohmann::json j = to_json(m.total);
  j.erase("name");
  j["policy"] = m.policy;
  j["load"] = m.load;
  j["seed"] = m.seed;
  j["utilization"] = m.utilization;
  j["wasted_ms"] = m.wasted_ms;
  j["decision_p50_us"] = m.decision_p50_us;
  j["decision_p99_us"] = m.decision_p99_us;
  j["decisions"] = m.decisions;
  j["events"] = m.events;
  j["events_per_second"] = m.events_per_second;
  j["delta_used_max"] = m.delta_used_max;
  j["coarsened_decisions"] = m.coarsened_decisions;
  nlohmann::json streams = nlohmann::json::array();
  for (const StreamMetrics& s : m.streams) streams.push_back(to_json(s));
  j["streams"] = std::move(streams);
  return j;
}

std::string csv_header() {
  return "policy,load,seed,jobs,completed,missed,rejected,failed,correct,accuracy,weighted_accuracy,"
         "miss_ratio,drop_ratio,mean_depth,latency_p50_ms,latency_p99_ms,utilization,wasted_ms,"
         "decision_p50_us,decision_p99_us,decisions,events,events_per_second";
}

std::string to_csv_row(const SimMetrics& m) {
  const StreamMetrics& t = m.total;
  // Policy names carry no commas or quotes (see policy_names()), so no quoting is needed.
  return fmt::format("{},{:.6g},{},{},{},{},{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.4f},{:.4f},{:.4f},{:.6f},{:.4f},"
                     "{:.3f},{:.3f},{},{},{:.0f}",
                     m.policy, m.load, m.seed, t.jobs, t.completed, t.missed, t.rejected, t.failed, t.correct,
                     t.accuracy, t.weighted_accuracy, t.miss_ratio, t.drop_ratio, t.mean_depth, t.latency_p50_ms,
                     t.latency_p99_ms, m.utilization, m.wasted_ms, m.decision_p50_us, m.decision_p99_us, m.decisions,
                     m.events, m.events_per_second);
}

}  // namespace imprecise::sim
