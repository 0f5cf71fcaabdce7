// make_config(): keyword arguments -> SimConfig, checked like the CLI's options.
#include "run_settings.hpp"

#include <cmath>

#include <fmt/format.h>
#include <pybind11/pybind11.h>

#include "imprecise/error.hpp"

namespace imprecise::python {
namespace {

namespace py = pybind11;

Duration ms_arg(double ms, const char* name, bool positive) {
  if (!std::isfinite(ms) || ms < 0 || (positive && ms == 0))
    throw py::value_error(fmt::format("{}: must be {} ms, got {}", name, positive ? "> 0" : ">= 0", ms));
  return from_ms(ms);
}

}  // namespace

sim::SimConfig make_config(const sim::Scenario& scenario, const RunSettings& s) {
  sim::SimConfig c;
  if (!(s.load > 0) || !std::isfinite(s.load)) throw py::value_error(fmt::format("load: must be > 0, got {}", s.load));
  c.load = s.load;
  c.seed = s.seed;
  if (s.duration_s) {
    if (!(*s.duration_s > 0) || !std::isfinite(*s.duration_s)) throw py::value_error("duration_s: must be > 0");
    c.duration = from_seconds(*s.duration_s);
  }
  if (s.max_batch) {
    if (*s.max_batch < 1) throw py::value_error("max_batch: must be >= 1");
    c.max_batch = *s.max_batch;
  }
  c.deterministic_times = s.deterministic;
  if (s.lanes < 1 || s.lanes > 64) throw py::value_error(fmt::format("lanes: must be in [1, 64], got {}", s.lanes));
  c.lanes = s.lanes;
  ControllerConfig& cc = c.control;
  cc.lanes = s.lanes;
  cc.interval = ms_arg(s.interval_ms, "interval_ms", true);
  cc.max_batch_wait = ms_arg(s.max_batch_wait_ms, "max_batch_wait_ms", false);
  cc.max_batch = c.max_batch > 0 ? c.max_batch : scenario.max_batch;
  if (s.static_batch < 1) throw py::value_error("static_batch: must be >= 1");
  if (s.static_lanes < 0 || s.static_lanes > s.lanes) throw py::value_error("static_lanes: must be in [0, lanes]");
  cc.fixed = ModelControl{s.static_batch, ms_arg(s.static_wait_ms, "static_wait_ms", false), s.static_lanes};
  cc.actor = s.actor;
  cc.utility.latency = s.latency_weight;
  cc.utility.violation = s.violation_weight;
  cc.utility.accuracy_weighted = s.accuracy_weighted;
  if (!s.load_schedule.empty()) {
    try {
      c.load_schedule = sim::parse_load_schedule(s.load_schedule, c.duration > 0 ? c.duration : scenario.duration);
    } catch (const Error& e) {
      throw py::value_error(fmt::format("load_schedule: {}", e.what()));
    }
  }
  return c;
}

}  // namespace imprecise::python
