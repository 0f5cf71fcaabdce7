// A real run's SloReport, by the simulator's own functions: the whole-run ModelWindows of
// sim::detail::run_windows (with the batches a DispatchCounter saw) scored by sim::slo_report, so the
// real and the simulated figures come from one formula.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "imprecise/sched/control_loop.hpp"
#include "imprecise/sched/observer.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/slo_report.hpp"
#include "sim/run_windows.hpp"

namespace edge_server {

/// Counts each model's batches and the jobs in them, as the simulator does for run_windows.
class DispatchCounter final : public imprecise::Observer {
 public:
  explicit DispatchCounter(std::size_t models) : counts_(models) {}
  void on_dispatch(int lane, imprecise::ModelId model, int stage, std::span<const imprecise::JobInfo> jobs,
                   imprecise::Time now) override;
  std::vector<imprecise::sim::detail::DispatchCount> counts() const;

 private:
  mutable std::mutex mu_;
  std::vector<imprecise::sim::detail::DispatchCount> counts_;
};

/// What a real run produced, as the simulator would have returned it.
struct RealRunRecord {
  const imprecise::sim::SimMetrics* metrics = nullptr;
  const std::vector<imprecise::Job>* jobs = nullptr;
  const std::vector<imprecise::Outcome>* outcomes = nullptr;  ///< times relative to the run's start
  std::vector<imprecise::sim::detail::DispatchCount> dispatches;
  std::vector<imprecise::ControlRecord> control;  ///< Engine::control_history()
  imprecise::Duration horizon = 0;
};

imprecise::sim::SloReport real_slo_report(const imprecise::sim::Scenario& scenario, const RealRunRecord& run,
                                          const imprecise::SloUtilityWeights& weights, int lanes,
                                          const std::string& controller);

}  // namespace edge_server
