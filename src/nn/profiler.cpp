// Profiler: per-(stage, batch) stage timings of a MultiExitModel, exit records and the model's scheduler description.
#include "imprecise/nn/profiler.hpp"

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <exception>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "imprecise/core/cache_evictor.hpp"
#include "imprecise/error.hpp"

namespace imprecise::nn {

std::vector<int> profiled_batch_sizes(const MultiExitModel& model, const ProfilerConfig& config) {
  const int max_batch = model.max_batch();
  std::vector<int> sizes{1};
  for (int b : config.batch_sizes) {
    if (b < 1) throw Error(fmt::format("profiler: batch size {} must be >= 1", b));
    if (b <= max_batch) sizes.push_back(b);
  }
  sizes.push_back(max_batch);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

StageTiming summarize_times(std::span<Duration> samples) {
  if (samples.empty()) throw Error("profiler: no samples to summarize");
  std::sort(samples.begin(), samples.end());
  const auto rank = [&](double q) {
    const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return std::max<Duration>(samples[std::min(samples.size() - 1, k == 0 ? 0 : k - 1)], 1);
  };
  double sum = 0.0;
  for (Duration d : samples) sum += static_cast<double>(d);
  StageTiming t;
  t.p50 = rank(0.50);
  t.p99 = rank(0.99);
  t.max = std::max<Duration>(samples.back(), 1);
  t.mean = std::clamp<Duration>(std::llround(sum / static_cast<double>(samples.size())), 1, t.max);
  return t;
}

namespace {

/// Sample `index` of `input` (cycled) as a [1, ...] tensor; a synthetic one when `input` is null.
Tensor sample_of(const MultiExitModel& model, const Tensor* input, std::size_t index) {
  const Shape& want = model.input_shape();
  Shape one(want.begin(), want.end());
  one[0] = 1;
  if (input == nullptr) {
    Tensor t(one);
    for (std::size_t i = 0; i < t.size(); ++i)
      t[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i) + static_cast<double>(index)));
    return t;
  }
  const Shape sample(want.begin() + 1, want.end());
  if (input->shape() == sample) return Tensor(one, std::vector<float>(input->values().begin(), input->values().end()));
  if (input->rank() != want.size() || input->batch() < 1 || Shape(input->shape().begin() + 1, input->shape().end()) != sample)
    throw Error(fmt::format("profiler: {}: input has shape {}, expected {}", model.graph().source,
                            to_string(input->shape()), to_string(want)));
  const auto values = input->sample(index % static_cast<std::size_t>(input->batch()));
  return Tensor(one, std::vector<float>(values.begin(), values.end()));
}

}  // namespace

namespace {

void check(const ProfilerConfig& config) {
  if (config.repetitions < 1) throw Error(fmt::format("profiler: repetitions is {}, must be >= 1", config.repetitions));
  if (config.warmup < 0) throw Error(fmt::format("profiler: warmup is {}, must be >= 0", config.warmup));
  if (config.evict_bytes > ProfilerConfig::kMaxEvictBytes)
    throw Error(fmt::format("profiler: evict_bytes is {}, must be at most {}", config.evict_bytes,
                            ProfilerConfig::kMaxEvictBytes));
}

/// times[i][s]: the timed runs of stage s at batch sizes[i]. With `sync`, every stage run starts at a
/// barrier shared with the other threads measuring (one round per (batch size, repetition, stage)).
using Times = std::vector<std::vector<std::vector<Duration>>>;
Times time_stages(MultiExitModel& model, const std::vector<int>& sizes, const ProfilerConfig& config,
                  const Tensor* input, std::barrier<>* sync) {
  const auto stages = static_cast<std::size_t>(model.stages());
  Times times(sizes.size(), std::vector<std::vector<Duration>>(stages));
  std::vector<ExitResult> results(static_cast<std::size_t>(model.max_batch()));
  CacheEvictor evictor(config.evict_bytes);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const auto batch = static_cast<std::size_t>(sizes[i]);
    std::vector<Tensor> inputs;
    for (std::size_t j = 0; j < batch; ++j) inputs.push_back(sample_of(model, input, j));
    for (int rep = 0; rep < config.warmup + config.repetitions; ++rep) {
      std::vector<JobState> jobs;
      jobs.reserve(batch);
      for (const Tensor& in : inputs) jobs.push_back(model.start(in));
      std::vector<JobState*> pointers;
      for (JobState& j : jobs) pointers.push_back(&j);
      for (std::size_t s = 0; s < stages; ++s) {
        if (evictor.bytes() > 0) evictor.evict();
        if (sync != nullptr) sync->arrive_and_wait();
        const auto t0 = std::chrono::steady_clock::now();
        model.run_stage(static_cast<int>(s), pointers, std::span<ExitResult>(results));
        const auto t1 = std::chrono::steady_clock::now();
        if (rep >= config.warmup)
          times[i][s].push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
      }
    }
  }
  return times;
}

Profile summarize(const MultiExitModel& model, const std::vector<int>& sizes, Times& times, std::string what) {
  std::vector<std::vector<StageTiming>> table(static_cast<std::size_t>(model.stages()));
  for (std::size_t i = 0; i < sizes.size(); ++i)
    for (std::size_t s = 0; s < table.size(); ++s) table[s].push_back(summarize_times(times[i][s]));
  return Profile(sizes, std::move(table), std::move(what));
}

}  // namespace

Profile profile_stages(MultiExitModel& model, const ProfilerConfig& config, const Tensor* input) {
  check(config);
  const std::vector<int> sizes = profiled_batch_sizes(model, config);
  Times times = time_stages(model, sizes, config, input, nullptr);
  return summarize(model, sizes, times, fmt::format("profile of {}", model.graph().source));
}

Profile profile_stages_concurrent(const MultiExitModel& model, int lanes, const ProfilerConfig& config,
                                  const Tensor* input) {
  check(config);
  if (lanes < 2) throw Error(fmt::format("profiler: lanes is {}, must be >= 2 (1: profile_stages)", lanes));
  const std::vector<int> sizes = profiled_batch_sizes(model, config);
  if (input != nullptr) (void)sample_of(model, input, 0);  // a bad input throws here, not on a thread
  std::vector<MultiExitModel> replicas;
  for (int l = 0; l < lanes; ++l) replicas.push_back(model.replica());
  std::barrier<> sync(lanes);
  std::vector<Times> times(static_cast<std::size_t>(lanes));
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(lanes));
  std::vector<std::thread> threads;
  for (std::size_t l = 0; l < replicas.size(); ++l)
    threads.emplace_back([&, l] {
      try {
        times[l] = time_stages(replicas[l], sizes, config, input, &sync);
      } catch (...) {
        errors[l] = std::current_exception();
        sync.arrive_and_drop();  // the others go on without this thread instead of waiting for it
      }
    });
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  // Every thread's times of a (batch size, stage) are times at this concurrency: pooled.
  Times pooled = std::move(times[0]);
  for (std::size_t l = 1; l < times.size(); ++l)
    for (std::size_t i = 0; i < sizes.size(); ++i)
      for (std::size_t s = 0; s < pooled[i].size(); ++s)
        pooled[i][s].insert(pooled[i][s].end(), times[l][i][s].begin(), times[l][i][s].end());
  return summarize(model, sizes, pooled, fmt::format("profile of {} at {} lanes", model.graph().source, lanes));
}

UtilityModel utility_from_accuracy(std::span<const double> accuracy) {
  if (accuracy.empty()) throw Error("utility: no exit accuracies given");
  for (std::size_t l = 0; l < accuracy.size(); ++l)
    if (!(accuracy[l] >= 0.0 && accuracy[l] <= 1.0))
      throw Error(fmt::format("utility: accuracy of exit {} is {}, must be in [0, 1]", l + 1, accuracy[l]));
  const auto exits = accuracy.size();
  std::vector<double> prior(accuracy.begin(), accuracy.end());
  // One bin: whatever the confidence at exit k, R(l | k, c) = R(l).
  std::vector<double> table(exits * exits);
  for (std::size_t k = 0; k < exits; ++k)
    for (std::size_t l = 0; l < exits; ++l) table[k * exits + l] = prior[l];
  return UtilityModel(static_cast<int>(exits), 1, std::move(prior), std::move(table));
}

std::vector<double> default_exit_accuracy(int exits) {
  if (exits < 1) throw Error(fmt::format("utility: {} exits, must be >= 1", exits));
  std::vector<double> a;
  for (int l = 1; l <= exits; ++l) a.push_back(static_cast<double>(l) / exits);
  return a;
}

Model describe(const MultiExitModel& model, Profile profile, UtilityModel utility, std::string name) {
  if (profile.stages() != model.stages())
    throw Error(fmt::format("describe: {}: profile has {} stages, the model {}", model.graph().source,
                            profile.stages(), model.stages()));
  if (utility.exits() == 0) utility = utility_from_accuracy(default_exit_accuracy(model.stages()));
  if (utility.exits() != model.stages())
    throw Error(fmt::format("describe: {}: utility model has {} exits, the model {} stages", model.graph().source,
                            utility.exits(), model.stages()));
  Model m;
  m.name = name.empty() ? model.graph().source : std::move(name);
  m.mandatory_depth = model.mandatory_depth();
  m.profile = std::move(profile);
  m.utility = std::move(utility);
  return m;
}

}  // namespace imprecise::nn
