// run_real(): submits a planned workload in real time to an Engine and measures what it answered.
#include "real_run.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/core.h>

#include "imprecise/error.hpp"
#include "imprecise/sched/trace_writer.hpp"
#include "imprecise/sim/jobs.hpp"
#include "run_slo.hpp"
#include "served_profile.hpp"

namespace edge_server {

using namespace imprecise;
using runtime::Clock;

RunResult run_real(const sim::Scenario& scenario, const ServedSet& set, const RunConfig& config,
                   const sim::JobPlan& plan) {
  const std::size_t n = plan.jobs.size();

  runtime::EngineConfig engine_config;
  engine_config.policy = config.policy;
  engine_config.policy_config = config.policy_config;
  engine_config.policy_config.max_batch = scenario.max_batch;
  engine_config.max_pending = 2048;
  engine_config.lanes = config.lanes;
  engine_config.pin_lanes = config.pin_lanes;
  auto metrics = std::make_shared<runtime::MetricsObserver>();
  auto costs = std::make_shared<ServedProfileAverager>();
  engine_config.observers.push_back(metrics);
  engine_config.observers.push_back(costs);
  auto dispatches = std::make_shared<DispatchCounter>(scenario.models.size());
  engine_config.observers.push_back(dispatches);
  engine_config.controller = config.controller;  // made on scenario.models, the engine's plan models
  engine_config.control = config.control;
  if (!config.trace_path.empty()) engine_config.observers.push_back(std::make_shared<TraceWriter>(config.trace_path));
  runtime::Engine engine(make_served_models(scenario, set, config.backend), engine_config);

  RunResult result;
  result.jobs = plan.jobs;
  result.outcomes.resize(n);
  std::vector<int> delivered(n, 0);
  std::mutex mu;
  std::condition_variable all_done;
  std::size_t done = 0;

  // One reusable [1, ...] input per model: submit() copies it into the job's own buffer.
  std::vector<nn::Tensor> one;
  for (const auto& inputs : set.inputs) {
    nn::Shape shape = inputs.inputs.shape();
    shape[0] = 1;
    one.emplace_back(shape);
  }
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(20);
  const Time start_time = engine.to_time(start);
  for (std::size_t i = 0; i < n; ++i) {
    const Job& job = plan.jobs[i];
    const auto m = static_cast<std::size_t>(job.model);
    const auto sample = set.inputs[m].inputs.sample(static_cast<std::size_t>(plan.samples[i]));
    std::copy(sample.begin(), sample.end(), one[m].values().begin());
    std::this_thread::sleep_until(start + std::chrono::nanoseconds(job.release));
    const int label = set.inputs[m].labels[static_cast<std::size_t>(plan.samples[i])];
    engine.submit(job.model, one[m], start + std::chrono::nanoseconds(job.deadline),
                  [&, i, label, start_time](Outcome o) {
                    std::lock_guard lock(mu);
                    o.job = static_cast<JobId>(i);
                    o.finish -= start_time;
                    o.correct = o.status == OutcomeStatus::completed && o.prediction == label;
                    result.outcomes[i] = std::move(o);
                    if (++delivered[i] == 1) ++done;
                    all_done.notify_all();
                  },
                  job.weight);
  }
  {
    // Every deadline has passed a little after the last one; wait a generous margin beyond it.
    const Time last_deadline = n == 0 ? 0 : std::max_element(plan.jobs.begin(), plan.jobs.end(), [](const Job& a, const Job& b) {
                                              return a.deadline < b.deadline;
                                            })->deadline;
    std::unique_lock lock(mu);
    all_done.wait_until(lock, start + std::chrono::nanoseconds(last_deadline) + std::chrono::seconds(10),
                        [&] { return done == n; });
  }
  engine.stop(runtime::StopMode::cancel);
  result.engine = metrics->snapshot();
  for (std::size_t m = 0; m < scenario.models.size(); ++m)
    result.served_profiles.push_back(costs->averaged(static_cast<ModelId>(m), scenario.models[m].profile_at(config.lanes)));
  {
    std::lock_guard lock(mu);
    for (int d : delivered) result.outcome_violations += d == 1 ? 0 : 1;
  }

  sim::SimMetrics& m = result.metrics;
  m.policy = config.policy;
  m.load = config.load;
  m.seed = config.seed;
  m.total = sim::summarize_stream("total", result.jobs, result.outcomes);
  for (std::size_t s = 0; s < scenario.streams.size(); ++s)
    m.streams.push_back(sim::summarize_stream(scenario.streams[s].name, result.jobs, result.outcomes, static_cast<int>(s)));
  // Per lane, as the simulator counts it: busy time over (horizon x lanes).
  m.utilization = static_cast<double>(result.engine.lane_busy) /
                  (static_cast<double>(config.horizon) * static_cast<double>(config.lanes));
  m.decision_p50_us = static_cast<double>(result.engine.decision_p50) / 1e3;
  m.decision_p99_us = static_cast<double>(result.engine.decision_p99) / 1e3;
  m.decisions = result.engine.decisions;
  RealRunRecord record{&result.metrics, &result.jobs, &result.outcomes, dispatches->counts(),
                       engine.control_history(), config.horizon};
  result.slo = real_slo_report(scenario, record, config.control.utility, config.lanes,
                               config.controller ? std::string(config.controller->name()) : "");
  return result;
}

}  // namespace edge_server
