// Profiler: per-(stage, batch) stage timings of a MultiExitModel, exit records and the model's scheduler description.
#include "imprecise/nn/profiler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include <fmt/format.h>

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

Profile profile_stages(MultiExitModel& model, const ProfilerConfig& config, const Tensor* input) {
  if (config.repetitions < 1) throw Error(fmt::format("profiler: repetitions is {}, must be >= 1", config.repetitions));
  if (config.warmup < 0) throw Error(fmt::format("profiler: warmup is {}, must be >= 0", config.warmup));
  const std::vector<int> sizes = profiled_batch_sizes(model, config);
  const auto stages = static_cast<std::size_t>(model.stages());
  std::vector<std::vector<StageTiming>> table(stages);
  std::vector<ExitResult> results(static_cast<std::size_t>(model.max_batch()));
  std::vector<std::vector<Duration>> times(stages);
  for (int b : sizes) {
    const auto batch = static_cast<std::size_t>(b);
    std::vector<Tensor> inputs;
    for (std::size_t j = 0; j < batch; ++j) inputs.push_back(sample_of(model, input, j));
    for (auto& t : times) t.clear();
    for (int rep = 0; rep < config.warmup + config.repetitions; ++rep) {
      std::vector<JobState> jobs;
      jobs.reserve(batch);
      for (const Tensor& in : inputs) jobs.push_back(model.start(in));
      std::vector<JobState*> pointers;
      for (JobState& j : jobs) pointers.push_back(&j);
      for (std::size_t s = 0; s < stages; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        model.run_stage(static_cast<int>(s), pointers, std::span<ExitResult>(results));
        const auto t1 = std::chrono::steady_clock::now();
        if (rep >= config.warmup)
          times[s].push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
      }
    }
    for (std::size_t s = 0; s < stages; ++s) table[s].push_back(summarize_times(times[s]));
  }
  return Profile(sizes, std::move(table), fmt::format("profile of {}", model.graph().source));
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
