// run_windows(): what each model saw over a whole simulated run, as the ModelWindow SloUtility scores.
#pragma once

#include <span>
#include <vector>

#include "imprecise/core/job.hpp"
#include "imprecise/core/outcome.hpp"
#include "imprecise/sched/slo_utility.hpp"
#include "imprecise/sim/scenario.hpp"

namespace imprecise::sim::detail {

struct DispatchCount {
  int count = 0;  ///< batches run
  int jobs = 0;   ///< jobs over those batches
};

/// Per model (ModelId order); `jobs` and `outcomes` parallel, `dispatches` per model.
std::vector<ModelWindow> run_windows(const Scenario& scenario, std::span<const Job> jobs,
                                     std::span<const Outcome> outcomes, std::span<const DispatchCount> dispatches);

}  // namespace imprecise::sim::detail
