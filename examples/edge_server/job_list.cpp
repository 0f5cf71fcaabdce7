// released_jobs(): a simulated run's jobs with their test samples recovered.
#include "job_list.hpp"

#include <fmt/core.h>

#include "imprecise/error.hpp"

namespace edge_server {

using namespace imprecise;

sim::JobPlan released_jobs(const sim::Scenario& scenario, const sim::SimResult& simulated) {
  sim::JobPlan plan;
  plan.jobs = simulated.jobs;
  plan.samples.reserve(plan.jobs.size());
  for (const Job& job : plan.jobs) {
    const sim::ReplaySet& test = scenario.test_sets.at(static_cast<std::size_t>(job.model));
    // ReplaySet::sample(i) starts at records[i * exits]: the offset gives i back.
    const std::ptrdiff_t offset = job.oracle.data() - test.records.data();
    if (test.exits <= 0 || offset < 0 || offset % test.exits != 0 || offset / test.exits >= test.samples())
      throw Error(fmt::format("edge_server: job {}'s sample is not in model {}'s test set", job.id, job.model));
    plan.samples.push_back(static_cast<int>(offset / test.exits));
  }
  return plan;
}

}  // namespace edge_server
