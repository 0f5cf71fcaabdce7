// loadgen's figures: accuracy, miss and shed ratios, latency percentiles and throughput, per stream and
// in total, with the in-process edge-server run's definitions (sim::summarize_stream).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imprecise/loadgen/runner.hpp"

namespace imprecise::loadgen {

struct Summary {
  std::string name;
  std::size_t requests = 0, completed = 0, missed = 0, shed = 0, failed = 0, correct = 0;
  double accuracy = 0.0;    ///< correct / requests: a miss, shed or failure counts as wrong
  double miss_ratio = 0.0;  ///< DEADLINE_EXCEEDED / requests
  /// Misses that carried no server outcome: the call's deadline expired before the answer reached the
  /// client (the way back took longer than the server's network margin, or the request came too late).
  std::size_t missed_in_transit = 0;
  double shed_ratio = 0.0;  ///< RESOURCE_EXHAUSTED or UNAVAILABLE / requests
  double mean_depth = 0.0;  ///< over completed requests
  double latency_p50_ms = 0.0, latency_p99_ms = 0.0;  ///< arrival to answer, completed requests
  double throughput_rps = 0.0;  ///< completed requests per second of the run
  double send_lag_p99_ms = 0.0; ///< how late the client sent (a loaded client shows here)
  /// The way there and back of answered requests (latency less send lag less the server's own time):
  /// what a network margin has to cover.
  double wire_p50_ms = 0.0, wire_p99_ms = 0.0;
};

/// `stream` < 0: every request.
Summary summarize(const std::string& name, const std::vector<RequestRecord>& records, double seconds, int stream = -1);

/// {"setup", "total", "streams", "sent", "recorded", "requests": [...per request]}.
nlohmann::json to_json(const Schedule& schedule, const RunResult& result, const nlohmann::json& setup);
/// The requests of several loadgen processes' JSON files (their "requests" arrays) as one result, for
/// `imprecise loadgen --merge`. Throws Error naming the file when it is no loadgen output.
nlohmann::json merge_json(const std::vector<nlohmann::json>& parts, const std::vector<std::string>& names);

/// "loadgen: N requests (N recorded) accuracy A miss M shed S p50 X ms p99 Y ms throughput T/s"
std::string summary_line(const nlohmann::json& report);

}  // namespace imprecise::loadgen
