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

void BM_Simulate_EdfFull(benchmark::State& state) { run(state, "edf-full"); }
void BM_Simulate_Density(benchmark::State& state) { run(state, "density"); }
void BM_Simulate_YaoDp(benchmark::State& state) { run(state, "yao-dp"); }

}  // namespace

// Argument: offered load in percent of the device at full depth.
BENCHMARK(BM_Simulate_EdfFull)->Arg(100)->Arg(300)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Simulate_Density)->Arg(100)->Arg(300)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Simulate_YaoDp)->Arg(100)->Arg(300)->Unit(benchmark::kMillisecond);
