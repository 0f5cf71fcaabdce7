// Scenario, Model and UtilityModel views; load_scenario, load_profile, load_calibration.
#include <string>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "imprecise/core/model.hpp"
#include "imprecise/core/utility.hpp"
#include "imprecise/data/calibration.hpp"
#include "imprecise/error.hpp"
#include "imprecise/sim/scenario.hpp"

namespace imprecise::python {

/// What Python holds for a scenario: the shared scenario itself.
struct PyScenario {
  ScenarioPtr scenario;
};

ScenarioPtr scenario_arg(const py::object& scenario) {
  if (py::isinstance<PyScenario>(scenario)) return scenario.cast<const PyScenario&>().scenario;
  if (py::isinstance<py::str>(scenario) || py::hasattr(scenario, "__fspath__")) {
    const std::string path = py::str(py::module_::import("os").attr("fspath")(scenario));
    return std::make_shared<const sim::Scenario>(sim::load_scenario(path));
  }
  throw py::type_error("scenario: expected an imprecise.Scenario or the path of a scenario file");
}

void add_scenario(py::module_& m) {
  py::class_<UtilityModel>(m, "UtilityModel",
                           "Calibration tables of one model: R(l | k, c), the probability that exit l answers "
                           "correctly given exit k was seen with confidence c (exits 1..L).")
      .def_property_readonly("exits", &UtilityModel::exits)
      .def_property_readonly("bins", &UtilityModel::bins)
      .def("prior", &UtilityModel::prior, py::arg("depth"), "R(depth) before any stage ran")
      .def(
          "expected",
          [](const UtilityModel& u, int depth, int observed_exit, double confidence) {
            if (depth < 0 || depth > u.exits()) throw py::value_error("depth: must be in [0, exits]");
            if (observed_exit < 0 || observed_exit > u.exits()) throw py::value_error("observed_exit: must be in [0, exits]");
            return u.expected(depth, observed_exit, confidence);
          },
          py::arg("depth"), py::arg("observed_exit"), py::arg("confidence"),
          "R(depth | observed_exit, confidence); observed_exit 0: the prior")
      .def(
          "bin_of",
          [](const UtilityModel& u, double confidence, int exit) {
            if (exit < 1 || exit > u.exits()) throw py::value_error("exit: must be in [1, exits]");
            return u.bin_of(confidence, exit);
          },
          py::arg("confidence"), py::arg("exit") = 1)
      .def_property_readonly("prior_table", &UtilityModel::prior_table)
      .def_property_readonly("edges", &UtilityModel::edges);

  py::class_<Model>(m, "Model", "One model of a scenario (a view: valid while its Scenario lives)")
      .def_property_readonly("name", [](const Model& x) { return x.name; })
      .def_property_readonly("mandatory_depth", [](const Model& x) { return x.mandatory_depth; })
      .def_property_readonly("stages", &Model::stages)
      .def_property_readonly(
          "profile", [](const Model& x) { return to_python(sim::profile_to_json(x.profile, x.concurrent)); },
          "the stage-time tables as a profile file holds them (ms)")
      .def_property_readonly("utility", [](const Model& x) -> const UtilityModel& { return x.utility; },
                             py::return_value_policy::reference_internal);

  py::class_<PyScenario>(m, "Scenario", "A loaded scenario (load_scenario)")
      .def_property_readonly("name", [](const PyScenario& s) { return s.scenario->name; })
      .def_property_readonly("duration_s", [](const PyScenario& s) { return to_seconds(s.scenario->duration); })
      .def_property_readonly("max_batch", [](const PyScenario& s) { return s.scenario->max_batch; })
      .def_property_readonly("models",
                             [](py::object self) {
                               const PyScenario& s = self.cast<const PyScenario&>();
                               py::list out;
                               for (const Model& model : s.scenario->models)
                                 out.append(py::cast(&model, py::return_value_policy::reference_internal, self));
                               return out;
                             })
      .def_property_readonly("streams",
                             [](const PyScenario& s) {
                               py::list out;
                               for (const sim::StreamSpec& st : s.scenario->streams) {
                                 py::dict d;
                                 d["name"] = st.name;
                                 d["model"] = s.scenario->models[static_cast<std::size_t>(st.model)].name;
                                 d["arrival"] = sim::to_string(st.kind);
                                 d["rate_hz"] = st.rate_hz;
                                 d["deadline_ms"] = to_ms(st.relative_deadline);
                                 d["weight"] = st.weight;
                                 out.append(d);
                               }
                               return out;
                             })
      .def("full_depth_utilization", [](const PyScenario& s) { return sim::full_depth_utilization(*s.scenario); })
      .def("rate_scale_for_load", [](const PyScenario& s, double load) { return sim::rate_scale_for_load(*s.scenario, load); },
           py::arg("load"));

  m.def(
      "load_scenario", [](const std::string& path) { return PyScenario{std::make_shared<const sim::Scenario>(sim::load_scenario(path))}; },
      py::arg("path"), "Reads a scenario file (relative paths inside it resolve against its directory).");
  m.def(
      "load_profile",
      [](const std::string& path) {
        const sim::ProfileTables t = sim::load_profile_tables(path);
        return to_python(sim::profile_to_json(t.profile, t.concurrent));
      },
      py::arg("path"),
      "A profile file's tables: {batch_sizes: [...], stages: [[{mean_ms, p50_ms, p99_ms, max_ms} per batch size] per "
      "stage], concurrent: [{lanes, batch_sizes, stages}, ...] (when measured)}.");
  m.def(
      "load_calibration",
      [](const std::string& path) {
        const data::Calibration c = data::load_calibration(path);
        py::dict d;
        d["temperatures"] = c.temperatures;
        d["ece_raw"] = c.ece_raw;
        d["ece"] = c.ece;
        d["utility"] = c.utility;
        return d;
      },
      py::arg("path"),
      "A calibration file (models/<m>.calibration.json): {temperatures, ece_raw, ece, utility: UtilityModel}.");
}

}  // namespace imprecise::python
