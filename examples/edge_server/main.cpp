// edge_server: the vision, LIDAR and voice models served together on one device in real time, per policy,
// controller and load, next to the simulator on the very same jobs. Prints the table; writes JSON, CSV
// and a trace.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "imprecise/data/pipeline.hpp"
#include "imprecise/error.hpp"
#include "imprecise/nn/backend.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"
#include "imprecise/sim/slo_report.hpp"
#include "cli/cli_common.hpp"
#include "cli/control_options.hpp"
#include "job_list.hpp"
#include "real_run.hpp"
#include "report.hpp"
#include "served_models.hpp"

namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) throw imprecise::Error(fmt::format("empty item in list '{}'", text));
    items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

/// `options` for one run under `controller` (empty: none): the CLI's own validation and setup of
/// lanes, control settings and load schedule (control_options.cpp), its errors named by our options.
imprecise::cli::ControlOptions run_control(imprecise::cli::ControlOptions options, const std::string& controller,
                                           int lanes, const imprecise::sim::Scenario& scenario,
                                           imprecise::sim::SimConfig& config) {
  options.controller = controller;
  options.lanes = lanes;
  try {
    imprecise::cli::apply_control_options(options, scenario, config);
  } catch (const imprecise::cli::InputError& e) {
    const std::string what = e.what();
    if (what.rfind("--controller:", 0) == 0) throw imprecise::cli::InputError("--controllers" + what.substr(12));
    throw;
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edge_server;
  imprecise::data::set_source_root(IMPRECISE_SOURCE_DIR);  // the served models (models/)
  CLI::App app{"edge_server: real-time serving of the vision, LIDAR and voice models per policy and load, "
               "compared with the simulator on the same jobs"};
  std::string scenario_path = std::string(IMPRECISE_SOURCE_DIR) + "/scenarios/edge_server.json";
  std::string policies = "yao-dp,density,edf-full,edf-mandatory,edf-threshold:0.8,fifo-full";
  std::string loads = "0.5,1,2,3";
  double duration_s = 10.0;
  std::uint64_t seed = 1;
  std::string backend = "auto";
  std::string data_dir;
  std::string out_dir = std::string(IMPRECISE_SOURCE_DIR) + "/docs/results/edge_server";
  std::string trace_policy = "yao-dp";
  double trace_load = 2.0;
  bool no_trace = false;
  bool skip_missing_data = false;
  int lanes = 1;
  bool pin_lanes = false;
  bool batch_aware = imprecise::PolicyConfig{}.batch_aware;
  int shed_pending_limit = imprecise::PolicyConfig{}.shed_pending_limit;
  std::string figure = imprecise::to_string(imprecise::PolicyConfig{}.figure);
  std::string mandatory_figure = imprecise::to_string(imprecise::PolicyConfig{}.mandatory_figure);
  bool mandatory_first = imprecise::PolicyConfig{}.mandatory_first;
  std::string controllers;
  imprecise::cli::ControlOptions control;  // the settings imprecise simulate takes; --lanes is ours
  app.add_option("--scenario", scenario_path, "scenario JSON (models = pipelines, measured profiles and replay sets)")
      ->capture_default_str();
  app.add_option("--policies", policies, "comma-separated policies")->capture_default_str();
  app.add_option("--loads", loads, "comma-separated offered loads (1 = full depth fills the device)")->capture_default_str();
  app.add_option("--duration", duration_s, "seconds of arrivals per run")->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  app.add_option("--seed", seed, "workload seed (same jobs for every policy)")->capture_default_str();
  app.add_option("--backend", backend, "auto (cuda when a GPU is present, else the fastest cpu backend: onednn when "
                                       "built, else cpu), cpu, onednn or cuda (falls back to cpu without a GPU)")
      ->capture_default_str();
  app.add_option("--data-dir", data_dir, "generated data sets (default: $IMPRECISE_DATA_DIR or data/)");
  app.add_option("--out-dir", out_dir, "results.json, results.csv and the trace go here")->capture_default_str();
  app.add_option("--trace-policy", trace_policy, "the run written as a Chrome trace: this policy ...")->capture_default_str();
  app.add_option("--trace-load", trace_load, "... at this load")->capture_default_str();
  app.add_flag("--no-trace", no_trace, "write no trace");
  app.add_option("--batch-aware-planning", batch_aware,
                 "plan mandatory stages at the cost of the batches waiting jobs form (true) or at batch 1 (false)")
      ->capture_default_str();
  app.add_option("--figure", figure, "stage-time figure optional stages are planned with: mean, p50, p99 or max")
      ->capture_default_str();
  app.add_option("--mandatory-figure", mandatory_figure, "stage-time figure the planners budget mandatory stages with")
      ->capture_default_str();
  app.add_option("--mandatory-first", mandatory_first,
                 "planners: run a mandatory stage ahead of planned optional ones when the plan's slack allows")
      ->capture_default_str();
  app.add_option("--shed-pending-limit", shed_pending_limit,
                 "jobs the plan sheds kept pending until their deadline proves the drop (0: drop at once)")
      ->capture_default_str();
  app.add_option("--lanes", lanes, "executor lanes of the engine: stages of up to this many batches run at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--controllers", controllers,
                 "comma-separated controllers, each a run per policy and load: static, aimd, model-based, sac "
                 "(default: none). One static setting per invocation (--static-batch/-wait-ms/-lanes)");
  imprecise::cli::add_controller_settings(app, control);
  imprecise::cli::add_load_schedule_option(app, control);
  app.add_flag("--pin-lanes", pin_lanes, "pin lane i's thread to CPU i (mod the CPUs this process may use)");
  app.add_flag("--skip-missing-data", skip_missing_data,
               "exit 77 (ctest: skipped) when a generated data set is missing instead of failing");
  CLI11_PARSE(app, argc, argv);

  try {
    const imprecise::sim::Scenario scenario = imprecise::sim::load_scenario(scenario_path);
    // Controllers or a load schedule: the outputs gain each run's SloReport (plain runs stay as they were).
    const bool slo = !controllers.empty() || !control.load_schedule.empty();
    const std::vector<std::string> controller_list = controllers.empty() ? std::vector<std::string>{""} : split(controllers);
    if (slo) {
      for (const std::string& c : controller_list) {  // a bad name, setting or schedule fails before any run
        imprecise::sim::SimConfig check;
        check.duration = imprecise::from_seconds(duration_s);
        check.max_batch = scenario.max_batch;
        (void)run_control(control, c, lanes, scenario, check);
      }
    }
    ServedSet set;
    try {
      set = load_served_set(scenario, data_dir);
    } catch (const imprecise::Error& e) {
      // The voice and LIDAR test sets are generated (minutes), not committed: a fresh clone lacks them.
      if (skip_missing_data && std::string(e.what()).find("not found; generate") != std::string::npos) {
        std::fprintf(stderr, "edge_server: skipped: %s\n", e.what());
        return 77;
      }
      throw;
    }
    if (backend == "auto") {
      const imprecise::nn::Backend* cuda = imprecise::nn::BackendRegistry::get().find("cuda");
      backend = cuda != nullptr && cuda->device_count() > 0 ? "cuda" : imprecise::nn::default_backend();
    }
    std::fprintf(stderr, "edge_server: backend %s\n", backend.c_str());
    std::filesystem::create_directories(out_dir);
    std::vector<double> load_values;
    for (const auto& l : split(loads)) load_values.push_back(std::stod(l));
    const imprecise::PlanningFigure planning_figure = imprecise::parse_planning_figure(figure);  // checked once
    const imprecise::PlanningFigure mandatory_planning_figure = imprecise::parse_planning_figure(mandatory_figure);
    const auto horizon = imprecise::from_seconds(duration_s);

    std::vector<Comparison> runs;
    int violations = 0;
    for (double load : load_values) {
      for (const std::string& policy : split(policies)) {
        for (const std::string& controller : controller_list) {
          imprecise::sim::SimConfig sim_config;
          sim_config.load = load;
          sim_config.seed = seed;
          sim_config.duration = horizon;
          sim_config.max_batch = scenario.max_batch;
          sim_config.lanes = lanes;
          sim_config.policy.batch_aware = batch_aware;
          sim_config.policy.shed_pending_limit = shed_pending_limit;
          sim_config.policy.figure = planning_figure;
          sim_config.policy.mandatory_figure = mandatory_planning_figure;
          sim_config.policy.mandatory_first = mandatory_first;
          imprecise::cli::ControlOptions options;
          if (slo) options = run_control(control, controller, lanes, scenario, sim_config);
          // Controllers keep state: every run (real, simulated twice) gets a fresh one.
          const auto fresh = [&] { return slo ? imprecise::cli::make_run_controller(options, scenario, sim_config) : nullptr; };
          sim_config.controller = fresh();
          const imprecise::sim::SimResult offline = imprecise::sim::simulate(scenario, policy, sim_config);

          RunConfig config;
          config.policy = policy;
          config.load = load;
          config.seed = seed;
          config.horizon = horizon;
          config.backend = backend;
          config.lanes = lanes;
          config.pin_lanes = pin_lanes;
          config.policy_config = sim_config.policy;  // the real run plans exactly as its simulation did
          config.controller = fresh();
          config.control = sim_config.control;
          if (!no_trace && policy == trace_policy && load == trace_load)
            config.trace_path = out_dir + "/trace_" + policy + (controller.empty() ? "" : "_" + controller) + "_load" +
                                fmt::format("{}", load) + ".json";
          std::fprintf(stderr, "real run: %-18s %s%sload %.2f (%.0f s) ...\n", policy.c_str(), controller.c_str(),
                       controller.empty() ? "" : " ", load, duration_s);
          // The simulator's jobs: plan_jobs, or under a load schedule the ones simulate() kept by thinning.
          const imprecise::sim::JobPlan plan = sim_config.load_schedule.empty()
                                                   ? imprecise::sim::plan_jobs(scenario, load, seed, horizon)
                                                   : released_jobs(scenario, offline);
          RunResult real = run_real(scenario, set, config, plan);
          violations += real.outcome_violations;
          // The same jobs (same rate scale) on the profiles the engine measured while serving them.
          imprecise::sim::Scenario served = scenario;
          for (std::size_t m = 0; m < served.models.size(); ++m) {
            imprecise::Model& model = served.models[m];
            // The table the engine planned (and measured) at its concurrency: Model::profile_at(lanes).
            const bool concurrent = lanes > 1 && !model.concurrent.empty();
            const std::size_t c = std::min(static_cast<std::size_t>(std::max(lanes - 2, 0)), model.concurrent.size() - 1);
            (concurrent ? model.concurrent[c] : model.profile) = real.served_profiles[m];
          }
          sim_config.rate_scale = imprecise::sim::rate_scale_for_load(scenario, load);
          const auto offline_controller = sim_config.controller;
          sim_config.controller = fresh();
          const imprecise::sim::SimResult simulated = imprecise::sim::simulate(served, policy, sim_config);
          Comparison run;
          run.real = real.metrics;
          run.simulated = simulated.metrics;
          run.simulated_offline = offline.metrics;
          for (const auto& m : served.models) run.served_profiles.emplace_back(m.name, m.profile_at(lanes));
          if (slo) {
            run.controller = controller;
            const auto report = [&](const imprecise::sim::SimResult& r, const auto& c) {
              return imprecise::sim::slo_report(r, sim_config.control.utility, lanes, c ? std::string(c->name()) : "");
            };
            run.real_slo = real.slo;
            run.simulated_slo = report(simulated, sim_config.controller);
            run.simulated_offline_slo = report(offline, offline_controller);
          }
          runs.push_back(std::move(run));
        }
      }
    }
    std::fputs(format_table(runs).c_str(), stdout);
    for (double load : load_values) std::printf("\n%s", format_streams(runs, load).c_str());
    if (slo) std::printf("\n%s", format_slo_table(runs).c_str());
    const Agreement a = agreement(runs);
    std::printf("\nsimulator vs real: largest difference %.1f points of accuracy, %.1f points of miss ratio\n",
                a.accuracy_points, a.miss_points);
    nlohmann::json setup = {{"scenario", scenario_path}, {"duration_s", duration_s}, {"seed", seed},
                            {"backend", backend}, {"lanes", lanes}, {"loads", load_values}, {"policies", split(policies)}};
    if (slo) {
      setup["controllers"] = controllers.empty() ? std::vector<std::string>{} : split(controllers);
      setup["load_schedule"] = control.load_schedule;
      setup["control"] = {{"interval_ms", control.interval_ms}, {"max_batch_wait_ms", control.max_batch_wait_ms},
                          {"static_batch", control.static_batch}, {"static_wait_ms", control.static_wait_ms},
                          {"static_lanes", control.static_lanes}, {"actor", control.actor}};
    }
    write_json(out_dir + "/results.json", runs, setup);
    write_csv(out_dir + "/results.csv", runs);
    std::printf("wrote %s/results.json and results.csv\n", out_dir.c_str());
    if (violations > 0) {
      std::fprintf(stderr, "edge_server: %d jobs got no outcome or more than one\n", violations);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edge_server: error: %s\n", e.what());
    return 2;
  }
}
