// Inference-engine latency on the cuda backend: each fixture multi-exit model, per stage, batch 1/8/32.
//
// Rows: engine_cuda/<model>/stage:<k>/batch:<b> times MultiExitModel::run_stage(k, b jobs) on the GPU
// (host -> pinned staging -> CUDA graph -> host, synchronized) for jobs that have finished k stages.
// Counter us_per_sample = time / b. Where the cuda backend is not built or sees no GPU every row is
// reported as skipped (SkipWithError), so the program still runs and says why.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "imprecise/nn/backend.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "staged_fixture_jobs.hpp"

namespace {

using namespace imprecise::nn;
using namespace imprecise::bench;
using Clock = std::chrono::steady_clock;


/// Why the cuda rows cannot run here ("" when they can).
std::string unavailable() {
  const Backend* cuda = BackendRegistry::get().find("cuda");
  if (!cuda) return "built without the cuda backend";
  if (cuda->device_count() == 0) return "no CUDA device";
  return "";
}

using Prepared = imprecise::bench::StagedJobs;

std::unique_ptr<Prepared> prepare(const std::string& name) { return imprecise::bench::stage_fixture_jobs(name, "cuda"); }

void run_stage(benchmark::State& state, Prepared& p, int stage, int batch) {
  const auto& masters = p.depth[static_cast<std::size_t>(stage)];
  std::vector<JobState> jobs(masters.begin(), masters.begin() + batch);
  std::vector<JobState*> ptrs;
  for (auto& job : jobs) ptrs.push_back(&job);
  std::vector<ExitResult> results;
  double total = 0.0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) jobs[static_cast<std::size_t>(i)] = masters[static_cast<std::size_t>(i)];
    const auto t0 = Clock::now();
    p.model.run_stage(stage, ptrs, results);
    const auto t1 = Clock::now();
    benchmark::DoNotOptimize(results.data());
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(seconds);
    total += seconds;
  }
  state.counters["us_per_sample"] = total / static_cast<double>(state.iterations()) / batch * 1e6;
  state.counters["batch"] = batch;
  state.SetItemsProcessed(state.iterations() * batch);
}

std::vector<std::unique_ptr<Prepared>>& models() {
  static std::vector<std::unique_ptr<Prepared>> all;
  return all;
}

void register_skipped(const std::string& name, const std::string& why) {
  benchmark::RegisterBenchmark(("engine_cuda/" + name).c_str(),
                               [why](benchmark::State& state) { state.SkipWithError(why.c_str()); });
}

bool register_all() {
  const std::string why = unavailable();
  for (const char* name : kModels) {
    if (!why.empty()) {
      register_skipped(name, why);
      continue;
    }
    try {
      models().push_back(prepare(name));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "engine_cuda_bench: skipping %s: %s\n", name, e.what());
      register_skipped(name, e.what());
      continue;
    }
    Prepared* p = models().back().get();
    for (const int batch : kBatches)
      for (int k = 0; k < p->model.stages(); ++k)
        benchmark::RegisterBenchmark(("engine_cuda/" + std::string(name) + "/stage:" + std::to_string(k) +
                                      "/batch:" + std::to_string(batch))
                                         .c_str(),
                                     [p, k, batch](benchmark::State& state) { run_stage(state, *p, k, batch); })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
  }
  return true;
}

}  // namespace

// Models are loaded in main, not by a static initializer: a CUDA kernel launched before the static
// constructors that register our kernels' fat binaries have run fails with "invalid resource handle"
// (measured on an H200: every row with one of our own kernels failed that way).
int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
