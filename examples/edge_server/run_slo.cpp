// real_slo_report(): a real run put in a SimResult and scored like a simulated one.
#include "run_slo.hpp"

namespace edge_server {

using namespace imprecise;

void DispatchCounter::on_dispatch(int /*lane*/, ModelId model, int /*stage*/, std::span<const JobInfo> jobs,
                                  Time /*now*/) {
  std::lock_guard lock(mu_);
  auto& c = counts_.at(static_cast<std::size_t>(model));
  ++c.count;
  c.jobs += static_cast<int>(jobs.size());
}

std::vector<sim::detail::DispatchCount> DispatchCounter::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

sim::SloReport real_slo_report(const sim::Scenario& scenario, const RealRunRecord& run,
                               const SloUtilityWeights& weights, int lanes, const std::string& controller) {
  sim::SimResult r;
  r.metrics = *run.metrics;
  r.jobs = *run.jobs;
  r.outcomes = *run.outcomes;
  r.windows = sim::detail::run_windows(scenario, r.jobs, r.outcomes, run.dispatches);
  r.control = run.control;
  for (const ControlRecord& c : r.control) r.control_decisions.push_back(c.decision);  // as the simulator does
  r.horizon = run.horizon;
  return sim::slo_report(r, weights, lanes, controller);
}

}  // namespace edge_server
