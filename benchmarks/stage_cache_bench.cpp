// Why a served stage costs more than its profile: one stage of a pipeline model (vision, lidar, voice) at
// batch 1 or 8, timed
//   warm:                    run again and again on its own, as `imprecise profile` times it;
//   after_others:            right after the other two models each ran the same stage index;
//   after_every_other_stage: right after every other stage of the three models ran (batch 1), as a
//                            lane serving them in turn finds it;
//   after_flush:             right after 32 MB of unrelated writes (CacheEvictor): nothing of it cached.
// The backend: IMPRECISE_BENCH_BACKEND (default: the fastest cpu one). Manual time: only the stage
// itself is timed, never the runs or writes that set its caches up. README, "Why a served stage costs
// more than its profile", has the figures.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "imprecise/core/cache_evictor.hpp"
#include "staged_fixture_jobs.hpp"

namespace {

using namespace imprecise;
using namespace imprecise::bench;
using Clock = std::chrono::steady_clock;

const char* const kPipeline[] = {"vision", "lidar", "voice"};

std::vector<std::unique_ptr<StagedJobs>>& pipeline() {
  static std::vector<std::unique_ptr<StagedJobs>> all = [] {
    const std::string backend = bench_backend(nn::default_backend());
    std::vector<std::unique_ptr<StagedJobs>> models;
    for (const char* m : kPipeline) models.push_back(stage_fixture_jobs(m, backend));
    return models;
  }();
  return all;
}

/// Runs stage `stage` of `p` for `batch` jobs copied from its depth-`stage` masters.
double run_batch(StagedJobs& p, int stage, int batch, std::vector<nn::JobState>& jobs,
                 std::vector<nn::ExitResult>& results) {
  jobs.resize(static_cast<std::size_t>(batch));
  std::vector<nn::JobState*> pointers;
  for (int i = 0; i < batch; ++i) {
    jobs[static_cast<std::size_t>(i)] = p.depth[static_cast<std::size_t>(stage)][static_cast<std::size_t>(i)];
    pointers.push_back(&jobs[static_cast<std::size_t>(i)]);
  }
  const auto t0 = Clock::now();
  p.model.run_stage(stage, pointers, results);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

enum class Before { nothing, other_models, every_other_stage, flush };

void BM_Stage(benchmark::State& state, Before before) {
  auto& models = pipeline();
  const auto m = static_cast<std::size_t>(state.range(0));
  const int stage = static_cast<int>(state.range(1));
  StagedJobs& p = *models[m];
  if (stage >= p.model.stages()) {
    state.SkipWithError("no such stage");
    return;
  }
  const int batch = static_cast<int>(state.range(2));
  std::vector<std::vector<nn::JobState>> jobs(models.size());
  std::vector<nn::ExitResult> results;
  CacheEvictor evictor(std::size_t{32} << 20);
  for (auto _ : state) {
    if (before == Before::other_models) {
      for (std::size_t o = 0; o < models.size(); ++o)
        if (o != m && stage < models[o]->model.stages()) run_batch(*models[o], stage, 1, jobs[o], results);
    } else if (before == Before::every_other_stage) {
      for (std::size_t o = 0; o < models.size(); ++o)
        for (int k = 0; k < models[o]->model.stages(); ++k)
          if (o != m || k != stage) run_batch(*models[o], k, 1, jobs[o], results);
    } else if (before == Before::flush) {
      evictor.evict();
    }
    state.SetIterationTime(run_batch(p, stage, batch, jobs[m], results));
  }
  state.SetLabel(kPipeline[m]);
}

void stages(benchmark::internal::Benchmark* b) {
  b->ArgNames({"model", "stage", "batch"})->UseManualTime()->Unit(benchmark::kMicrosecond);
  for (int m = 0; m < 3; ++m)
    for (int s = 0; s < 4; ++s)
      for (int batch : {1, 8}) b->Args({m, s, batch});
}

}  // namespace

BENCHMARK_CAPTURE(BM_Stage, warm, Before::nothing)->Apply(stages);
BENCHMARK_CAPTURE(BM_Stage, after_others, Before::other_models)->Apply(stages);
BENCHMARK_CAPTURE(BM_Stage, after_every_other_stage, Before::every_other_stage)->Apply(stages);
BENCHMARK_CAPTURE(BM_Stage, after_flush, Before::flush)->Apply(stages);
