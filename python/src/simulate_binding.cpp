// simulate(): one run to the end, its metrics and SLO report as a dict (the numbers `imprecise simulate` writes).
#include <optional>
#include <string>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "imprecise/control/controllers.hpp"
#include "imprecise/sim/slo_report.hpp"
#include "run_settings.hpp"

namespace imprecise::python {

void add_simulate(py::module_& m) {
  m.def(
      "simulate",
      [](const py::object& scenario_obj, const std::string& policy, double load, std::uint64_t seed, int lanes,
         std::optional<std::string> controller, std::optional<double> duration_s, std::optional<int> max_batch,
         std::optional<std::string> load_schedule, double interval_ms, double max_batch_wait_ms, int static_batch,
         double static_wait_ms, int static_lanes, std::optional<std::string> actor, bool deterministic) {
        const ScenarioPtr scenario = scenario_arg(scenario_obj);
        RunSettings s;
        s.load = load;
        s.seed = seed;
        s.lanes = lanes;
        s.duration_s = duration_s;
        s.max_batch = max_batch;
        s.load_schedule = load_schedule.value_or("");
        s.interval_ms = interval_ms;
        s.max_batch_wait_ms = max_batch_wait_ms;
        s.static_batch = static_batch;
        s.static_wait_ms = static_wait_ms;
        s.static_lanes = static_lanes;
        s.actor = actor.value_or("");
        s.deterministic = deterministic;
        sim::SimConfig config = make_config(*scenario, s);
        if (controller && !controller->empty() && *controller != "none")
          config.controller = control::make_controller(*controller, scenario->models, config.control);
        sim::SimResult result;
        {
          py::gil_scoped_release released;  // a run takes a while: let other Python threads go on
          result = sim::simulate(*scenario, policy, config);
        }
        nlohmann::json out = sim::to_json(result.metrics);
        out["scenario"] = scenario->name;
        out["protocol_violations"] = result.protocol_violations;
        out["slo"] = sim::to_json(sim::slo_report(result, config.control.utility, config.lanes,
                                                  config.controller ? std::string(config.controller->name()) : ""));
        nlohmann::json intervals = nlohmann::json::array();
        for (const ControlRecord& r : result.control) intervals.push_back({{"at_s", to_seconds(r.at)}, {"utility", r.utility}});
        out["intervals"] = intervals;
        return to_python(out);
      },
      py::arg("scenario"), py::arg("policy"), py::arg("load") = 1.0, py::arg("seed") = 1, py::arg("lanes") = 1,
      py::arg("controller") = py::none(), py::arg("duration_s") = py::none(), py::arg("max_batch") = py::none(),
      py::arg("load_schedule") = py::none(), py::arg("interval_ms") = 100.0, py::arg("max_batch_wait_ms") = 10.0,
      py::arg("static_batch") = 8, py::arg("static_wait_ms") = 0.0, py::arg("static_lanes") = 0,
      py::arg("actor") = py::none(), py::arg("deterministic") = false,
      "One simulated run (as `imprecise simulate`): the metrics JSON as a dict, with 'slo' (utility, "
      "utility_accuracy, accuracy, slo_violations, latency_p99_ms, throughput_per_s, decision_p50_us, ...) and "
      "'intervals' (per control interval: at_s, utility). scenario: a Scenario or a path; controller: static, "
      "aimd, model-based, sac (actor=ONNX file) or None.");
}

}  // namespace imprecise::python
