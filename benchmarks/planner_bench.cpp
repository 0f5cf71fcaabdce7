// Decision time of the planners (yao-dp DP, density greedy) vs pending jobs and stages, with a
// library-free EDF sort of the same jobs as the reference row.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include "imprecise/sched/planner.hpp"

namespace {

using imprecise::Duration;
using imprecise::Time;

/// A realistic decision point: jobs of three model types (stage times 1-4 ms), a quarter of them
/// part-way through, predicted accuracies rising from about 0.5 to 0.95 with depth, and deadlines
/// spread so that the mandatory load fits while running everything to full depth does not.
struct Instance {
  imprecise::PlanProblem problem;
  std::vector<Time> deadlines;    // per job, for the baseline
  std::vector<Duration> full;     // remaining time to full depth, for the baseline
};

/// `lanes` > 1: the device runs that many executors (lane k busy for k ms more), and the deadlines shrink
/// by the lanes so that the mandatory load still about fits while full depth still does not.
/// `overload` > 1 shrinks them further, so that some jobs must be dropped.
Instance make_instance(int jobs, int stages, std::uint32_t seed, int lanes = 1, int overload = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> stage_ms(1.0, 4.0);
  std::uniform_real_distribution<double> jitter(-0.03, 0.03);
  std::uniform_int_distribution<int> type_of(0, 2);
  std::uniform_int_distribution<int> started(0, 3);
  std::uniform_int_distribution<int> done_of(1, stages - 1);

  std::vector<std::vector<Duration>> stage_cost(3, std::vector<Duration>(static_cast<std::size_t>(stages)));
  for (auto& row : stage_cost)
    for (auto& c : row) c = imprecise::from_ms(stage_ms(rng));

  struct Row {
    int done, lo;
    std::vector<Duration> cost;
    std::vector<double> reward;
  };
  std::vector<Row> rows;
  Duration mandatory = 0, everything = 0;
  std::vector<Duration> mandatory_prefix, full_prefix;
  for (int i = 0; i < jobs; ++i) {
    const auto& sc = stage_cost[static_cast<std::size_t>(type_of(rng))];
    Row r;
    r.done = started(rng) == 0 ? done_of(rng) : 0;
    r.lo = std::max(1, r.done);
    r.cost.assign(static_cast<std::size_t>(stages) + 1, 0);
    r.reward.assign(static_cast<std::size_t>(stages) + 1, 0.0);
    for (int l = r.done + 1; l <= stages; ++l) r.cost[static_cast<std::size_t>(l)] = r.cost[static_cast<std::size_t>(l - 1)] + sc[static_cast<std::size_t>(l - 1)];
    double previous = 0.0;
    for (int l = 1; l <= stages; ++l) {
      const double base = 0.5 + 0.45 * std::pow(static_cast<double>(l) / stages, 0.8);
      const double value = std::clamp(base + jitter(rng), 0.5, 0.95);
      previous = std::max(previous, value);  // accuracy never drops with depth in these instances
      r.reward[static_cast<std::size_t>(l)] = previous;
    }
    mandatory += r.cost[static_cast<std::size_t>(r.lo)];
    everything += r.cost[static_cast<std::size_t>(stages)];
    mandatory_prefix.push_back(mandatory);
    full_prefix.push_back(everything);
    rows.push_back(std::move(r));
  }

  Instance instance;
  const Time now = imprecise::from_seconds(1.0);
  std::vector<Time> lane_free;
  for (int k = 0; k < lanes; ++k) lane_free.push_back(now + imprecise::from_ms(k));
  instance.problem.reset(now, lane_free);
  for (int i = 0; i < jobs; ++i) {
    const auto k = static_cast<std::size_t>(i);
    // Halfway between the mandatory and the full-depth finish time of the EDF prefix: increasing in
    // i, mandatory always fits, full depth never does.
    const Time deadline = now + (mandatory_prefix[k] + (full_prefix[k] - mandatory_prefix[k]) / 2) / (lanes * overload);
    const Row& r = rows[k];
    instance.problem.add(deadline, r.done, r.lo, stages, r.cost, r.reward);
    instance.deadlines.push_back(deadline);
    instance.full.push_back(r.cost[static_cast<std::size_t>(stages)]);
  }
  return instance;
}

void report(benchmark::State& state, const imprecise::Plan& plan, int jobs) {
  state.counters["reward"] = plan.total_reward;
  state.counters["mean_depth"] = [&] {
    double sum = 0;
    for (int d : plan.depths) sum += d;
    return sum / jobs;
  }();
  state.counters["dropped"] = plan.dropped;
}

void report_quantum(benchmark::State& state, const imprecise::Plan& plan) {
  state.counters["delta_used"] = plan.delta_used;
  state.counters["coarsened"] = plan.coarsened ? 1 : 0;
}

// yao-dp as the policy runs it: the default quantum, delta = eps * Rmax / n with eps = 0.01.
void BM_DpPlanner(benchmark::State& state) {
  const int jobs = static_cast<int>(state.range(0)), stages = static_cast<int>(state.range(1));
  const Instance instance = make_instance(jobs, stages, 42);
  imprecise::DpPlanner planner;
  const imprecise::Plan* plan = &planner.solve(instance.problem);  // warm-up: buffers grow once
  if (!plan->feasible || !instance.problem.feasible(plan->depths)) state.SkipWithError("infeasible plan");
  for (auto _ : state) {
    plan = &planner.solve(instance.problem);
    benchmark::DoNotOptimize(plan->total_reward);
  }
  report(state, *plan, jobs);
  report_quantum(state, *plan);
  state.counters["states"] = static_cast<double>(planner.states());
}

// The former default, a fixed quantum of 0.01 (about 30 times coarser than eps * Rmax / n at 32 jobs).
void BM_DpPlannerFixedDelta(benchmark::State& state) {
  const int jobs = static_cast<int>(state.range(0)), stages = static_cast<int>(state.range(1));
  const Instance instance = make_instance(jobs, stages, 42);
  imprecise::DpPlanner planner;
  const imprecise::Plan* plan = &planner.solve(instance.problem, 0.01);
  if (!plan->feasible || !instance.problem.feasible(plan->depths)) state.SkipWithError("infeasible plan");
  for (auto _ : state) {
    plan = &planner.solve(instance.problem, 0.01);
    benchmark::DoNotOptimize(plan->total_reward);
  }
  report(state, *plan, jobs);
  report_quantum(state, *plan);
}

// Tail latency at the 32-job x 4-stage target: each decision timed alone over many distinct
// instances (seeds), p50 and p99 in microseconds.
void BM_DpPlannerLatency(benchmark::State& state) {
  constexpr int kInstances = 64;
  std::vector<Instance> instances;
  for (int s = 0; s < kInstances; ++s) instances.push_back(make_instance(32, 4, 1000 + static_cast<std::uint32_t>(s)));
  imprecise::DpPlanner planner;
  for (const Instance& instance : instances) planner.solve(instance.problem);  // warm-up
  std::vector<double> micros;
  double coarsened = 0, delta_max = 0;
  for (auto _ : state) {
    for (const Instance& instance : instances) {
      const auto start = std::chrono::steady_clock::now();
      const imprecise::Plan& plan = planner.solve(instance.problem);
      const auto stop = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(plan.total_reward);
      micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
      coarsened += plan.coarsened ? 1 : 0;
      delta_max = std::max(delta_max, plan.delta_used);
    }
  }
  std::sort(micros.begin(), micros.end());
  auto at = [&](double p) { return micros[static_cast<std::size_t>(p * static_cast<double>(micros.size() - 1))]; };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["coarsened"] = coarsened;
  state.counters["delta_used_max"] = delta_max;
}

void BM_DensityPlanner(benchmark::State& state) {
  const int jobs = static_cast<int>(state.range(0)), stages = static_cast<int>(state.range(1));
  const Instance instance = make_instance(jobs, stages, 42);
  imprecise::DensityPlanner planner;
  const imprecise::Plan* plan = &planner.solve(instance.problem);
  if (!plan->feasible || !instance.problem.feasible(plan->depths)) state.SkipWithError("infeasible plan");
  for (auto _ : state) {
    plan = &planner.solve(instance.problem);
    benchmark::DoNotOptimize(plan->total_reward);
  }
  report(state, *plan, jobs);
}

// Several executor lanes (issue 16) at the 32-job x 4-stage target: lanes = 1 is the one-lane path
// (BM_DpPlanner / BM_DensityPlanner's instance), lanes = 2 the list-scheduling DP (LaneFronts) and the
// re-simulating greedy.
template <class Planner>
void BM_PlannerLanes(benchmark::State& state) {
  const int lanes = static_cast<int>(state.range(0));
  const Instance instance = make_instance(32, 4, 42, lanes, static_cast<int>(state.range(1)));
  Planner planner;
  const imprecise::Plan* plan = &planner.solve(instance.problem);
  if (!plan->feasible || !instance.problem.feasible(plan->depths)) state.SkipWithError("infeasible plan");
  for (auto _ : state) {
    plan = &planner.solve(instance.problem);
    benchmark::DoNotOptimize(plan->total_reward);
  }
  report(state, *plan, 32);
  if constexpr (std::is_same_v<Planner, imprecise::DpPlanner>) {
    report_quantum(state, *plan);
    state.counters["states"] = static_cast<double>(planner.states());
  }
}

// Reference without the library: what a plain EDF scheduler does per decision on the same jobs —
// sort by deadline and walk the queue at full depth, counting the jobs it would make late.
void BM_Baseline_EdfSort(benchmark::State& state) {
  const int jobs = static_cast<int>(state.range(0)), stages = static_cast<int>(state.range(1));
  const Instance instance = make_instance(jobs, stages, 42);
  std::vector<std::pair<Time, Duration>> queue;
  for (int i = 0; i < jobs; ++i)
    queue.emplace_back(instance.deadlines[static_cast<std::size_t>(i)], instance.full[static_cast<std::size_t>(i)]);
  std::shuffle(queue.begin(), queue.end(), std::mt19937(7));  // arrival order, not deadline order
  std::vector<std::pair<Time, Duration>> work;
  work.reserve(queue.size());
  int late = 0;
  for (auto _ : state) {
    work.assign(queue.begin(), queue.end());
    std::sort(work.begin(), work.end());
    Time t = instance.problem.now();
    late = 0;
    for (const auto& [deadline, cost] : work) {
      t += cost;
      late += t > deadline ? 1 : 0;
    }
    benchmark::DoNotOptimize(late);
  }
  state.counters["late_at_full_depth"] = late;
}

void planner_args(benchmark::internal::Benchmark* b, int max_jobs) {
  b->ArgNames({"jobs", "stages"})->Unit(benchmark::kMicrosecond);
  for (int jobs : {8, 16, 32, 64, 128, 256, 1024}) {
    if (jobs > max_jobs) continue;
    for (int stages : {3, 4, 5}) {
      if (stages == 4 && jobs != 32) continue;  // 4 stages only at the 32-job target
      b->Args({jobs, stages});
    }
  }
}

}  // namespace

// The DP's fronts grow with the jobs planned: beyond 256 jobs it is not a per-decision option (the
// policies plan a window of 32).
BENCHMARK(BM_DpPlanner)->Apply([](benchmark::internal::Benchmark* b) { planner_args(b, 256); });
BENCHMARK(BM_DpPlannerFixedDelta)->Apply([](benchmark::internal::Benchmark* b) { planner_args(b, 256); });
BENCHMARK(BM_DpPlannerLatency)->Unit(benchmark::kMillisecond);
void lanes_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"lanes", "overload"})->Unit(benchmark::kMicrosecond);
  for (int overload : {1, 3})
    for (int lanes : {1, 2, 3, 4}) b->Args({lanes, overload});
}
BENCHMARK(BM_PlannerLanes<imprecise::DpPlanner>)->Name("BM_DpPlannerLanes")->Apply(lanes_args);
BENCHMARK(BM_PlannerLanes<imprecise::DensityPlanner>)->Name("BM_DensityPlannerLanes")->Apply(lanes_args);
BENCHMARK(BM_DensityPlanner)->Apply([](benchmark::internal::Benchmark* b) { planner_args(b, 1024); });
BENCHMARK(BM_Baseline_EdfSort)->Apply([](benchmark::internal::Benchmark* b) { planner_args(b, 1024); });
