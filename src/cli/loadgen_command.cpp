// `imprecise loadgen`: sends real test inputs to a KServe v2 server (gRPC, or HTTP with binary tensors) on an open-loop schedule (a
// scenario's streams at a load, or one synthetic pattern per model), records every request's outcome and
// reports accuracy, miss and shed ratios, latency and throughput (perf_analyzer's role, with deadlines).
#include "loadgen_command.hpp"

#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/core.h>

#include "imprecise/loadgen/inputs.hpp"
#include "imprecise/loadgen/report.hpp"
#include "imprecise/loadgen/runner.hpp"
#include "imprecise/loadgen/schedule.hpp"
#include "imprecise/sim/scenario.hpp"

namespace imprecise::cli {

namespace {

struct LoadgenOptions {
  loadgen::RunnerOptions runner;
  loadgen::PatternOptions pattern;
  std::string pattern_name = "periodic";
  std::string scenario;
  double load = 1.0;
  std::string shard = "0/1";
  std::string inputs = "test";
  std::string data_dir;
  std::string out;
  std::vector<std::string> merge;
};

void write_report(const nlohmann::json& report, const std::string& path) {
  if (path.empty()) return;
  std::ofstream out(path);
  out << report.dump() << '\n';
  if (!out) throw RuntimeFailure(fmt::format("--out: {}: cannot write", path));
}

std::pair<int, int> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash != std::string::npos) return {std::stoi(text.substr(0, slash)), std::stoi(text.substr(slash + 1))};
  } catch (const std::exception&) {
  }
  throw InputError(fmt::format("--shard: '{}' is not K/N", text));
}

int run_merge(const LoadgenOptions& o) {
  std::vector<nlohmann::json> parts;
  for (const auto& path : o.merge) parts.push_back(read_json_file(path));
  const nlohmann::json report = loadgen::merge_json(parts, o.merge);
  write_report(report, o.out);
  std::printf("%s\n", loadgen::summary_line(report).c_str());
  return report.at("all_recorded").get<bool>() ? kExitOk : kExitRuntime;
}

int run_loadgen(LoadgenOptions& o) {
  if (!o.merge.empty()) return run_merge(o);
  loadgen::Schedule schedule;
  nlohmann::json setup = {{"target", o.runner.target}, {"clients", o.runner.clients}, {"seed", o.pattern.seed},
                          {"duration_s", o.pattern.duration_s}, {"inputs", o.inputs}, {"shard", o.shard},
                          {"protocol", loadgen::is_http_target(o.runner.target) ? "http" : "grpc"}};
  if (loadgen::is_http_target(o.runner.target)) setup["http_connections"] = o.runner.http_connections;
  if (!o.scenario.empty()) {
    const sim::Scenario scenario = sim::load_scenario(o.scenario);
    schedule = loadgen::schedule_from_scenario(scenario, o.load, o.pattern.seed, o.pattern.duration_s);
    setup["scenario"] = o.scenario;
    setup["load"] = o.load;
  } else {
    o.pattern.pattern = loadgen::parse_pattern(o.pattern_name);
    schedule = loadgen::schedule_from_pattern(o.pattern);
    setup.update({{"pattern", o.pattern_name}, {"rate_hz", o.pattern.rate_hz}, {"jitter_ms", o.pattern.jitter_ms},
                  {"burst_size", o.pattern.burst_size}, {"trace", o.pattern.trace_file},
                  {"deadline_ms", o.pattern.deadline_ms}});
  }
  const auto [index, count] = parse_shard(o.shard);
  schedule = loadgen::shard(schedule, index, count);
  const auto inputs = loadgen::load_inputs(schedule.models, schedule.samples_needed, o.inputs, o.data_dir);
  std::fprintf(stderr, "loadgen: %zu requests over %.1f s to %s from %d client thread(s)\n", schedule.requests.size(),
               static_cast<double>(schedule.duration_ns) / 1e9, o.runner.target.c_str(), o.runner.clients);
  const loadgen::RunResult result = loadgen::run_schedule(schedule, inputs, o.runner);
  const nlohmann::json report = loadgen::to_json(schedule, result, setup);
  write_report(report, o.out);
  std::printf("%s\n", loadgen::summary_line(report).c_str());
  if (!report.at("all_recorded").get<bool>())
    throw RuntimeFailure(fmt::format("{} requests sent, {} recorded exactly once", result.sent, result.recorded));
  return kExitOk;
}

}  // namespace

void add_loadgen_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<LoadgenOptions>();
  CLI::App* cmd = app.add_subcommand(
      "loadgen", "open-loop load on a KServe v2 server with real test inputs: accuracy, misses, sheds, latency");
  cmd->add_option("--target", o->runner.target,
                  "host:port of the server's gRPC endpoint, or http://host:port of its HTTP one (binary tensors)")
      ->capture_default_str();
  cmd->add_option("--token", o->runner.token, "sent as 'authorization: Bearer <token>'");
  auto* scenario = cmd->add_option("--scenario", o->scenario,
                                   "replay a scenario's streams (the jobs the in-process edge-server run submits)");
  cmd->add_option("--load", o->load, "with --scenario: offered load (1 = full depth fills the device)")
      ->capture_default_str()
      ->needs(scenario);
  cmd->add_option("--model", o->pattern.models, "model (= pipeline) to load, one stream each; repeat for several")
      ->excludes(scenario);
  cmd->add_option("--pattern", o->pattern_name, "periodic, poisson, burst or trace")->capture_default_str()->excludes(scenario);
  cmd->add_option("--rate", o->pattern.rate_hz, "requests per second per model (mean)")->capture_default_str();
  cmd->add_option("--jitter-ms", o->pattern.jitter_ms, "periodic: each arrival moves within +-this")->capture_default_str();
  cmd->add_option("--burst-size", o->pattern.burst_size, "burst: requests sent at once")->capture_default_str();
  cmd->add_option("--trace", o->pattern.trace_file, "trace: CSV time_ms,model");
  cmd->add_option("--deadline-ms", o->pattern.deadline_ms, "relative deadline of each request")->capture_default_str();
  cmd->add_option("--duration-s", o->pattern.duration_s, "seconds of arrivals")->capture_default_str();
  cmd->add_option("--seed", o->pattern.seed, "arrival and sample seed")->capture_default_str();
  cmd->add_option("--samples", o->pattern.samples, "test samples per model, sent in turn (patterns)")->capture_default_str();
  cmd->add_option("--clients", o->runner.clients, "client threads, each with its own connection")->capture_default_str();
  cmd->add_option("--http-connections", o->runner.http_connections,
                  "HTTP: connections per client thread, one request on each at a time")
      ->capture_default_str();
  cmd->add_option("--shard", o->shard,
                  "K/N: send only requests i with i % N == K (run N processes with the same --start-at-ms, then --merge)")
      ->capture_default_str();
  cmd->add_option("--start-at-ms", o->runner.start_at_unix_ms,
                  "start on the wall clock at this Unix time in ms (several processes, one timeline); 0: now");
  cmd->add_option("--inputs", o->inputs, "split the inputs come from: test or calibration")->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir, "generated data sets (default: $IMPRECISE_DATA_DIR or data/)");
  cmd->add_option("--out", o->out, "results JSON (summary, per stream, every request)");
  cmd->add_option("--merge", o->merge, "no run: merge these loadgen outputs (one per process) into --out")
      ->excludes(scenario);
  cmd->callback([o, &action] { action = [o] { return run_loadgen(*o); }; });
}

}  // namespace imprecise::cli
