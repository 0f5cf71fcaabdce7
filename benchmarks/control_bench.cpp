// Cost of one Controller::decide with 3 models over 2 lanes, per controller (static, aimd, model-based,
// sac with a 31 -> 64 -> 64 -> 33 actor on the cpu backend), with the p50 and p99 of single decisions.
// The bar: a decision costs <= 50 us at p99, so it can run inside a scheduling pass.
// Two ways: warm (decisions back to back) and cold (32 MB written before each, untimed): in a real run
// a decision comes every 100 ms, after the lanes' stages have run through the caches, so it finds the
// controller's data (its tables, the actor's weights) in memory rather than in the caches. The cold
// rows run a fixed 1,000 decisions: each eviction takes milliseconds.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "imprecise/control/controllers.hpp"
#include "imprecise/core/cache_evictor.hpp"
#include "imprecise/core/nearest_rank.hpp"
#include "imprecise/imprecise.hpp"

namespace {

using namespace imprecise;

/// Stages of `stage_ms` at batch 1; a batch of b costs 1 + 0.25 (b - 1) times that; batches 1..8.
Model model(const std::string& name, int stages, double stage_ms) {
  const std::vector<int> batches{1, 2, 4, 8};
  std::vector<std::vector<StageTiming>> timing(static_cast<std::size_t>(stages));
  for (auto& row : timing)
    for (const int b : batches) {
      const Duration t = from_ms(stage_ms * (1.0 + 0.25 * (b - 1)));
      row.push_back(StageTiming{t, t, t, t});
    }
  Model m;
  m.name = name;
  m.profile = Profile(batches, timing);
  std::vector<Profile> slower;  // two lanes at once: 30 % slower each
  for (auto& row : timing)
    for (StageTiming& t : row) t.mean = t.p50 = t.p99 = t.max = static_cast<Duration>(static_cast<double>(t.p50) * 1.3);
  m.concurrent.push_back(Profile(batches, timing));
  std::vector<double> prior(static_cast<std::size_t>(stages));
  for (int l = 1; l <= stages; ++l) prior[static_cast<std::size_t>(l - 1)] = 0.5 + 0.4 * l / stages;
  std::vector<double> table(static_cast<std::size_t>(stages) * stages, 0.8);
  m.utility = UtilityModel(stages, 1, prior, table);
  return m;
}

/// Eight windows of varied load, cycled through so no two consecutive decisions see the same one.
std::vector<std::vector<ModelWindow>> windows() {
  std::vector<std::vector<ModelWindow>> all;
  for (int step = 0; step < 8; ++step) {
    std::vector<ModelWindow> ws(3);
    for (int m = 0; m < 3; ++m) {
      ModelWindow& w = ws[static_cast<std::size_t>(m)];
      w.arrived = 20 + 80 * ((step + m) % 4);
      w.answered = w.arrived - step % 3;
      w.completed = w.answered - step % 2;
      w.missed = step % 2;
      w.latency_mean = w.latency_p50 = from_ms(2 + step % 5);
      w.latency_p99 = from_ms(5 + 3 * (step % 4));
      w.slo = from_ms(15 + 5 * m);
      w.dispatches = 10;
      w.mean_batch = 1 + step % 4;
      w.pending = step % 7;
    }
    all.push_back(std::move(ws));
  }
  return all;
}

void BM_Decide(benchmark::State& state, const std::string& name, bool cold) {
  const std::vector<Model> models{model("a", 2, 1.0), model("b", 3, 2.0), model("c", 4, 0.5)};
  ControllerConfig config;
  config.lanes = 2;
  config.actor = std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/control/actor_3x2.onnx";
  auto controller = control::make_controller(name, models, config);
  const auto all = windows();
  std::vector<ModelControl> current(3, config.fixed), next(3);
  std::vector<double> samples;
  samples.reserve(1 << 20);
  CacheEvictor evictor(cold ? std::size_t{32} << 20 : 0);
  std::size_t i = 0;
  for (auto _ : state) {
    if (cold) evictor.evict();
    const ControlObservation o{0, from_ms(100), 2, 0.5, all[i++ % all.size()], current, models};  // as ControlLoop gives it
    std::copy(current.begin(), current.end(), next.begin());
    const auto t0 = std::chrono::steady_clock::now();
    controller->decide(o, next);
    const auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(next.data());
    std::copy(next.begin(), next.end(), current.begin());
    if (samples.size() < samples.capacity()) samples.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  state.counters["p50_us"] = imprecise::nearest_rank(samples, 0.50);
  state.counters["p99_us"] = imprecise::nearest_rank(samples, 0.99);
}

BENCHMARK_CAPTURE(BM_Decide, static, std::string("static"), false)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decide, aimd, std::string("aimd"), false)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decide, model_based, std::string("model-based"), false)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decide, sac, std::string("sac"), false)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decide, model_based_cold, std::string("model-based"), true)->Iterations(1000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decide, sac_cold, std::string("sac"), true)->Iterations(1000)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
