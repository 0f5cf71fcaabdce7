// Summaries and the JSON of a loadgen run; merging several processes' runs.
#include "imprecise/loadgen/report.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "imprecise/sim/metrics.hpp"

namespace imprecise::loadgen {

namespace {

constexpr int kOk = 0, kDeadlineExceeded = 4, kResourceExhausted = 8, kUnavailable = 14;

double ratio(double num, double den) { return den > 0.0 ? num / den : 0.0; }

nlohmann::json summary_json(const Summary& s) {
  return {{"name", s.name},           {"requests", s.requests},          {"completed", s.completed},
          {"missed", s.missed},       {"missed_in_transit", s.missed_in_transit}, {"shed", s.shed},                  {"failed", s.failed},
          {"correct", s.correct},     {"accuracy", s.accuracy},          {"miss_ratio", s.miss_ratio},
          {"shed_ratio", s.shed_ratio}, {"mean_depth", s.mean_depth},    {"latency_p50_ms", s.latency_p50_ms},
          {"latency_p99_ms", s.latency_p99_ms}, {"throughput_rps", s.throughput_rps},
          {"send_lag_p99_ms", s.send_lag_p99_ms}, {"wire_p50_ms", s.wire_p50_ms}, {"wire_p99_ms", s.wire_p99_ms}};
}

// One request per row: compact arrays, so a merge can recompute every figure.
constexpr const char* kColumns[] = {"model", "stream", "sample", "label", "scheduled_ns", "send_lag_us", "latency_us",
                                    "deadline_us", "code", "outcome", "exit", "depth", "prediction", "correct", "answers",
                                    "server_us"};

nlohmann::json record_row(const RequestRecord& r) {
  return nlohmann::json::array({r.model, r.stream, r.sample, r.label, r.scheduled_ns, r.send_lag_us, r.latency_us,
                                r.deadline_us, r.code, r.outcome, r.exit, r.depth, r.prediction, r.correct, r.answers,
                                r.server_us});
}

RequestRecord record_of(const nlohmann::json& row) {
  RequestRecord r;
  r.model = row.at(0).get<int>();
  r.stream = row.at(1).get<int>();
  r.sample = row.at(2).get<int>();
  r.label = row.at(3).get<int>();
  r.scheduled_ns = row.at(4).get<std::int64_t>();
  r.send_lag_us = row.at(5).get<std::int64_t>();
  r.latency_us = row.at(6).get<std::int64_t>();
  r.deadline_us = row.at(7).get<std::int64_t>();
  r.code = row.at(8).get<int>();
  r.outcome = row.at(9).get<std::string>();
  r.exit = row.at(10).get<int>();
  r.depth = row.at(11).get<int>();
  r.prediction = row.at(12).get<int>();
  r.correct = row.at(13).get<bool>();
  r.answers = row.at(14).get<int>();
  if (row.size() > 15) r.server_us = row.at(15).get<std::int64_t>();  // absent in files from before it was recorded
  return r;
}

nlohmann::json report_json(const std::vector<std::string>& models, const std::vector<std::string>& streams,
                           const std::vector<RequestRecord>& records, std::size_t sent, double seconds,
                           const nlohmann::json& setup) {
  std::size_t recorded = 0;
  for (const RequestRecord& r : records) recorded += r.answers == 1 ? 1 : 0;
  nlohmann::json per_stream = nlohmann::json::array();
  for (std::size_t s = 0; s < streams.size(); ++s)
    per_stream.push_back(summary_json(summarize(streams[s], records, seconds, static_cast<int>(s))));
  nlohmann::json rows = nlohmann::json::array();
  for (const RequestRecord& r : records) rows.push_back(record_row(r));
  return {{"setup", setup},
          {"models", models},
          {"stream_names", streams},
          {"sent", sent},
          {"recorded", recorded},
          {"all_recorded", recorded == sent && sent == records.size()},
          {"seconds", seconds},
          {"total", summary_json(summarize("total", records, seconds))},
          {"streams", per_stream},
          {"request_columns", kColumns},
          {"requests", rows}};
}

}  // namespace

Summary summarize(const std::string& name, const std::vector<RequestRecord>& records, double seconds, int stream) {
  Summary s;
  s.name = name;
  double depth_sum = 0.0;
  std::vector<double> latencies, lags, wire;
  for (const RequestRecord& r : records) {
    if (stream >= 0 && r.stream != stream) continue;
    ++s.requests;
    lags.push_back(static_cast<double>(r.send_lag_us) / 1e3);
    if (r.server_us >= 0 && r.latency_us >= 0)
      wire.push_back(static_cast<double>(r.latency_us - r.send_lag_us - r.server_us) / 1e3);
    // gRPC answers OK when the server finished in time, but the answer may still reach the client after
    // its deadline (the way back): for the client that is a miss, in transit.
    const bool late = r.code == kOk && r.latency_us > r.deadline_us;
    if (r.code == kOk && !late) {
      ++s.completed;
      depth_sum += r.depth;
      latencies.push_back(static_cast<double>(r.latency_us) / 1e3);
      if (r.correct) ++s.correct;
    } else if (r.code == kDeadlineExceeded || late) {
      ++s.missed;
      if (late || r.outcome.empty()) ++s.missed_in_transit;
    } else if (r.code == kResourceExhausted || r.code == kUnavailable) {
      ++s.shed;
    } else {
      ++s.failed;  // includes a request that got no answer at all (code -1)
    }
  }
  const auto n = static_cast<double>(s.requests);
  s.accuracy = ratio(static_cast<double>(s.correct), n);
  s.miss_ratio = ratio(static_cast<double>(s.missed), n);
  s.shed_ratio = ratio(static_cast<double>(s.shed), n);
  s.mean_depth = ratio(depth_sum, static_cast<double>(s.completed));
  s.latency_p50_ms = sim::nearest_rank_percentile(latencies, 0.50);
  s.latency_p99_ms = sim::nearest_rank_percentile(latencies, 0.99);
  s.throughput_rps = ratio(static_cast<double>(s.completed), seconds);
  s.send_lag_p99_ms = sim::nearest_rank_percentile(lags, 0.99);
  s.wire_p50_ms = sim::nearest_rank_percentile(wire, 0.50);
  s.wire_p99_ms = sim::nearest_rank_percentile(wire, 0.99);
  return s;
}

nlohmann::json to_json(const Schedule& schedule, const RunResult& result, const nlohmann::json& setup) {
  return report_json(schedule.models, schedule.streams, result.records, result.sent, result.wall_s, setup);
}

nlohmann::json merge_json(const std::vector<nlohmann::json>& parts, const std::vector<std::string>& names) {
  if (parts.empty()) throw Error("--merge: name at least one loadgen output");
  std::vector<RequestRecord> records;
  std::size_t sent = 0;
  double seconds = 0.0;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const nlohmann::json& part = parts[p];
    const std::string& name = p < names.size() ? names[p] : fmt::format("part {}", p);
    if (!part.contains("requests") || !part.contains("stream_names") || !part.contains("sent"))
      throw Error(fmt::format("{}: not a loadgen output (no requests, stream_names or sent)", name));
    if (part.at("stream_names") != parts.front().at("stream_names") || part.at("models") != parts.front().at("models"))
      throw Error(fmt::format("{}: its models or streams differ from {}'s", name, names.front()));
    for (const auto& row : part.at("requests")) records.push_back(record_of(row));
    sent += part.at("sent").get<std::size_t>();
    seconds = std::max(seconds, part.at("seconds").get<double>());
  }
  nlohmann::json setup = parts.front().at("setup");
  setup["merged_from"] = names;
  return report_json(parts.front().at("models").get<std::vector<std::string>>(),
                     parts.front().at("stream_names").get<std::vector<std::string>>(), records, sent, seconds, setup);
}

std::string summary_line(const nlohmann::json& report) {
  const nlohmann::json& t = report.at("total");
  return fmt::format("loadgen: {} requests ({} recorded) accuracy {:.4f} miss {:.4f} shed {:.4f} p50 {:.2f} ms p99 {:.2f} ms "
                     "throughput {:.1f}/s",
                     report.at("sent").get<std::size_t>(), report.at("recorded").get<std::size_t>(),
                     t.at("accuracy").get<double>(), t.at("miss_ratio").get<double>(), t.at("shed_ratio").get<double>(),
                     t.at("latency_p50_ms").get<double>(), t.at("latency_p99_ms").get<double>(),
                     t.at("throughput_rps").get<double>());
}

}  // namespace imprecise::loadgen
