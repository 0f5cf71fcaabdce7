// ControlEnv: a Gym-style environment over the steppable Simulation. One step is one control interval;
// the observation and the action's decoding are sac_features.hpp's (the sac controller's own), the reward
// is the interval's SloUtility.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "imprecise/control/sac_features.hpp"
#include "imprecise/error.hpp"
#include "imprecise/sim/simulation.hpp"
#include "run_settings.hpp"

namespace imprecise::python {
namespace {

constexpr const char* kBranchNames[control::kBranches] = {"batch", "wait", "lanes"};

py::dict control_dict(const ModelControl& c) {
  py::dict d;
  d["max_batch"] = c.max_batch;
  d["batch_wait_ms"] = to_ms(c.batch_wait);
  d["lanes"] = c.lanes;
  return d;
}

class ControlEnv {
 public:
  ControlEnv(ScenarioPtr scenario, std::string policy, RunSettings settings, int episode_intervals)
      : scenario_(std::move(scenario)), policy_(std::move(policy)), settings_(settings), episode_(episode_intervals) {
    if (episode_ < 1) throw py::value_error("episode_intervals: must be >= 1");
    // Arrivals span the episode (its first interval, observed at reset, and one per step) unless told otherwise.
    if (!settings_.duration_s) settings_.duration_s = settings_.interval_ms * (episode_ + 1) / 1e3;
    config_ = make_config(*scenario_, settings_);
    // The controls an episode starts from: each model's largest batch, no wait, every lane.
    config_.control.fixed = ModelControl{config_.control.max_batch, 0, 0};
    models_ = static_cast<int>(scenario_->models.size());
    obs_size_ = control::observation_size(models_);
    const std::array<int, control::kBranches> sizes = control::branch_sizes(config_.control);
    for (int m = 0; m < models_; ++m) branch_sizes_.insert(branch_sizes_.end(), sizes.begin(), sizes.end());
    controls_.resize(static_cast<std::size_t>(models_));
  }

  py::array_t<float> reset(std::optional<std::uint64_t> seed) {
    config_.seed = seed.value_or(settings_.seed);
    {
      py::gil_scoped_release released;
      sim_ = std::make_unique<sim::Simulation>(*scenario_, policy_, config_, sim::ControlMode::external);
      sim_->run_until(sim_->next_control());
    }
    steps_ = 0;
    done_ = sim_->done();
    return observe();
  }

  py::tuple step(const py::object& action) {
    if (!sim_) throw py::value_error("step: call reset() first");
    if (done_) throw py::value_error("step: the episode is over; call reset()");
    const std::vector<int> choice = choices_of(action);
    try {
      control::decode_action(choice, config_.control, controls_);
    } catch (const Error& e) {
      throw py::value_error(fmt::format("action: {}", e.what()));
    }
    {
      py::gil_scoped_release released;
      sim_->apply(controls_);
      sim_->run_until(sim_->next_control());
    }
    ++steps_;
    done_ = sim_->done() || steps_ >= episode_;
    const double reward = sim_->last_utility();
    py::array_t<float> obs = observe();
    return py::make_tuple(obs, reward, done_, info());
  }

  int observation_size() const { return obs_size_; }
  const std::vector<int>& branch_sizes() const { return branch_sizes_; }
  py::list branch_names() const {
    py::list out;
    for (int m = 0; m < models_; ++m)
      for (const char* b : kBranchNames) out.append(fmt::format("{}.{}", scenario_->models[static_cast<std::size_t>(m)].name, b));
    return out;
  }
  int action_logits() const { return control::action_size(models_, config_.control); }
  py::list model_names() const {
    py::list out;
    for (const Model& m : scenario_->models) out.append(m.name);
    return out;
  }
  py::list controls() const {
    py::list out;
    if (sim_)
      for (const ModelControl& c : sim_->controls()) out.append(control_dict(c));
    return out;
  }
  double now_s() const { return sim_ ? to_seconds(sim_->now()) : 0.0; }

  /// The choice indices closest to `controls` (one dict {max_batch, batch_wait_ms, lanes} per model).
  std::vector<int> encode_action(const py::list& controls) const {
    if (static_cast<int>(controls.size()) != models_)
      throw py::value_error(fmt::format("controls: expected {} (one per model), got {}", models_, controls.size()));
    std::vector<ModelControl> c;
    for (const py::handle item : controls) {
      const auto d = py::reinterpret_borrow<py::dict>(item);
      c.push_back(ModelControl{d["max_batch"].cast<int>(), from_ms(d["batch_wait_ms"].cast<double>()), d["lanes"].cast<int>()});
    }
    std::vector<int> choice(static_cast<std::size_t>(models_ * control::kBranches));
    control::encode_action(c, config_.control, choice);
    return choice;
  }

 private:
  std::vector<int> choices_of(const py::object& action) const {
    std::vector<int> choice;
    try {
      const auto a = py::array_t<long long, py::array::c_style | py::array::forcecast>::ensure(action);
      if (!a || a.ndim() != 1) throw py::value_error("");
      for (py::ssize_t i = 0; i < a.shape(0); ++i) choice.push_back(static_cast<int>(a.at(i)));
    } catch (const py::error_already_set&) {
      throw py::value_error("action: expected a sequence of choice indices (integers)");
    } catch (const py::value_error&) {
      throw py::value_error("action: expected a flat sequence of choice indices (integers)");
    }
    const auto expected = static_cast<std::size_t>(models_ * control::kBranches);
    if (choice.size() != expected)
      throw py::value_error(fmt::format("action: expected {} choices (per model: batch, wait, lanes), got {}", expected,
                                        choice.size()));
    // Named here by model and branch; decode_action checks the same ranges again.
    for (std::size_t i = 0; i < choice.size(); ++i) {
      const int size = branch_sizes_[i];
      if (choice[i] < 0 || choice[i] >= size)
        throw py::value_error(fmt::format("action[{}] (model '{}', branch {}): {} is out of range [0, {})", i,
                                          scenario_->models[i / control::kBranches].name,
                                          kBranchNames[i % control::kBranches], choice[i], size));
    }
    return choice;
  }

  py::array_t<float> observe() const {
    py::array_t<float> obs(obs_size_);
    const ControlObservation o = sim_->observation();
    control::encode_observation(o, scenario_->models, config_.control,
                                std::span<float>(obs.mutable_data(), static_cast<std::size_t>(obs_size_)));
    return obs;
  }

  py::dict info() const {
    py::dict d;
    const ControlObservation o = sim_->observation();
    d["time_s"] = to_seconds(sim_->now());
    d["busy_fraction"] = o.busy_fraction;
    d["simulation_done"] = sim_->done();
    py::list windows;
    for (std::size_t m = 0; m < o.models.size(); ++m) {
      const ModelWindow& w = o.models[m];
      py::dict x;
      x["model"] = scenario_->models[m].name;
      x["arrived"] = w.arrived;
      x["answered"] = w.answered;
      x["completed"] = w.completed;
      x["missed"] = w.missed;
      x["rejected"] = w.rejected;
      x["failed"] = w.failed;
      x["expected_correct"] = w.expected_correct;
      x["latency_mean_ms"] = to_ms(w.latency_mean);
      x["latency_p99_ms"] = to_ms(w.latency_p99);
      x["pending"] = w.pending;
      x["mean_batch"] = w.mean_batch;
      windows.append(x);
    }
    d["windows"] = windows;
    d["controls"] = controls();
    return d;
  }

  ScenarioPtr scenario_;
  std::string policy_;
  RunSettings settings_;
  int episode_;
  sim::SimConfig config_;
  int models_ = 0;
  int obs_size_ = 0;
  std::vector<int> branch_sizes_;
  std::vector<ModelControl> controls_;
  std::unique_ptr<sim::Simulation> sim_;
  int steps_ = 0;
  bool done_ = true;
};

}  // namespace

void add_control_env(py::module_& m) {
  py::class_<ControlEnv>(m, "ControlEnv",
                         "Gym-style environment: one step = one control interval of a simulated run. "
                         "reset(seed) -> obs; step(action) -> (obs, reward, done, info). action: one choice index "
                         "per branch, model by model [batch, wait, lanes] (branch_sizes); obs: float32 of "
                         "observation_size (sac_features.hpp); reward: the interval's SloUtility.")
      .def(py::init([](const py::object& scenario, const std::string& policy, double load,
                       std::optional<std::string> load_schedule, int lanes, double interval_ms, int episode_intervals,
                       std::optional<double> duration_s, std::optional<int> max_batch, double max_batch_wait_ms,
                       std::uint64_t seed, double latency_weight, double violation_weight, bool accuracy_weighted) {
             RunSettings s;
             s.load = load;
             s.load_schedule = load_schedule.value_or("");
             s.lanes = lanes;
             s.interval_ms = interval_ms;
             s.duration_s = duration_s;
             s.max_batch = max_batch;
             s.max_batch_wait_ms = max_batch_wait_ms;
             s.seed = seed;
             s.latency_weight = latency_weight;
             s.violation_weight = violation_weight;
             s.accuracy_weighted = accuracy_weighted;
             return std::make_unique<ControlEnv>(scenario_arg(scenario), policy, s, episode_intervals);
           }),
           py::arg("scenario"), py::arg("policy") = "yao-dp", py::arg("load") = 1.0,
           py::arg("load_schedule") = py::none(), py::arg("lanes") = 1, py::arg("interval_ms") = 100.0,
           py::arg("episode_intervals") = 50, py::arg("duration_s") = py::none(), py::arg("max_batch") = py::none(),
           py::arg("max_batch_wait_ms") = 10.0, py::arg("seed") = 1, py::arg("latency_weight") = 0.5,
           py::arg("violation_weight") = 1.0, py::arg("accuracy_weighted") = true)
      .def("reset", &ControlEnv::reset, py::arg("seed") = py::none(),
           "Starts an episode (seed: default the constructor's; arrivals over (episode_intervals + 1) intervals unless "
           "duration_s) and runs its first interval under the starting "
           "controls (every model: the largest batch, no wait, every lane); returns that interval's observation.")
      .def("step", &ControlEnv::step, py::arg("action"),
           "Applies the action's controls at once and runs one interval; returns (obs, reward, done, info). "
           "ValueError naming the model and branch for a bad action.")
      .def("encode_action", &ControlEnv::encode_action, py::arg("controls"),
           "The action closest to the given controls (a list of {max_batch, batch_wait_ms, lanes} per model).")
      .def_property_readonly("observation_size", &ControlEnv::observation_size)
      .def_property_readonly("branch_sizes", &ControlEnv::branch_sizes, "choices per branch, model by model")
      .def_property_readonly("branch_names", &ControlEnv::branch_names, "'<model>.batch|wait|lanes' per branch")
      .def_property_readonly("action_logits", &ControlEnv::action_logits, "sum(branch_sizes): the actor's outputs")
      .def_property_readonly("models", &ControlEnv::model_names)
      .def_property_readonly("controls", &ControlEnv::controls, "the controls in force")
      .def_property_readonly("now_s", &ControlEnv::now_s, "simulated time of the last event (s)");
  m.attr("FEATURES_PER_MODEL") = control::kFeaturesPerModel;
}

}  // namespace imprecise::python
