// Cost of one scheduling decision through the Policy interface: on_stage_done for a finished batch,
// then next(), which re-plans every pending job (yao-dp, density) or just picks the EDF head (edf-full).
// The time is the mean per decision; p50_us and p99_us are those of single decisions.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "imprecise/core/nearest_rank.hpp"
#include "imprecise/imprecise.hpp"

namespace {

using namespace imprecise;

/// Synthetic calibration records: a latent easiness per sample drives both the confidence and the
/// chance of being right at every exit, and deeper exits are better on average.
std::vector<ExitRecord> synthetic_records(int exits, int samples, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<ExitRecord> records;
  records.reserve(static_cast<std::size_t>(exits) * static_cast<std::size_t>(samples));
  for (int s = 0; s < samples; ++s) {
    const double easy = u(rng);
    for (int k = 1; k <= exits; ++k) {
      const double depth = static_cast<double>(k) / exits;
      const double accuracy = std::clamp(0.5 + 0.45 * depth + 0.5 * (easy - 0.5), 0.02, 0.98);
      const double confidence = std::clamp(0.2 + 0.4 * easy + 0.3 * depth + 0.1 * (u(rng) - 0.5), 0.0, 1.0);
      records.push_back(ExitRecord{static_cast<float>(confidence), u(rng) < accuracy});
    }
  }
  return records;
}

/// A profile whose batch of b costs about (1 + 0.3 (b - 1)) times batch 1, measured at 1, 2, 4, 8.
Profile synthetic_profile(const std::vector<double>& stage_ms) {
  const std::vector<int> batches{1, 2, 4, 8};
  std::vector<std::vector<StageTiming>> rows;
  for (double ms : stage_ms) {
    std::vector<StageTiming> row;
    for (int b : batches) {
      const double t = ms * (1.0 + 0.3 * (b - 1));
      row.push_back(StageTiming{from_ms(t), from_ms(t * 0.97), from_ms(t * 1.2), from_ms(t * 1.5)});
    }
    rows.push_back(std::move(row));
  }
  return Profile(batches, rows, "bench");
}

const std::vector<Model>& models() {
  static const std::vector<Model> all = [] {
    std::vector<Model> m(2);
    m[0].name = "resnet-like";
    m[0].profile = synthetic_profile({2.0, 3.0, 4.0});
    m[0].utility = UtilityModel::calibrate(3, synthetic_records(3, 20000, 1));
    m[1].name = "msdnet-like";
    m[1].profile = synthetic_profile({1.0, 1.5, 1.5, 2.0, 2.5});
    m[1].utility = UtilityModel::calibrate(5, synthetic_records(5, 20000, 2));
    return m;
  }();
  return all;
}

/// N jobs released at time 0, alternating models, deadlines halfway between the EDF prefix's
/// mandatory and full-depth finish times as the planners budget them (mandatory stages at their
/// p99, optional ones at the median: PolicyConfig), so planning has real choices to make.
std::vector<Job> make_jobs(int n) {
  const auto& ms = models();
  const PolicyConfig config;
  std::vector<Job> jobs;
  Duration mandatory = 0, full = 0;
  for (int i = 0; i < n; ++i) {
    Job job;
    job.id = static_cast<JobId>(i);
    job.model = i % 2;
    const Model& model = ms[static_cast<std::size_t>(job.model)];
    job.mandatory_depth = model.mandatory_depth;
    const Duration mandatory_part = model.profile.planned_span(0, job.mandatory_depth, config.mandatory_figure);
    mandatory += mandatory_part;
    full += mandatory_part + model.profile.planned_span(job.mandatory_depth, model.stages(), config.figure);
    job.release = 0;
    job.deadline = mandatory + (full - mandatory) / 2;
    jobs.push_back(job);
  }
  return jobs;
}

/// The timed part of one iteration, out of line so that callgrind can count exactly it
/// (valgrind --tool=callgrind --toggle-collect='*timed_decision*').
[[gnu::noinline]] Decision timed_decision(Policy& policy, const std::vector<JobId>& in_flight, int depth, Time now) {
  for (JobId id : in_flight) policy.on_stage_done(id, depth, 0.7, now);
  return policy.next(now);
}

void BM_PolicyNext(benchmark::State& state, const std::string& spec) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<Job> jobs = make_jobs(n);
  std::vector<JobId> in_flight;
  std::vector<double> samples;  // single decisions (us), for p50 and p99 beside the mean
  samples.reserve(1 << 20);
  for (auto _ : state) {
    // Untimed set-up of a fresh decision point: release everything, take the first dispatch.
    auto policy = make_policy(spec, models());
    for (const Job& job : jobs) policy->on_release(job, 0);
    // Jobs whose deadline already proves a drop are shed first; the first dispatch follows.
    Decision first = policy->next(0);
    for (int settled = 0; settled < n && !std::holds_alternative<Dispatch>(first); ++settled) first = policy->next(0);
    const auto* dispatch = std::get_if<Dispatch>(&first);
    if (dispatch == nullptr) {
      state.SkipWithError("first decision is not a dispatch");
      break;
    }
    in_flight.assign(dispatch->jobs.begin(), dispatch->jobs.end());
    const int depth = dispatch->stage + 1;
    const Time now = models()[static_cast<std::size_t>(dispatch->model)].profile.planned(
        dispatch->stage, static_cast<int>(in_flight.size()), PlanningFigure::mean);

    // Timed: the batch finishes and the policy decides what runs next.
    const auto start = std::chrono::steady_clock::now();
    Decision decision = timed_decision(*policy, in_flight, depth, now);
    const auto stop = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(decision);
    if (samples.size() < samples.capacity()) samples.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
  }
  state.counters["p50_us"] = nearest_rank(samples, 0.50);
  state.counters["p99_us"] = nearest_rank(samples, 0.99);
  state.counters["pending"] = n;
  state.counters["batch"] = static_cast<double>(in_flight.size());
}

void policy_args(benchmark::internal::Benchmark* b, int max_jobs) {
  b->ArgName("jobs")->UseManualTime()->Unit(benchmark::kMicrosecond);
  for (int n : {8, 32, 128, 256, 1024})
    if (n <= max_jobs) b->Arg(n);
}

}  // namespace

// yao-dp plans a window of 32 jobs (the rest keep their mandatory part reserved), so 1,024 pending is a
// per-decision option too (target: 50 us).
BENCHMARK_CAPTURE(BM_PolicyNext, yao_dp, std::string("yao-dp"))->Apply([](benchmark::internal::Benchmark* b) {
  policy_args(b, 1024);
});
BENCHMARK_CAPTURE(BM_PolicyNext, density, std::string("density"))->Apply([](benchmark::internal::Benchmark* b) {
  policy_args(b, 1024);
});
BENCHMARK_CAPTURE(BM_PolicyNext, edf_full, std::string("edf-full"))->Apply([](benchmark::internal::Benchmark* b) {
  policy_args(b, 1024);
});
