// Engine throughput by lane count and backend: how much more a device serves with concurrent model instances.
//
// Rows: engine_lanes/<backend>/<model>/lanes:<n>. Each iteration submits a backlog of 256 jobs (the model's
// inputs, deadlines no run comes near) to an Engine with n lanes, policy edf-full, max batch 8, and waits for
// every outcome: the time is what the engine needs to serve them all at full depth. Counter jobs_per_s; the
// ratio of two rows of one backend and model is what a second (third, ...) lane buys.
// Backends: the default cpu one (onednn when built, else cpu) and cuda, whose lanes are replicas with their
// own CUDA streams and cuDNN/cuBLAS handles. A cuda row reports why it is skipped where no GPU is present.
// Models: the trained pipeline models (models/<name>.onnx) with deterministic inputs.
#include <benchmark/benchmark.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "imprecise/nn/backend.hpp"
#include "imprecise/runtime/engine.hpp"
#include "served_bench_model.hpp"
#include "staged_fixture_jobs.hpp"

namespace {

using namespace imprecise;
using Clock = std::chrono::steady_clock;

constexpr int kBacklog = 256;
constexpr int kMaxBatch = 8;

void BM_EngineLanes(benchmark::State& state, const std::string& backend, const std::string& model) {
  if (const std::string why = bench::backend_unavailable(backend); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  const int lanes = static_cast<int>(state.range(0));
  std::vector<runtime::ServedModel> served = bench::served_model(bench::model_file(model), model, backend, kMaxBatch);
  const std::vector<nn::Tensor> xs = bench::one_per_sample(bench::sample_inputs(model, served[0].network));
  runtime::EngineConfig config;
  config.policy = "edf-full";
  config.lanes = lanes;
  config.max_pending = 2 * kBacklog;
  config.policy_config.max_batch = kMaxBatch;
  runtime::Engine engine(std::move(served), config);
  const auto backlog = [&] {
    std::vector<std::future<Outcome>> futures;
    futures.reserve(kBacklog);
    for (int i = 0; i < kBacklog; ++i)
      futures.push_back(engine.submit(0, xs[static_cast<std::size_t>(i) % xs.size()], std::chrono::seconds(60)));
    int completed = 0;
    for (auto& f : futures) completed += f.get().status == OutcomeStatus::completed;
    return completed;
  };
  backlog();  // warm-up: the online profile, first-touch memory, the lanes' caches
  std::int64_t served_jobs = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    const int completed = backlog();
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
    if (completed != kBacklog) {
      state.SkipWithError("a job of the backlog was not completed");
      return;
    }
    served_jobs += completed;
  }
  state.counters["jobs_per_s"] = benchmark::Counter(static_cast<double>(served_jobs), benchmark::Counter::kIsRate);
  state.counters["lanes"] = lanes;
}

const int registered = [] {
  const std::string cpu = nn::default_backend();
  for (const std::string& backend : {cpu, std::string("cuda")})
    for (const char* model : {"vision", "lidar", "voice"})
      benchmark::RegisterBenchmark(("engine_lanes/" + backend + "/" + model).c_str(), BM_EngineLanes, backend,
                                   std::string(model))
          ->ArgName("lanes")
          ->Arg(1)
          ->Arg(2)
          ->Arg(4)
          ->UseManualTime()
          ->MinTime(0.5)
          ->Unit(benchmark::kMillisecond);
  return 0;
}();

}  // namespace
