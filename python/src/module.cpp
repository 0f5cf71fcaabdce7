// The `imprecise` Python module: imprecise::Error is raised as imprecise.Error, a ValueError.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "imprecise/config.hpp"
#include "imprecise/error.hpp"

namespace imprecise::python {

py::object to_python(const nlohmann::json& value) {
  return py::module_::import("json").attr("loads")(value.dump());
}

}  // namespace imprecise::python

PYBIND11_MODULE(imprecise, m) {
  namespace py = pybind11;
  m.doc() = "imprecise: real-time scheduling of anytime DNNs — simulator, planners, profiles, calibration and "
            "ControlEnv (the environment the sac controller trains in).";
  m.attr("__version__") = IMPRECISE_VERSION;
  // Every setup error of the library names its file or field; to Python it is a ValueError.
  py::register_exception<imprecise::Error>(m, "Error", PyExc_ValueError);
  imprecise::python::add_scenario(m);
  imprecise::python::add_simulate(m);
  imprecise::python::add_planners(m);
  imprecise::python::add_control_env(m);
}
