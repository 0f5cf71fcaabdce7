// Inference-engine latency on the cuda backend: each fixture multi-exit model, per stage, batch 1/8/32.
//
// Rows: engine_cuda/<model>/stage:<k>/batch:<b> times MultiExitModel::run_stage(k, b jobs) on the GPU
// (host -> pinned staging -> CUDA graph -> host, synchronized) for jobs that have finished k stages.
// Counter us_per_sample = time / b. Where the cuda backend is not built or sees no GPU every row is
// reported as skipped (SkipWithError), so the program still runs and says why.
//
// engine_cuda/...: the exit answered on the device (the fused exit-head kernel inside the stage's CUDA
// graph; the default). engine_cuda_host_head/... (batch 1 and 32): the same model with
// Options::device_exit_head = false, the exit answered on the host with post_process (the path before
// the device head): the before/after of the host staging. Per-call counters (µs), both variants:
//   device_us   waiting for the GPU: graph launch to stream synchronize (its H2D/D2H copies included)
//   host_us     the rest of the call: everything the host does (= time - device_us)
//   staging_us  inside the backend: host tensors <-> pinned staging (memcpy in and out)
//   stack_us    jobs' carried tensors -> the batch's inputs; unstack_us: outputs -> the jobs
//   answer_us   the ExitResults: post_process on the host, or the device's answers copied in
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <span>
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


using Prepared = imprecise::bench::StagedJobs;

std::unique_ptr<Prepared> prepare(const std::string& name, bool device_exit_head) {
  MultiExitModel::Options options;
  options.device_exit_head = device_exit_head;
  options.time_stages = true;  // a few clock reads per call, in both variants
  return imprecise::bench::stage_fixture_jobs(name, "cuda", options);
}

void run_stage(benchmark::State& state, Prepared& p, int stage, int batch) {
  const auto& masters = p.depth[static_cast<std::size_t>(stage)];
  std::vector<JobState> jobs(masters.begin(), masters.begin() + batch);
  std::vector<JobState*> ptrs;
  for (auto& job : jobs) ptrs.push_back(&job);
  std::vector<ExitResult> results;
  double total = 0.0;
  const MultiExitModel::StageTimes times0 = p.model.stage_times(stage);
  const StageCounters counters0 = p.model.stage_counters(stage);
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
  const double calls = static_cast<double>(state.iterations());
  const MultiExitModel::StageTimes& times = p.model.stage_times(stage);
  const StageCounters counters = p.model.stage_counters(stage);
  const auto us = [calls](std::int64_t ns) { return static_cast<double>(ns) / calls * 1e-3; };
  const double device_us = us(counters.device_ns - counters0.device_ns);
  state.counters["device_us"] = device_us;
  state.counters["host_us"] = total / calls * 1e6 - device_us;
  state.counters["staging_us"] = us(counters.staging_ns - counters0.staging_ns);
  state.counters["stack_us"] = us(times.stack_ns - times0.stack_ns);
  state.counters["unstack_us"] = us(times.unstack_ns - times0.unstack_ns);
  state.counters["answer_us"] = us(times.answer_ns - times0.answer_ns);
  state.counters["device_answered"] =
      static_cast<double>(times.device_answers - times0.device_answers) / calls / static_cast<double>(batch);
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

void register_rows(const char* prefix, const char* name, Prepared* p, std::span<const int> batches) {
  for (const int batch : batches)
    for (int k = 0; k < p->model.stages(); ++k)
      benchmark::RegisterBenchmark((std::string(prefix) + "/" + name + "/stage:" + std::to_string(k) +
                                    "/batch:" + std::to_string(batch))
                                       .c_str(),
                                   [p, k, batch](benchmark::State& state) { run_stage(state, *p, k, batch); })
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
}

bool register_all() {
  const std::string why = backend_unavailable("cuda");
  for (const char* name : kModels) {
    if (!why.empty()) {
      register_skipped(name, why);
      continue;
    }
    try {
      models().push_back(prepare(name, true));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "engine_cuda_bench: skipping %s: %s\n", name, e.what());
      register_skipped(name, e.what());
      continue;
    }
    register_rows("engine_cuda", name, models().back().get(), kBatches);
  }
  // The host exit head (before the device one), at batch 1 and 32 (keeps the run short).
  static constexpr int kHostHeadBatches[] = {1, 32};
  if (why.empty())
    for (const char* name : kModels) {
      try {
        models().push_back(prepare(name, false));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "engine_cuda_bench: skipping %s (host exit head): %s\n", name, e.what());
        continue;
      }
      register_rows("engine_cuda_host_head", name, models().back().get(), kHostHeadBatches);
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
