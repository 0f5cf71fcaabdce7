// simulate(): a whole run of the one simulator (Simulation, simulation.hpp) from time 0 to the end.
#include "imprecise/sim/simulator.hpp"

#include "imprecise/sim/simulation.hpp"

namespace imprecise::sim {

SimResult simulate(const Scenario& scenario, Policy& policy, const SimConfig& config) {
  Simulation sim(scenario, policy, config);
  return sim.finish();
}

SimResult simulate(const Scenario& scenario, const std::string& policy_spec, const SimConfig& config) {
  Simulation sim(scenario, policy_spec, config);
  return sim.finish();
}

}  // namespace imprecise::sim
