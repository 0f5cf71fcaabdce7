// Inference-engine latency: each fixture multi-exit model on one host backend, per stage and whole model, batch 1/8/32.
// The backend: IMPRECISE_BENCH_BACKEND from the environment (cpu, onednn), default cpu (the reference).
//
// Rows: engine/<model>/stage:<k>/batch:<b> times MultiExitModel::run_stage(k, b jobs) for jobs that
// have finished k stages; engine/<model>/whole/batch:<b> times every stage back to back from fresh
// jobs (what a job that runs to the last exit costs). Counter us_per_sample = time / b; counter
// cpu_us = this thread's CPU time per call (CLOCK_THREAD_CPUTIME_ID), which, unlike the wall time,
// leaves out the time other processes hold the CPU on a shared machine.
// scripts/bench_engine_vs_pytorch.py runs this with --benchmark_format=json and compares the whole
// rows with PyTorch eager on the same networks.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "imprecise/core/thread_cpu_time.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "staged_fixture_jobs.hpp"

namespace {

using namespace imprecise::nn;
using namespace imprecise::bench;
using Clock = std::chrono::steady_clock;

double thread_cpu_seconds() { return imprecise::to_seconds(imprecise::thread_cpu_time()); }

using Prepared = imprecise::bench::StagedJobs;


std::unique_ptr<Prepared> prepare(const std::string& name) {
  return imprecise::bench::stage_fixture_jobs(name, bench_backend("cpu"));
}

/// Times stages [first, last) for a batch of `batch` jobs copied from the depth-`first` masters.
/// Manual time, so restoring the jobs and dropping the results (both untimed) do not count.
void run_stages(benchmark::State& state, Prepared& p, int first, int last, int batch) {
  std::vector<JobState> jobs(p.depth[static_cast<std::size_t>(first)].begin(),
                             p.depth[static_cast<std::size_t>(first)].begin() + batch);
  std::vector<JobState*> ptrs;
  for (auto& job : jobs) ptrs.push_back(&job);
  std::vector<ExitResult> results;
  results.reserve(static_cast<std::size_t>(batch * (last - first)));
  double total = 0.0, cpu = 0.0;
  for (auto _ : state) {
    // Same shapes, so these copies reuse the jobs' storage.
    for (int i = 0; i < batch; ++i)
      jobs[static_cast<std::size_t>(i)] = p.depth[static_cast<std::size_t>(first)][static_cast<std::size_t>(i)];
    results.clear();
    const double c0 = thread_cpu_seconds();
    const auto t0 = Clock::now();
    for (int k = first; k < last; ++k) p.model.run_stage(k, ptrs, results);
    const auto t1 = Clock::now();
    cpu += thread_cpu_seconds() - c0;
    benchmark::DoNotOptimize(results.data());
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(seconds);
    total += seconds;
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["us_per_sample"] = total / runs / batch * 1e6;
  state.counters["cpu_us"] = cpu / runs * 1e6;
  state.counters["batch"] = batch;
  state.SetItemsProcessed(state.iterations() * batch);
}

// Models stay loaded for the whole program: the benchmarks refer to them by pointer.
std::vector<std::unique_ptr<Prepared>>& models() {
  static std::vector<std::unique_ptr<Prepared>> all;
  return all;
}

bool register_all() {
  for (const char* name : kModels) {
    try {
      models().push_back(prepare(name));
    } catch (const std::exception& e) {
      // A missing or broken fixture skips that model rather than the whole program.
      std::fprintf(stderr, "engine_bench: skipping %s: %s\n", name, e.what());
      continue;
    }
    Prepared* p = models().back().get();
    const int stages = p->model.stages();
    for (const int batch : kBatches) {
      for (int k = 0; k < stages; ++k)
        benchmark::RegisterBenchmark(
            ("engine/" + std::string(name) + "/stage:" + std::to_string(k) + "/batch:" + std::to_string(batch)).c_str(),
            [p, k, batch](benchmark::State& state) { run_stages(state, *p, k, k + 1, batch); })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(
          ("engine/" + std::string(name) + "/whole/batch:" + std::to_string(batch)).c_str(),
          [p, stages, batch](benchmark::State& state) { run_stages(state, *p, 0, stages, batch); })
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}

// benchmark_main supplies main(); the fixtures are loaded and registered before it runs.
const bool registered = register_all();

}  // namespace
