// The jobs of a run as the simulator released them (a load schedule thins them inside simulate()),
// with each job's test sample, so the real run serves exactly those.
#pragma once

#include "imprecise/sim/jobs.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"

namespace edge_server {

/// `simulated`'s jobs (ids in release order) and each one's sample index in its model's test set,
/// read back from the job's oracle span (which points into scenario.test_sets).
imprecise::sim::JobPlan released_jobs(const imprecise::sim::Scenario& scenario,
                                      const imprecise::sim::SimResult& simulated);

}  // namespace edge_server
