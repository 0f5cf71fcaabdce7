// --lanes, --controller and its settings, --load-schedule: validated into a SimConfig.
#include "control_options.hpp"

#include <cmath>

#include <fmt/core.h>

#include "cli_common.hpp"
#include "imprecise/error.hpp"
#ifdef IMPRECISE_CLI_HAS_CONTROL
#include "imprecise/control/controllers.hpp"
#endif

namespace imprecise::cli {

void add_control_options(CLI::App& cmd, ControlOptions& o) {
  cmd.add_option("--lanes", o.lanes, "Executor lanes (concurrent model instances) of the device")->capture_default_str();
  cmd.add_option("--controller", o.controller,
                 "Controller of batch size, batching wait and lanes per model: static, aimd, model-based, sac "
                 "(default: none)");
  add_controller_settings(cmd, o);
  add_load_schedule_option(cmd, o);
}

void add_controller_settings(CLI::App& cmd, ControlOptions& o) {
  cmd.add_option("--control-interval-ms", o.interval_ms, "Control interval (ms)")->capture_default_str();
  cmd.add_option("--max-batch-wait-ms", o.max_batch_wait_ms, "Longest batching wait a controller may set (ms)")
      ->capture_default_str();
  cmd.add_option("--static-batch", o.static_batch, "static: the max batch it holds")->capture_default_str();
  cmd.add_option("--static-wait-ms", o.static_wait_ms, "static: the batching wait it holds (ms)")->capture_default_str();
  cmd.add_option("--static-lanes", o.static_lanes, "static: the lanes each model may use (0: all)")->capture_default_str();
  cmd.add_option("--actor", o.actor, "sac: the trained actor (ONNX)");
}

void add_load_schedule_option(CLI::App& cmd, ControlOptions& o) {
  cmd.add_option("--load-schedule", o.load_schedule,
                 "Multiply every stream's rate over time: ramp:FROM:TO, bursts:BASE:PEAK:PERIOD_S:DUTY or "
                 "points:T_S=L,T_S=L,...");
}

namespace {

Duration ms_option(double ms, const char* option, bool positive) {
  if (!std::isfinite(ms) || ms < 0 || (positive && ms == 0) || ms > 1e6)
    throw InputError(fmt::format("--{}: '{}' must be {} ms", option, format_number(ms), positive ? "> 0" : ">= 0"));
  return from_ms(ms);
}

}  // namespace

namespace {

/// Every setting but max_batch (the host's), for `o.lanes` lanes (the host checked them).
void apply_controller_settings(const ControlOptions& o, ControllerConfig& c) {
  c.lanes = o.lanes;
  c.interval = ms_option(o.interval_ms, "control-interval-ms", true);
  c.max_batch_wait = ms_option(o.max_batch_wait_ms, "max-batch-wait-ms", false);
  if (o.static_batch < 1) throw InputError(fmt::format("--static-batch: '{}' must be >= 1", o.static_batch));
  if (o.static_lanes < 0 || o.static_lanes > o.lanes)
    throw InputError(fmt::format("--static-lanes: '{}' must be in [0, --lanes]", o.static_lanes));
  c.fixed = ModelControl{o.static_batch, ms_option(o.static_wait_ms, "static-wait-ms", false), o.static_lanes};
  c.actor = o.actor;
}

/// One rule for every host: the registry's error, named as the option.
std::shared_ptr<Controller> build_controller(const std::string& name, std::span<const Model> models,
                                             const ControllerConfig& config) {
#ifdef IMPRECISE_CLI_HAS_CONTROL
  try {
    return control::make_controller(name, models, config);
  } catch (const Error& e) {
    throw InputError(fmt::format("--controller: {}", e.what()));
  }
#else
  (void)models;
  (void)config;
  throw InputError(fmt::format("--controller: '{}': this build has no controllers (imprecise::control)", name));
#endif
}

}  // namespace

void apply_control_options(const ControlOptions& o, const sim::Scenario& scenario, sim::SimConfig& config) {
  if (o.lanes < 1 || o.lanes > 64) throw InputError(fmt::format("--lanes: '{}' must be in [1, 64]", o.lanes));
  apply_controller_settings(o, config.control);
  config.lanes = o.lanes;
  config.control.max_batch = config.max_batch > 0 ? config.max_batch : scenario.max_batch;
  if (!o.load_schedule.empty()) {
    try {
      config.load_schedule =
          sim::parse_load_schedule(o.load_schedule, config.duration > 0 ? config.duration : scenario.duration);
    } catch (const Error& e) {
      throw InputError(fmt::format("--load-schedule: {}", e.what()));
    }
  }
  (void)make_run_controller(o, scenario, config);  // a bad name or actor fails now
}

std::shared_ptr<Controller> make_run_controller(const ControlOptions& o, const sim::Scenario& scenario,
                                                const sim::SimConfig& config) {
  if (o.controller.empty() || o.controller == "none") return nullptr;
  return build_controller(o.controller, scenario.models, config.control);
}

ControllerFactory controller_factory(const ControlOptions& o, ControllerConfig& config) {
  apply_controller_settings(o, config);
  if (o.controller.empty() || o.controller == "none") return {};
#ifndef IMPRECISE_CLI_HAS_CONTROL
  (void)build_controller(o.controller, {}, config);  // this build has none: say so before any model loads
#endif
  return [name = o.controller](std::span<const Model> models, const ControllerConfig& c) {
    return build_controller(name, models, c);
  };
}

}  // namespace imprecise::cli
