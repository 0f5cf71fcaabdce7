// Simulator throughput: events per second on the shipped multi-model edge scenario, per policy, and
// decisions per second at a deep backlog on the trained models.
#include <benchmark/benchmark.h>

#include <map>
#include <string>

#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"

namespace {

const imprecise::sim::Scenario& scenario_at(const char* file) {
  static std::map<std::string, imprecise::sim::Scenario> loaded;
  auto it = loaded.find(file);
  if (it == loaded.end()) it = loaded.emplace(file, imprecise::sim::load_scenario(std::string(IMPRECISE_SOURCE_DIR "/scenarios/") + file)).first;
  return it->second;
}

/// Simulates `policy` on the scenario over and over; reports `what` (events, decisions) per second as `counter`.
void simulate_repeatedly(benchmark::State& state, const char* file, const char* policy, const imprecise::sim::SimConfig& config,
                         std::int64_t imprecise::sim::SimMetrics::*what, const char* counter) {
  std::int64_t count = 0;
  for (auto _ : state) {
    const auto result = imprecise::sim::simulate(scenario_at(file), policy, config);
    count += result.metrics.*what;
    benchmark::DoNotOptimize(result.metrics.total.accuracy);
  }
  state.counters[counter] = benchmark::Counter(static_cast<double>(count), benchmark::Counter::kIsRate);
}

void run(benchmark::State& state, const char* policy) {
  imprecise::sim::SimConfig config;
  config.load = static_cast<double>(state.range(0)) / 100.0;
  config.duration = imprecise::from_seconds(20);
  simulate_repeatedly(state, "edge_multi_model.json", policy, config, &imprecise::sim::SimMetrics::events,
                      "events_per_second");
}

// A deep backlog: the trained models (edge-server scenario) at 12x load on two lanes, where a pass
// settles and sheds many of the ~500 pending jobs at once (docs/design.md, jobs that leave together).
void BM_Simulate_DeepBacklog(benchmark::State& state, const char* policy) {
  imprecise::sim::SimConfig config;
  config.load = 12.0;
  config.lanes = static_cast<int>(state.range(0));
  config.duration = imprecise::from_seconds(2);
  simulate_repeatedly(state, "edge_server.json", policy, config, &imprecise::sim::SimMetrics::decisions,
                      "decisions_per_second");
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
