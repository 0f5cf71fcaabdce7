// Runtime overheads: submit-to-dispatch latency and dispatcher decision time (p50/p99), with a bare condvar hand-off as the baseline.
//
// Rows:
//   runtime/handoff_baseline          two threads, mutex + condition_variable, no library: the wake-up
//                                     latency the OS gives (the floor under submit-to-dispatch).
//   runtime/submit_to_dispatch/<p>    one job at a time (submit, wait for the outcome): time from the
//                                     submit() call to the job's first stage being handed to the lane.
//   runtime/burst/<p>                 bursts of 32 jobs submitted back to back: the same latency for
//                                     every job (queueing behind the lane included) and the time of
//                                     each Policy::next call on the dispatcher with up to 32 pending.
// Counters (us): p50/p99 of the latency, dec_p50/dec_p99 of the decision time. The model is the cnn3
// fixture (a few us per stage), so the figures are the runtime's own overhead.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "imprecise/core/nearest_rank.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "imprecise/nn/profiler.hpp"
#include "imprecise/runtime/engine.hpp"
#include "served_bench_model.hpp"
#include "staged_fixture_jobs.hpp"

namespace {

using namespace imprecise;
using namespace std::chrono_literals;
using runtime::Clock;

std::string fixture(const std::string& suffix) { return std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/nn/cnn3" + suffix; }

double percentile_us(std::vector<Duration> v, double q) { return v.empty() ? 0.0 : to_us(imprecise::nearest_rank(v, q)); }

/// Records, on the dispatcher thread, each job's submit-to-first-dispatch time and each decision's time.
class Recorder final : public Observer {
 public:
  Recorder() {
    dispatch.reserve(1 << 20);
    decision.reserve(1 << 20);
  }
  void on_dispatch(int, ModelId, int stage, std::span<const JobInfo> jobs, Time now) override {
    if (stage != 0) return;
    for (const auto& j : jobs)
      if (dispatch.size() < dispatch.capacity()) dispatch.push_back(now - j.release);
  }
  void on_decision(Time, Duration took, DecisionKind) override {
    if (decision.size() < decision.capacity()) decision.push_back(took);
  }
  std::vector<Duration> dispatch, decision;
};

std::vector<runtime::ServedModel> cnn3() {
  return bench::served_model(fixture(".onnx"), "cnn3", nn::default_backend(), 8, /*repetitions=*/20);
}

std::vector<nn::Tensor> inputs() { return bench::one_per_sample(nn::read_npy(fixture(".input.npy"))); }

void report(benchmark::State& state, const Recorder& r) {
  state.counters["p50_us"] = percentile_us(r.dispatch, 0.50);
  state.counters["p99_us"] = percentile_us(r.dispatch, 0.99);
  state.counters["dec_p50_us"] = percentile_us(r.decision, 0.50);
  state.counters["dec_p99_us"] = percentile_us(r.decision, 0.99);
  state.counters["jobs"] = static_cast<double>(r.dispatch.size());
}

void BM_HandoffBaseline(benchmark::State& state) {
  std::mutex mu;
  std::condition_variable to_worker, to_main;
  bool posted = false, acked = false, quit = false;
  Clock::time_point sent;
  std::vector<Duration> latencies;
  latencies.reserve(1 << 20);
  std::thread worker([&] {
    std::unique_lock lock(mu);
    while (true) {
      to_worker.wait(lock, [&] { return posted || quit; });
      if (quit) return;
      posted = false;
      latencies.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sent).count());
      acked = true;
      to_main.notify_one();
    }
  });
  for (auto _ : state) {
    std::unique_lock lock(mu);
    sent = Clock::now();
    posted = true;
    to_worker.notify_one();
    to_main.wait(lock, [&] { return acked; });
    acked = false;
  }
  {
    std::lock_guard lock(mu);
    quit = true;
  }
  to_worker.notify_one();
  worker.join();
  state.counters["p50_us"] = percentile_us(latencies, 0.50);
  state.counters["p99_us"] = percentile_us(latencies, 0.99);
}
BENCHMARK(BM_HandoffBaseline)->Name("runtime/handoff_baseline")->Iterations(5000)->UseRealTime();

void BM_SubmitToDispatch(benchmark::State& state, const char* policy) {
  const auto xs = inputs();
  auto recorder = std::make_shared<Recorder>();
  {
    runtime::EngineConfig config;
    config.policy = policy;
    config.observers.push_back(recorder);
    runtime::Engine engine(cnn3(), config);
    for (int i = 0; i < 200; ++i) engine.submit(0, xs[0], 1s).wait();  // warm-up
    recorder->dispatch.clear();
    recorder->decision.clear();
    std::size_t i = 0;
    for (auto _ : state) engine.submit(0, xs[i++ % xs.size()], 1s).wait();
  }
  report(state, *recorder);
}
BENCHMARK_CAPTURE(BM_SubmitToDispatch, yao_dp, "yao-dp")->Name("runtime/submit_to_dispatch/yao-dp")->Iterations(3000)->UseRealTime();
BENCHMARK_CAPTURE(BM_SubmitToDispatch, edf_full, "edf-full")->Name("runtime/submit_to_dispatch/edf-full")->Iterations(3000)->UseRealTime();

void BM_Burst(benchmark::State& state, const char* policy) {
  const auto xs = inputs();
  auto recorder = std::make_shared<Recorder>();
  constexpr int kBurst = 32;
  {
    runtime::EngineConfig config;
    config.policy = policy;
    config.max_pending = 64;
    config.observers.push_back(recorder);
    runtime::Engine engine(cnn3(), config);
    std::vector<std::future<Outcome>> futures;
    futures.reserve(kBurst);
    const auto burst = [&] {
      futures.clear();
      for (int i = 0; i < kBurst; ++i) futures.push_back(engine.submit(0, xs[static_cast<std::size_t>(i) % xs.size()], 1s));
      for (auto& f : futures) f.wait();
    };
    for (int i = 0; i < 20; ++i) burst();  // warm-up
    recorder->dispatch.clear();
    recorder->decision.clear();
    for (auto _ : state) burst();
  }
  report(state, *recorder);
}
BENCHMARK_CAPTURE(BM_Burst, yao_dp, "yao-dp")->Name("runtime/burst/yao-dp")->Iterations(200)->UseRealTime();
BENCHMARK_CAPTURE(BM_Burst, density, "density")->Name("runtime/burst/density")->Iterations(200)->UseRealTime();
BENCHMARK_CAPTURE(BM_Burst, edf_full, "edf-full")->Name("runtime/burst/edf-full")->Iterations(200)->UseRealTime();

}  // namespace
