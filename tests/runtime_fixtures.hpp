// Test helpers for the runtime: a profiled fixture model ready to serve, its inputs and reference answers.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/npy.hpp"
#include "imprecise/nn/profiler.hpp"
#include "imprecise/runtime/engine.hpp"
#include "nn_fixtures.hpp"

namespace imprecise::runtime::testing {

/// `backend`: a BackendRegistry name ("": the default, the fastest cpu one).
inline nn::MultiExitModel load_network(const std::string& name, int max_batch, const std::string& backend = "") {
  nn::MultiExitModel::Options options;
  options.compile.max_batch = max_batch;
  if (!backend.empty()) options.backend = backend;
  return nn::MultiExitModel::load(nn::testing::fixture(name + ".onnx"), options);
}

/// The fixture's stage profile on `backend`, measured once per test program (profiling costs a few hundred runs).
inline const Profile& measured_profile(const std::string& name, int max_batch, const std::string& backend = "") {
  static std::map<std::tuple<std::string, int, std::string>, Profile> cache;
  auto it = cache.find({name, max_batch, backend});
  if (it == cache.end()) {
    nn::MultiExitModel net = load_network(name, max_batch, backend);
    nn::ProfilerConfig config;
    config.warmup = 2;
    config.repetitions = 10;
    it = cache.emplace(std::make_tuple(name, max_batch, backend), nn::profile_stages(net, config)).first;
  }
  return it->second;
}

/// A model to serve: the network plus its description (measured profile, default utility) or `profile`.
inline ServedModel served(const std::string& name, int max_batch, const Profile* profile = nullptr,
                          const std::string& backend = "") {
  nn::MultiExitModel net = load_network(name, max_batch, backend);
  Model d = nn::describe(net, profile ? *profile : measured_profile(name, max_batch, backend), {}, name);
  return ServedModel{std::move(net), std::move(d)};
}

inline std::vector<ServedModel> one_model(const std::string& name = "cnn3", int max_batch = 8,
                                          const Profile* profile = nullptr, const std::string& backend = "") {
  std::vector<ServedModel> v;
  v.push_back(served(name, max_batch, profile, backend));
  return v;
}

/// The fixture's 8 inputs, one [1, ...] tensor each.
inline std::vector<nn::Tensor> inputs(const std::string& name) {
  const nn::Tensor all = nn::read_npy(nn::testing::fixture(name + ".input.npy"));
  std::vector<nn::Tensor> v;
  for (std::size_t i = 0; i < static_cast<std::size_t>(all.batch()); ++i) v.push_back(nn::testing::slice(all, i, 1));
  return v;
}

/// reference[k][i]: exit k's answer for input i, from a separate copy of the network run offline.
inline std::vector<std::vector<nn::ExitResult>> reference(const std::string& name) {
  nn::MultiExitModel net = load_network(name, 8);
  return net.run(nn::read_npy(nn::testing::fixture(name + ".input.npy")));
}

/// Planned batch-1 time of every stage (mean), i.e. one job to full depth.
inline Duration full_depth_time(const Profile& p) {
  Duration t = 0;
  for (int s = 0; s < p.stages(); ++s) t += p.timing(s, 1).mean;
  return t;
}

inline constexpr auto kGenerous = std::chrono::seconds(60);  // a deadline no test run comes near

/// Receives outcomes by callback; counts them per submission index to check exactly-once.
class Collector {
 public:
  explicit Collector(std::size_t jobs) : per_job_(jobs) {}
  Engine::Callback callback(std::size_t index) {
    return [this, index](Outcome o) {
      std::lock_guard lock(mu_);
      per_job_[index].push_back(std::move(o));
      order_.push_back(index);
      ++total_;
      cv_.notify_all();
    };
  }
  bool wait_for(std::size_t total, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return total_ >= total; });
  }
  std::vector<std::vector<Outcome>> per_job() const {
    std::lock_guard lock(mu_);
    return per_job_;
  }
  std::vector<std::size_t> order() const {
    std::lock_guard lock(mu_);
    return order_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<Outcome>> per_job_;
  std::vector<std::size_t> order_;
  std::size_t total_ = 0;
};

/// Submits jobs first .. first + jobs - 1 (input i % xs.size(), outcome to got.callback(i)) to model 0, one every
/// `interval` with `deadline` each; returns after the last submit.
inline void submit_paced(Engine& engine, const std::vector<nn::Tensor>& xs, Collector& got, std::size_t first,
                         std::size_t jobs, Clock::duration interval, Clock::duration deadline) {
  auto next = Clock::now();
  for (std::size_t i = first; i < first + jobs; ++i) {
    std::this_thread::sleep_until(next);  // catches up after an oversleep: the mean rate holds
    next += interval;
    engine.submit(0, xs[i % xs.size()], deadline, got.callback(i));
  }
}

/// What run_overload measured and counted.
struct Overload {
  Clock::duration per_job{};                ///< one job alone to full depth (mean of 100)
  Clock::duration interval{};               ///< between the paced submits
  std::size_t jobs = 0;                     ///< paced jobs; one more goes after them
  std::size_t by_status[4] = {0, 0, 0, 0};  ///< outcomes per OutcomeStatus, of all jobs + 1
};

/// `factor` times the rate of one job at a time: measures a job alone to full depth, paces 3000 jobs at
/// per_job / factor with a deadline of 5 per_job (at least 1 ms) each, checks that the engine still completes one
/// once the overload has passed, submits one more, drains, and counts each job's one outcome. Run it under
/// ASSERT_NO_FATAL_FAILURE.
inline void run_overload(Engine& engine, const std::vector<nn::Tensor>& xs, int factor, Overload& out) {
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(engine.submit(0, xs[i % xs.size()], kGenerous).get().exit, 3);
  out.per_job = (Clock::now() - t0) / 100;
  out.interval = out.per_job / factor;
  const auto deadline = std::max<Clock::duration>(5 * out.per_job, std::chrono::milliseconds(1));
  out.jobs = 3000;
  Collector got(out.jobs + 1);
  submit_paced(engine, xs, got, 0, out.jobs, out.interval, deadline);
  // Still serving once the overload has passed (every overload job ends by its deadline).
  ASSERT_TRUE(got.wait_for(out.jobs));
  const Outcome after = engine.submit(0, xs[0], kGenerous).get();
  EXPECT_EQ(after.status, OutcomeStatus::completed) << after.message;
  engine.submit(0, xs[1], kGenerous, got.callback(out.jobs));
  engine.stop(StopMode::drain);
  for (const auto& outcomes : got.per_job()) {
    ASSERT_EQ(outcomes.size(), 1u) << "exactly one outcome per job";
    ++out.by_status[static_cast<int>(outcomes[0].status)];
  }
}

/// Paces 2000 jobs (5 us apart, 5 ms deadlines each) into the engine `make_engine()` returns and stops it 3 ms
/// in, once with each StopMode: every job gets exactly one outcome. Run it under ASSERT_NO_FATAL_FAILURE.
template <class MakeEngine>
void stop_midway(const std::vector<nn::Tensor>& xs, MakeEngine make_engine) {
  using namespace std::chrono_literals;
  for (const StopMode mode : {StopMode::cancel, StopMode::drain}) {
    constexpr std::size_t kJobs = 2000;
    Collector got(kJobs);
    {
      std::unique_ptr<Engine> engine = make_engine();
      std::thread submitter([&] { submit_paced(*engine, xs, got, 0, kJobs, 5us, 5ms); });
      std::this_thread::sleep_for(3ms);
      engine->stop(mode);  // submits after this are rejected at once
      submitter.join();
    }
    ASSERT_TRUE(got.wait_for(kJobs, 10s));
    for (const auto& outcomes : got.per_job()) ASSERT_EQ(outcomes.size(), 1u) << "exactly one outcome per job";
  }
}

inline EngineConfig config_with(const std::string& policy, std::size_t max_pending = 256, int max_batch = 8) {
  EngineConfig c;
  c.policy = policy;
  c.max_pending = max_pending;
  c.policy_config.max_batch = max_batch;
  return c;
}

/// config_with(policy, max_pending) on `lanes` executor lanes.
inline EngineConfig lanes_config(const std::string& policy, int lanes, std::size_t max_pending = 256) {
  EngineConfig c = config_with(policy, max_pending);
  c.lanes = lanes;
  return c;
}

inline bool ready_now(std::future<Outcome>& f) { return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }

}  // namespace imprecise::runtime::testing
