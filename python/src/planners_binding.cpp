// plan(): a PlanProblem built from Python lists, solved by yao-dp, density or the exhaustive planner.
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "imprecise/sched/density_planner.hpp"
#include "imprecise/sched/dp_planner.hpp"
#include "imprecise/sched/exhaustive_planner.hpp"
#include "imprecise/sched/plan_problem.hpp"

namespace imprecise::python {
namespace {

PlanProblem problem_of(const py::list& jobs, Time now, const std::optional<std::vector<Time>>& lane_free) {
  PlanProblem p;
  if (lane_free) {
    if (lane_free->empty()) throw py::value_error("lane_free: at least one lane");
    p.reset(now, *lane_free);
  } else {
    p.reset(now);
  }
  std::size_t i = 0;
  for (const py::handle item : jobs) {
    const auto job = py::reinterpret_borrow<py::dict>(item);
    const auto field = [&](const char* key) -> py::object {
      if (!job.contains(key)) throw py::value_error(fmt::format("jobs[{}]: missing '{}'", i, key));
      return job[key];
    };
    const auto deadline = field("deadline").cast<Time>();
    const int done = job.contains("done") ? job["done"].cast<int>() : 0;
    const int lo = field("lo").cast<int>(), hi = field("hi").cast<int>();
    const auto cost = field("cost").cast<std::vector<Duration>>();
    const auto reward = field("reward").cast<std::vector<double>>();
    const bool droppable = job.contains("droppable") ? job["droppable"].cast<bool>() : true;
    if (done < 0 || lo < done || hi < lo)
      throw py::value_error(fmt::format("jobs[{}]: need 0 <= done <= lo <= hi, got done {} lo {} hi {}", i, done, lo, hi));
    if (cost.size() <= static_cast<std::size_t>(hi) || reward.size() <= static_cast<std::size_t>(hi))
      throw py::value_error(fmt::format("jobs[{}]: cost and reward need hi + 1 = {} entries (indexed by depth)", i, hi + 1));
    for (int l = done + 1; l <= hi; ++l)
      if (cost[static_cast<std::size_t>(l)] < cost[static_cast<std::size_t>(l - 1)] || cost[static_cast<std::size_t>(l)] < 0)
        throw py::value_error(fmt::format("jobs[{}]: cost: must be >= 0 and non-decreasing in depth", i));
    p.add(deadline, done, lo, hi, cost, reward, droppable);
    ++i;
  }
  return p;
}

py::dict to_dict(const Plan& plan) {
  py::dict d;
  d["depths"] = plan.depths;
  d["total_reward"] = plan.total_reward;
  d["dropped"] = plan.dropped;
  d["feasible"] = plan.feasible;
  d["delta_used"] = plan.delta_used;
  d["coarsened"] = plan.coarsened;
  return d;
}

}  // namespace

void add_planners(py::module_& m) {
  m.def(
      "plan",
      [](const py::list& jobs, const std::string& planner, Time now, std::optional<std::vector<Time>> lane_free,
         double eps, std::optional<double> delta) {
        const PlanProblem problem = problem_of(jobs, now, lane_free);
        if (planner == "yao-dp") {
          if (!(eps > 0 && eps <= 1)) throw py::value_error("eps: must be in (0, 1]");
          RewardQuantum q;
          q.eps = eps;
          if (delta) {
            if (!(*delta > 0)) throw py::value_error("delta: must be > 0");
            q.absolute = *delta;
          }
          DpPlanner dp;
          return to_dict(dp.solve(problem, q));
        }
        if (planner == "density") {
          DensityPlanner density;
          return to_dict(density.solve(problem));
        }
        if (planner == "exhaustive") return to_dict(solve_exhaustive(problem));
        throw py::value_error(fmt::format("planner: '{}' is not yao-dp, density or exhaustive", planner));
      },
      py::arg("jobs"), py::arg("planner") = "yao-dp", py::arg("now") = 0, py::arg("lane_free") = py::none(),
      py::arg("eps") = 0.01, py::arg("delta") = py::none(),
      "Plans one decision. jobs: in run order (EDF), each a dict {deadline (ns), done (default 0), lo, hi, cost "
      "(ns, per depth 0..hi, from now, non-decreasing), reward (per depth 0..hi), droppable (default True)}. "
      "lane_free: when each lane frees (ns; default one lane free at now). Returns {depths, total_reward, "
      "dropped, feasible, delta_used, coarsened}; depth 0 = dropped.");
}

}  // namespace imprecise::python
