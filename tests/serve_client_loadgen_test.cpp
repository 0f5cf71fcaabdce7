// The load generator against a real gRPC server in-process (InferenceService + GrpcServer on port 0, the
// shipped model repository), and an HTTP one on the same service: every pattern sends real test inputs
// open-loop and records each request exactly once; bad options and unknown models fail with errors
// naming them.
#include <gtest/gtest.h>

#include <algorithm>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/loadgen/inputs.hpp"
#include "imprecise/loadgen/report.hpp"
#include "imprecise/loadgen/runner.hpp"
#include "imprecise/loadgen/schedule.hpp"
#include "imprecise/serve/grpc_server.hpp"
#include "imprecise/serve/http_server.hpp"
#include "imprecise/serve/inference_service.hpp"
#include "support/expect_error.hpp"

namespace imprecise::loadgen {
namespace {

using test_support::expect_error;

struct Server {
  serve::InferenceService service{data::source_path("model_repository")};
  serve::GrpcServer grpc{service, [] {
                           serve::GrpcServerOptions o;
                           o.port = 0;  // any free port
                           return o;
                         }()};
  serve::HttpServer http{service, [] {
                           serve::HttpServerOptions o;
                           o.port = 0;
                           return o;
                         }()};
  std::string target() const { return "127.0.0.1:" + std::to_string(grpc.port()); }
  std::string http_target() const { return "http://127.0.0.1:" + std::to_string(http.port()); }
};

Server& server() {
  static Server s;
  return s;
}

// A low rate and generous deadlines (the CI machine is a loaded 2-core VM): every request should complete.
PatternOptions low_rate(Pattern pattern) {
  PatternOptions o;
  o.pattern = pattern;
  o.models = {"vision"};
  o.rate_hz = 10.0;
  o.jitter_ms = 5.0;
  o.burst_size = 4;
  o.deadline_ms = 3000.0;
  o.duration_s = 2.0;
  o.samples = 50;
  return o;
}

nlohmann::json run_and_report(const Schedule& schedule, int clients, const std::string& target = server().target()) {
  const auto inputs = load_inputs(schedule.models, schedule.samples_needed, "test", "");
  RunnerOptions options;
  options.target = target;
  options.clients = clients;
  options.http_connections = 3;
  const RunResult result = run_schedule(schedule, inputs, options);
  EXPECT_EQ(result.sent, schedule.requests.size());
  EXPECT_EQ(result.recorded, result.sent) << "every request has exactly one recorded outcome";
  return to_json(schedule, result, {{"test", true}});
}

void expect_report(const nlohmann::json& report, std::size_t requests) {
  EXPECT_TRUE(report.at("all_recorded").get<bool>());
  EXPECT_EQ(report.at("sent").get<std::size_t>(), requests);
  EXPECT_EQ(report.at("requests").size(), requests);
  const auto& total = report.at("total");
  EXPECT_EQ(total.at("requests").get<std::size_t>(), requests);
  for (const char* key : {"accuracy", "miss_ratio", "missed_in_transit", "shed_ratio", "latency_p50_ms", "latency_p99_ms", "throughput_rps",
                          "mean_depth", "send_lag_p99_ms", "wire_p50_ms", "wire_p99_ms"})
    EXPECT_TRUE(total.contains(key)) << key;
  // The server's own time for a request lies inside the client's: what is left is the way there and back.
  const auto columns = report.at("request_columns");
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) - columns.begin());
  };
  for (const auto& row : report.at("requests")) {
    if (row.at(column("outcome")).get<std::string>().empty()) continue;
    const auto server_us = row.at(column("server_us")).get<std::int64_t>();
    EXPECT_GE(server_us, 0);
    EXPECT_LE(server_us, row.at(column("latency_us")).get<std::int64_t>() - row.at(column("send_lag_us")).get<std::int64_t>());
  }
  EXPECT_GT(total.at("wire_p50_ms").get<double>(), 0.0);
  EXPECT_GE(total.at("wire_p99_ms").get<double>(), total.at("wire_p50_ms").get<double>());
  EXPECT_GT(total.at("accuracy").get<double>(), 0.0);
  EXPECT_GT(total.at("latency_p99_ms").get<double>(), 0.0);
  EXPECT_GE(total.at("latency_p99_ms").get<double>(), total.at("latency_p50_ms").get<double>());
  EXPECT_GT(total.at("throughput_rps").get<double>(), 0.0);
  EXPECT_EQ(report.at("streams").size(), report.at("stream_names").size());
  EXPECT_NE(summary_line(report).find("recorded"), std::string::npos);
}

TEST(Loadgen, EachSyntheticPatternRecordsEveryRequestOnce) {
  for (Pattern pattern : {Pattern::periodic, Pattern::poisson, Pattern::burst}) {
    SCOPED_TRACE(to_string(pattern));
    const Schedule schedule = schedule_from_pattern(low_rate(pattern));
    ASSERT_GT(schedule.requests.size(), 5u);
    expect_report(run_and_report(schedule, 2), schedule.requests.size());
  }
}

TEST(Loadgen, BurstsArriveTogetherAtTheMeanRate) {
  const Schedule schedule = schedule_from_pattern(low_rate(Pattern::burst));
  ASSERT_EQ(schedule.requests.size() % 4, 0u);
  for (std::size_t i = 0; i < schedule.requests.size(); i += 4)
    EXPECT_EQ(schedule.requests[i].at_ns, schedule.requests[i + 3].at_ns);
  EXPECT_EQ(schedule.requests.size(), 20u);  // 10/s for 2 s, in bursts of 4 every 0.4 s
}

TEST(Loadgen, TraceReplaysItsRows) {
  const auto path = std::filesystem::temp_directory_path() / "imprecise_loadgen_trace.csv";
  {
    std::ofstream out(path);
    out << "time_ms,model\n0,vision\n100,voice\n150,vision\n400,vision\n";
  }
  PatternOptions o = low_rate(Pattern::trace);
  o.trace_file = path.string();
  const Schedule schedule = schedule_from_pattern(o);
  ASSERT_EQ(schedule.requests.size(), 4u);
  EXPECT_EQ(schedule.models, (std::vector<std::string>{"vision", "voice"}));
  EXPECT_EQ(schedule.requests[2].at_ns, 150'000'000);
  // Voice's test set is generated (not committed): replay the vision rows alone when it is missing.
  Schedule vision_only = schedule;
  vision_only.models = {"vision"};
  vision_only.streams = {"vision"};
  vision_only.samples_needed = {o.samples};
  std::erase_if(vision_only.requests, [](const PlannedRequest& r) { return r.model != 0; });
  expect_report(run_and_report(vision_only, 1), 3);
  std::filesystem::remove(path);
}

TEST(Loadgen, ShardsSplitTheScheduleAndMergeBack) {
  const Schedule schedule = schedule_from_pattern(low_rate(Pattern::periodic));
  const Schedule a = shard(schedule, 0, 2), b = shard(schedule, 1, 2);
  EXPECT_EQ(a.requests.size() + b.requests.size(), schedule.requests.size());
  const nlohmann::json merged = merge_json({run_and_report(a, 1), run_and_report(b, 1)}, {"a.json", "b.json"});
  expect_report(merged, schedule.requests.size());
  expect_error([&] { shard(schedule, 2, 2); }, {"--shard", "2/2"});
}

TEST(Loadgen, AnOkAnswerThatArrivesAfterItsDeadlineIsAMissInTransit) {
  const auto record = [](int code, std::int64_t latency_us, std::string outcome, bool correct) {
    RequestRecord r;
    r.code = code;
    r.latency_us = latency_us;
    r.deadline_us = 10'000;
    r.outcome = std::move(outcome);
    r.label = 1;
    r.prediction = 1;
    r.correct = correct;
    r.answers = 1;
    return r;
  };
  const std::vector<RequestRecord> records{record(0, 9'000, "completed", true), record(0, 10'500, "completed", true),
                                           record(4, 10'100, "", false), record(4, 9'900, "missed", false),
                                           record(8, 100, "rejected", false)};
  const Summary s = summarize("all", records, 1.0);
  EXPECT_EQ(s.requests, 5);
  EXPECT_EQ(s.completed, 1);
  EXPECT_EQ(s.correct, 1);  // the late correct answer does not count
  EXPECT_EQ(s.missed, 3);
  EXPECT_EQ(s.missed_in_transit, 2);
  EXPECT_EQ(s.shed, 1);
}

TEST(Loadgen, TheWireTimeIsTheLatencyLessTheSendLagAndTheServersTime) {
  std::vector<RequestRecord> records(3);
  for (RequestRecord& r : records) {
    r.code = 0;
    r.deadline_us = 50'000;
    r.answers = 1;
    r.outcome = "completed";
  }
  records[0].latency_us = 9'000, records[0].send_lag_us = 500, records[0].server_us = 7'000;  // 1.5 ms
  records[1].latency_us = 4'000, records[1].send_lag_us = 0, records[1].server_us = 3'500;    // 0.5 ms
  records[2].code = 4, records[2].outcome.clear(), records[2].latency_us = 50'100;            // no answer: none
  const Summary s = summarize("all", records, 1.0);
  EXPECT_DOUBLE_EQ(s.wire_p50_ms, 0.5);
  EXPECT_DOUBLE_EQ(s.wire_p99_ms, 1.5);
}

// Files written before the server's time was recorded have 15 columns: they still merge, with no wire time.
TEST(Loadgen, RowsWithoutTheServersTimeStillMergeWithNoWireTime) {
  const nlohmann::json old_row = {0, 0, 3, 1, 0, 100, 9'000, 50'000, 0, "completed", 1, 1, 1, true, 1};
  const nlohmann::json part = {{"setup", {{"load", 1.0}}}, {"models", {"vision"}}, {"stream_names", {"camera"}},
                               {"sent", 1}, {"seconds", 1.0}, {"requests", {old_row}}};
  const nlohmann::json merged = merge_json({part}, {"old.json"});
  EXPECT_EQ(merged.at("total").at("requests").get<int>(), 1);
  EXPECT_EQ(merged.at("total").at("completed").get<int>(), 1);
  EXPECT_EQ(merged.at("total").at("wire_p99_ms").get<double>(), 0.0);
  EXPECT_EQ(merged.at("requests").at(0).at(15).get<std::int64_t>(), -1);  // written back as "none came"
}

TEST(Loadgen, OverHttpWithBinaryTensorsEveryRequestIsRecordedOnce) {
  for (Pattern pattern : {Pattern::periodic, Pattern::burst}) {
    SCOPED_TRACE(to_string(pattern));
    const Schedule schedule = schedule_from_pattern(low_rate(pattern));
    ASSERT_GT(schedule.requests.size(), 5u);
    const nlohmann::json report = run_and_report(schedule, 2, server().http_target());
    expect_report(report, schedule.requests.size());
    EXPECT_GT(report.at("total").at("completed").get<std::size_t>(), 0u);
  }
}

TEST(Loadgen, BadOptionsAreNamed) {
  expect_error([] { parse_pattern("sawtooth"); }, {"--pattern", "sawtooth", "periodic"});
  PatternOptions o = low_rate(Pattern::periodic);
  o.rate_hz = 0.0;
  expect_error([&] { schedule_from_pattern(o); }, {"--rate"});
  o = low_rate(Pattern::periodic);
  o.deadline_ms = -1.0;
  expect_error([&] { schedule_from_pattern(o); }, {"--deadline-ms"});
  o = low_rate(Pattern::trace);
  expect_error([&] { schedule_from_pattern(o); }, {"--trace"});
  o.trace_file = "/nonexistent/trace.csv";
  expect_error([&] { schedule_from_pattern(o); }, {"--trace", "/nonexistent/trace.csv"});
  o = low_rate(Pattern::burst);
  o.burst_size = 0;
  expect_error([&] { schedule_from_pattern(o); }, {"--burst-size"});
}

TEST(Loadgen, UnknownModelIsAClearError) {
  // No pipeline to draw inputs from.
  expect_error([] { load_inputs({"radar"}, {10}, "test", ""); }, {"--model", "radar", "vision"});
  // A pipeline the server does not serve: refused before anything is sent.
  PatternOptions o = low_rate(Pattern::periodic);
  Schedule schedule = schedule_from_pattern(o);
  auto inputs = load_inputs(schedule.models, schedule.samples_needed, "test", "");
  schedule.models = {"radar"};
  RunnerOptions options;
  options.target = server().target();
  expect_error([&] { run_schedule(schedule, inputs, options); }, {"radar", "not served", options.target});
}

TEST(Loadgen, NoServerIsAClearError) {
  const Schedule schedule = schedule_from_pattern(low_rate(Pattern::periodic));
  const auto inputs = load_inputs(schedule.models, schedule.samples_needed, "test", "");
  RunnerOptions options;
  options.target = "127.0.0.1:1";  // nothing listens on port 1
  expect_error([&] { run_schedule(schedule, inputs, options); }, {"--target", "127.0.0.1:1"});
  options.target = "http://127.0.0.1:1";
  expect_error([&] { run_schedule(schedule, inputs, options); }, {"--target", "HTTP", "http://127.0.0.1:1"});
  options.target = "http://127.0.0.1";
  expect_error([&] { run_schedule(schedule, inputs, options); }, {"--target", "http://host:port"});
  options.target = "http://127.0.0.1:1";
  options.http_connections = 0;
  expect_error([&] { run_schedule(schedule, inputs, options); }, {"--http-connections"});
}

}  // namespace
}  // namespace imprecise::loadgen
