// The CLI's concurrency and control options (issue 16), shared by `simulate`, `sweep`, `serve` and
// examples/edge_server (which compiles this file with format_number.cpp): lanes, a
// controller and its settings, a time-varying load.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include <CLI/CLI.hpp>

#include "imprecise/sched/controller.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"

namespace imprecise::cli {

struct ControlOptions {
  int lanes = 1;
  std::string controller;  ///< empty: none
  double interval_ms = 100.0;
  double max_batch_wait_ms = 10.0;
  int static_batch = 8;
  double static_wait_ms = 0.0;
  int static_lanes = 0;
  std::string actor;
  std::string load_schedule;
  /// Any of these given: the outputs carry the SLO report (a plain run's stay as they were).
  bool active() const { return lanes != 1 || !controller.empty() || !load_schedule.empty(); }
};

/// All of them: --lanes, --controller, the settings below and --load-schedule.
void add_control_options(CLI::App& cmd, ControlOptions& options);
/// The controller's settings alone (--control-interval-ms, --max-batch-wait-ms, --static-*, --actor),
/// for a program with its own --lanes and controller list (examples/edge_server).
void add_controller_settings(CLI::App& cmd, ControlOptions& options);
void add_load_schedule_option(CLI::App& cmd, ControlOptions& options);
/// Validates the options (InputError naming the option) and fills config.lanes, config.control and
/// config.load_schedule; config.duration and config.max_batch must be final. Builds the controller
/// once, so that a bad name or actor fails before any run.
void apply_control_options(const ControlOptions& options, const sim::Scenario& scenario, sim::SimConfig& config);
/// A fresh controller for one run (null without --controller): controllers keep state.
std::shared_ptr<Controller> make_run_controller(const ControlOptions& options, const sim::Scenario& scenario,
                                                const sim::SimConfig& config);

/// For a host that loads its own models (`imprecise serve`): validates the controller's settings
/// for `options.lanes` lanes into `config` (InputError naming the option; max_batch stays the host's)
/// and returns what builds the controller once the host has its models (errors name --controller);
/// an empty function without --controller.
using ControllerFactory = std::function<std::shared_ptr<Controller>(std::span<const Model>, const ControllerConfig&)>;
ControllerFactory controller_factory(const ControlOptions& options, ControllerConfig& config);

}  // namespace imprecise::cli
