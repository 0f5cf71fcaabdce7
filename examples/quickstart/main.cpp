// Quick-start example (the one in the README): plan one decision point, then simulate a workload.
#include <fmt/core.h>

#include <imprecise/imprecise.hpp>
#include <imprecise/sim/scenario.hpp>
#include <imprecise/sim/simulator.hpp>

int main(int argc, char** argv) {
  // One decision point: which depth should each pending job stop at?
  imprecise::PlanProblem problem;
  problem.reset(/*now=*/0);
  std::vector<imprecise::Duration> cost{0, 2, 3, 5};  // time to reach depth l (index = depth)
  std::vector<double> reward{0, 0.70, 0.82, 0.88};     // expected accuracy if it stops at l
  problem.add(/*deadline=*/4, /*done=*/0, /*lo=*/1, /*hi=*/3, cost, reward);
  imprecise::DpPlanner dp;
  const imprecise::Plan& plan = dp.solve(problem, /*delta=*/0.01);  // depth 2: depth 3 would end at 5 > 4
  fmt::print("plan: depth {}, expected accuracy {:.2f}\n", plan.depths[0], plan.total_reward);

  // A whole workload: the same Policy objects drive the simulator (and, later, the runtime).
  const char* path = argc > 1 ? argv[1] : "scenarios/edge_multi_model.json";
  auto scenario = imprecise::sim::load_scenario(path);
  imprecise::sim::SimConfig config;
  config.load = 2.0;  // 2x what running every job to full depth could sustain
  auto result = imprecise::sim::simulate(scenario, "yao-dp", config);
  fmt::print("yao-dp at load 2: accuracy {:.3f}, misses {:.3f}\n", result.metrics.total.accuracy,
             result.metrics.total.miss_ratio);
  return plan.depths[0] == 2 && result.metrics.total.miss_ratio < 0.01 ? 0 : 1;
}
