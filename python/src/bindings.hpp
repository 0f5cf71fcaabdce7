// The pieces of the `imprecise` Python module, one file each; module.cpp puts them together.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

#include "imprecise/sim/scenario.hpp"

namespace imprecise::python {

namespace py = pybind11;

/// A loaded scenario, shared by everything built on it (controllers and simulations keep pointers
/// into its models).
using ScenarioPtr = std::shared_ptr<const sim::Scenario>;
/// A Scenario object, or the path of a scenario file (loaded).
ScenarioPtr scenario_arg(const py::object& scenario);
/// A JSON value as the Python object json.loads gives.
py::object to_python(const nlohmann::json& value);

void add_scenario(py::module_& m);     // Scenario, Model, UtilityModel, load_scenario, load_profile, load_calibration
void add_simulate(py::module_& m);     // simulate()
void add_planners(py::module_& m);     // plan()
void add_control_env(py::module_& m);  // ControlEnv

}  // namespace imprecise::python
