// `imprecise simulate`: one simulated run of a policy on a scenario; a human table on stdout, metrics JSON to a file.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "control_options.hpp"
#include "imprecise/error.hpp"
#include "imprecise/sched/policy.hpp"
#include "imprecise/core/profile.hpp"
#include "imprecise/sched/trace_writer.hpp"
#include "imprecise/sim/metrics.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"
#include "imprecise/sim/slo_report.hpp"

namespace imprecise::cli {

void add_run_options(CLI::App& cmd, RunOptions& options) {
  cmd.add_option("--duration", options.duration_s, "Seconds of arrivals (default: the scenario's duration_s)");
  cmd.add_option("--eps", options.eps,
                 "Precision of yao-dp / oracle-utility: each decision quantizes reward by eps * Rmax / n, "
                 "the (1 - eps) bound")
      ->capture_default_str();
  cmd.add_option("--delta", options.delta, "A fixed reward quantum for yao-dp / oracle-utility instead of eps * Rmax / n");
  cmd.add_option("--figure", options.figure, "Stage-time figure optional stages are planned with: mean, p50, p99 or max")
      ->capture_default_str();
  cmd.add_option("--mandatory-figure", options.mandatory_figure,
                 "Stage-time figure mandatory stages are planned with: mean, p50, p99 or max")
      ->capture_default_str();
  cmd.add_option("--max-batch", options.max_batch, "Largest batch a dispatch may carry (default: the scenario's)");
  cmd.add_option("--batch-guard", options.batch_guard,
                 "What a batch must keep feasible: mandatory (every job's mandatory part) or planned "
                 "(every job's planned depth)")
      ->capture_default_str();
  cmd.add_option("--planning-window", options.planning_window,
                 "Jobs (EDF order) yao-dp and density plan at each decision; the rest keep their mandatory part "
                 "reserved (0 = all)")
      ->capture_default_str();
  cmd.add_option("--batch-aware-planning", options.batch_aware,
                 "Plan jobs waiting at a mandatory stage at the cost of the batches they form (true) or at "
                 "batch 1 (false)")
      ->capture_default_str();
  cmd.add_option("--shed-pending-limit", options.shed_pending_limit,
                 "Jobs the plan sheds that stay pending until their deadline proves the drop (0: drop at "
                 "once; negative: no limit)")
      ->capture_default_str();
  cmd.add_option("--mandatory-first", options.mandatory_first,
                 "yao-dp, density (one lane): run a job's mandatory stage ahead of planned optional stages "
                 "whenever the plan's slack allows it")
      ->capture_default_str();
  cmd.add_option("--jobs-from", options.jobs_from,
                 "Split the jobs' content is drawn from: test (results) or calibration (to tune a baseline's "
                 "parameter, such as edf-threshold:T, without looking at the test split)")
      ->capture_default_str();
  cmd.add_flag("--deterministic", options.deterministic,
               "Every stage takes exactly its planned figure (no sampling of stage times)");
}

sim::SimConfig make_sim_config(const RunOptions& options) {
  sim::SimConfig config;
  if (options.duration_s) {
    const double seconds = *options.duration_s;
    if (!(seconds > 0) || !std::isfinite(seconds) || seconds > 1e6)
      throw InputError(fmt::format("--duration: '{}' must be > 0 seconds", format_number(seconds)));
    config.duration = from_seconds(seconds);
  }
  if (!(options.eps > 0 && options.eps <= 1)) throw InputError("--eps: must be in (0, 1]");
  config.policy.delta.eps = options.eps;
  if (options.delta) {
    if (!(*options.delta > 0) || !std::isfinite(*options.delta)) throw InputError("--delta: must be > 0");
    config.policy.delta.absolute = *options.delta;
  }
  try {
    config.policy.figure = parse_planning_figure(options.figure);
  } catch (const Error& e) {
    throw InputError(fmt::format("--figure: {}", e.what()));
  }
  try {
    config.policy.mandatory_figure = parse_planning_figure(options.mandatory_figure);
  } catch (const Error& e) {
    throw InputError(fmt::format("--mandatory-figure: {}", e.what()));
  }
  if (options.max_batch) {
    if (*options.max_batch < 1) throw InputError("--max-batch: must be >= 1");
    config.max_batch = *options.max_batch;
  }
  config.deterministic_times = options.deterministic;
  if (options.planning_window < 0) throw InputError("--planning-window: must be >= 0 (0 = every job)");
  config.policy.planning_window = options.planning_window;
  config.policy.batch_aware = options.batch_aware;
  config.policy.shed_pending_limit = options.shed_pending_limit;
  config.policy.mandatory_first = options.mandatory_first;
  if (options.batch_guard == "mandatory") config.policy.batch_guard = BatchGuard::mandatory;
  else if (options.batch_guard == "planned") config.policy.batch_guard = BatchGuard::planned_depth;
  else throw InputError(fmt::format("--batch-guard: '{}' is not mandatory or planned", options.batch_guard));
  if (options.jobs_from != "test" && options.jobs_from != "calibration")
    throw InputError(fmt::format("--jobs-from: '{}' is not test or calibration", options.jobs_from));
  return config;
}

sim::Scenario load_scenario_checked(const std::string& path, const RunOptions& options) {
  // load_scenario names the file and field in its Error already; only an unreadable file is
  // checked here so that message reads like the plan command's.
  if (!std::ifstream(path)) throw InputError(fmt::format("{}: cannot open file", path));
  sim::Scenario scenario = sim::load_scenario(path);
  if (options.jobs_from == "calibration") scenario.test_sets = scenario.calibration_sets;
  return scenario;
}

void check_policy_for_scenario(const std::string& spec, const sim::Scenario& scenario,
                               const sim::SimConfig& config, const std::string& option) {
  check_policy_spec(spec, option);
  // Building it once up front rejects a bad parameter ("edf-fixed:x") before any run starts.
  PolicyConfig policy_config = config.policy;
  if (config.max_batch > 0) policy_config.max_batch = config.max_batch;
  policy_config.lanes = config.lanes;
  try {
    (void)make_policy(spec, scenario.models, policy_config);
  } catch (const Error& e) {
    throw InputError(fmt::format("{}: {}", option, e.what()));
  }
}

namespace {

struct SimulateOptions {
  std::string scenario;
  std::string policy;
  double load = 1.0;
  std::uint64_t seed = 1;
  std::string json_out;
  std::string trace_out;
  RunOptions run;
  ControlOptions control;
};

void print_table(const sim::SimMetrics& metrics, const std::string& scenario_name) {
  std::printf("scenario %s, policy %s, load %s, seed %llu\n", scenario_name.c_str(), metrics.policy.c_str(),
              format_number(metrics.load).c_str(), static_cast<unsigned long long>(metrics.seed));
  std::printf("%-16s %8s %9s %7s %7s %10s %12s\n", "stream", "jobs", "accuracy", "miss", "drop", "mean depth",
              "p99 latency");
  auto row = [](const sim::StreamMetrics& s) {
    std::printf("%-16s %8d %9.4f %7.4f %7.4f %10.3f %9.3f ms\n", s.name.c_str(), s.jobs, s.accuracy, s.miss_ratio,
                s.drop_ratio, s.mean_depth, s.latency_p99_ms);
  };
  for (const auto& stream : metrics.streams) row(stream);
  sim::StreamMetrics total = metrics.total;
  total.name = "total";
  row(total);
  std::printf("utilization %.4f, decisions %lld, decision p99 %.2f us\n", metrics.utilization,
              static_cast<long long>(metrics.decisions), metrics.decision_p99_us);
}

void print_slo(const sim::SloReport& r) {
  std::printf("lanes %d, controller %s: utility %.4f (accuracy-weighted %.4f), accuracy %.4f, SLO violations %.4f, "
              "p99 latency %.3f ms, throughput %.1f/s",
              r.lanes, r.controller.c_str(), r.utility, r.utility_accuracy, r.accuracy, r.slo_violations,
              r.latency_p99_ms, r.throughput_per_s);
  if (r.intervals > 0)
    std::printf(", %d intervals, decision p50 %.2f us p99 %.2f us (CPU time p99 %.2f us)", r.intervals, r.decision_p50_us,
                r.decision_p99_us, r.decision_cpu_p99_us);
  std::printf("\n");
}

int run_simulate(const SimulateOptions& options) {
  if (!(options.load > 0) || !std::isfinite(options.load))
    throw InputError(fmt::format("--load: '{}' must be > 0", format_number(options.load)));
  sim::SimConfig config = make_sim_config(options.run);
  config.load = options.load;
  config.seed = options.seed;
  check_policy_spec(options.policy, "--policy");
  const sim::Scenario scenario = load_scenario_checked(options.scenario, options.run);
  apply_control_options(options.control, scenario, config);
  config.controller = make_run_controller(options.control, scenario, config);
  check_policy_for_scenario(options.policy, scenario, config, "--policy");
  if (!options.trace_out.empty()) {
    try {
      config.observers.push_back(std::make_shared<TraceWriter>(options.trace_out));
    } catch (const Error& e) {
      throw InputError(fmt::format("--trace: {}", e.what()));
    }
  }

  const sim::SimResult result = sim::simulate(scenario, options.policy, config);
  print_table(result.metrics, scenario.name);
  const sim::SloReport slo =
      sim::slo_report(result, config.control.utility, config.lanes, config.controller ? std::string(config.controller->name()) : "");
  if (options.control.active()) print_slo(slo);
  if (result.metrics.coarsened_decisions > 0)
    std::fprintf(stderr,
                 "imprecise: warning: %lld of the plans coarsened the reward quantum to bound the DP's size (delta up "
                 "to %.4g): the (1 - eps) bound did not hold for them\n",
                 static_cast<long long>(result.metrics.coarsened_decisions), result.metrics.delta_used_max);
  if (result.protocol_violations > 0)
    std::fprintf(stderr, "imprecise: warning: policy %s broke the protocol %lld times\n", options.policy.c_str(),
                 static_cast<long long>(result.protocol_violations));

  if (!options.json_out.empty()) {
    nlohmann::json out = sim::to_json(result.metrics);
    out["scenario"] = scenario.name;
    out["protocol_violations"] = result.protocol_violations;
    if (options.control.active()) out["slo"] = sim::to_json(slo);  // plain runs keep the golden output
    std::ofstream file(options.json_out);
    if (!file) throw RuntimeFailure(fmt::format("{}: cannot open for writing", options.json_out));
    file << out.dump(2) << '\n';
    if (!file.flush()) throw RuntimeFailure(fmt::format("{}: write failed", options.json_out));
  }
  return kExitOk;
}

}  // namespace

void add_simulate_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<SimulateOptions>();
  auto* cmd = app.add_subcommand("simulate",
                                 "Simulate one policy on a scenario: per-stream table on stdout, metrics JSON "
                                 "with --json");
  cmd->add_option("--scenario", options->scenario, "Scenario JSON file")->required();
  cmd->add_option("--policy", options->policy,
                  "Policy: yao-dp, density, edf-full, edf-mandatory, edf-fixed:K, edf-threshold:T, fifo-full, "
                  "round-robin, oracle-utility")
      ->required();
  cmd->add_option("--load", options->load,
                  "Offered load: 1.0 = running every job to full depth exactly fills the device")
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "Random seed (identical seeds give identical results)")
      ->capture_default_str();
  cmd->add_option("--json", options->json_out, "Write the metrics JSON here");
  cmd->add_option("--trace", options->trace_out,
                  "Write a Chrome trace of the run here (simulated time; the runtime's TraceWriter: open it in Perfetto)");
  add_run_options(*cmd, options->run);
  add_control_options(*cmd, options->control);
  cmd->callback([options, &action] { action = [options] { return run_simulate(*options); }; });
}

}  // namespace imprecise::cli
