// Simulator throughput: events per second on the shipped multi-model edge scenario, per policy.
#include <benchmark/benchmark.h>

#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"

namespace {

const imprecise::sim::Scenario& edge_scenario() {
  static const imprecise::sim::Scenario scenario =
      imprecise::sim::load_scenario(IMPRECISE_SOURCE_DIR "/scenarios/edge_multi_model.json");
  return scenario;
}

void run(benchmark::State& state, const char* policy) {
  imprecise::sim::SimConfig config;
  config.load = static_cast<double>(state.range(0)) / 100.0;
  config.duration = imprecise::from_seconds(20);
  std::int64_t events = 0;
  for (auto _ : state) {
    const auto result = imprecise::sim::simulate(edge_scenario(), policy, config);
    events += result.metrics.events;
    benchmark::DoNotOptimize(result.metrics.total.accuracy);
  }
  state.counters["events_per_second"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

// A deep backlog: the trained models (edge-server scenario) at 12x load on two lanes, where a pass
// settles and sheds many of the ~500 pending jobs at once (docs/design.md, jobs that leave together).
void BM_Simulate_DeepBacklog(benchmark::State& state, const char* policy) {
  static const imprecise::sim::Scenario scenario =
      imprecise::sim::load_scenario(IMPRECISE_SOURCE_DIR "/scenarios/edge_server.json");
  imprecise::sim::SimConfig config;
  config.load = 12.0;
  config.lanes = static_cast<int>(state.range(0));
  config.duration = imprecise::from_seconds(2);
  std::int64_t decisions = 0;
  for (auto _ : state) {
    const auto result = imprecise::sim::simulate(scenario, policy, config);
    decisions += result.metrics.decisions;
    benchmark::DoNotOptimize(result.metrics.total.accuracy);
  }
  state.counters["decisions_per_second"] = benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}

void BM_Simulate_EdfFull(benchmark::State& state) { run(state, "edf-full"); }
void BM_Simulate_Density(benchmark::State& state) { run(state, "density"); }
void BM_Simulate_YaoDp(benchmark::State& state) { run(state, "yao-dp"); }

}  // namespace

// Argument: offered load in percent of the device at full depth.
BENCHMARK(BM_Simulate_EdfFull)->Arg(100)->Arg(300)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Simulate_Density)->Arg(100)->Arg(300)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Simulate_YaoDp)->Arg(100)->Arg(300)->Unit(benchmark::kMillisecond);
// Argument: lanes.
BENCHMARK_CAPTURE(BM_Simulate_DeepBacklog, yao_dp, "yao-dp")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Simulate_DeepBacklog, density, "density")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
