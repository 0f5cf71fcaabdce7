// The sac controller's observation and action encoding (sac_features.hpp).
#include "imprecise/control/sac_features.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "imprecise/error.hpp"

namespace imprecise::control {

namespace {

float clip(double v) {
  if (!(v > 0.0)) return 0.0f;  // negative and NaN
  return static_cast<float>(std::min(v, static_cast<double>(kFeatureClip)));
}

/// Jobs per second one lane serves of `model` at batch 1, mandatory stages only, while `lanes` lanes run
/// (the table the host plans with: in the runtime, what serving measured); 0: no profile.
double batch1_capacity(const Model& model, int lanes) {
  const Profile& p = model.profile_at(lanes);
  if (p.stages() == 0) return 0.0;
  const int depth = std::clamp(model.mandatory_depth, 1, p.stages());
  Duration c = 0;
  for (int s = 0; s < depth; ++s) c += p.planned(s, 1, PlanningFigure::p50);
  return c > 0 ? 1e9 / static_cast<double>(c) : 0.0;
}

}  // namespace

int observation_size(int models) { return kFeaturesPerModel * models + 1; }

void encode_observation(const ControlObservation& observation, std::span<const Model> models,
                        const ControllerConfig& config, std::span<float> out) {
  const std::size_t n = models.size();
  if (observation.models.size() != n || observation.current.size() != n)
    throw Error(fmt::format("encode_observation: {} models, but the observation has {} windows and {} settings", n,
                            observation.models.size(), observation.current.size()));
  if (out.size() < static_cast<std::size_t>(observation_size(static_cast<int>(n))))
    throw Error(fmt::format("encode_observation: out holds {} floats, needs {}", out.size(),
                            observation_size(static_cast<int>(n))));
  const double seconds = to_seconds(observation.interval);
  const double max_batch = std::max(1, config.max_batch);
  const double lanes = std::max(1, config.lanes);
  for (std::size_t m = 0; m < n; ++m) {
    const ModelWindow& w = observation.models[m];
    const ModelControl& c = observation.current[m];
    float* f = out.data() + m * kFeaturesPerModel;
    const double capacity = batch1_capacity(models[m], static_cast<int>(lanes));
    const double rate = seconds > 0 ? w.arrived / seconds : 0.0;
    const double answered = w.answered;
    const double slo = static_cast<double>(w.slo);
    f[0] = capacity > 0 ? clip(rate / capacity) : 0.0f;
    f[1] = answered > 0 ? clip(w.completed / answered) : 0.0f;
    f[2] = answered > 0 ? clip((w.missed + w.rejected + w.failed) / answered) : 0.0f;
    f[3] = slo > 0 ? clip(static_cast<double>(w.latency_mean) / slo) : 0.0f;
    f[4] = slo > 0 ? clip(static_cast<double>(w.latency_p99) / slo) : 0.0f;
    f[5] = clip(w.pending / (max_batch * lanes));
    f[6] = clip((c.max_batch > 0 ? c.max_batch : max_batch) / max_batch);
    f[7] = config.max_batch_wait > 0 ? clip(static_cast<double>(c.batch_wait) / static_cast<double>(config.max_batch_wait)) : 0.0f;
    f[8] = clip((c.lanes > 0 ? c.lanes : lanes) / lanes);
    f[9] = clip(w.mean_batch / max_batch);
  }
  out[n * kFeaturesPerModel] = clip(observation.busy_fraction);
}

std::array<int, kBranches> branch_sizes(const ControllerConfig& config) {
  return {static_cast<int>(kBatchChoices.size()), static_cast<int>(kWaitChoices.size()), std::max(1, config.lanes)};
}

int action_logits_per_model(const ControllerConfig& config) {
  const auto sizes = branch_sizes(config);
  return sizes[0] + sizes[1] + sizes[2];
}

int action_size(int models, const ControllerConfig& config) { return models * action_logits_per_model(config); }

void argmax_action(std::span<const float> logits, const ControllerConfig& config, std::span<int> choice) {
  const auto sizes = branch_sizes(config);
  const std::size_t per_model = static_cast<std::size_t>(action_logits_per_model(config));
  const std::size_t models = choice.size() / kBranches;
  if (logits.size() < models * per_model)
    throw Error(fmt::format("argmax_action: {} logits for {} models, needs {}", logits.size(), models, models * per_model));
  const float* l = logits.data();
  for (std::size_t m = 0; m < models; ++m)
    for (std::size_t b = 0; b < kBranches; ++b) {
      const auto size = static_cast<std::ptrdiff_t>(sizes[b]);
      choice[m * kBranches + b] = static_cast<int>(std::max_element(l, l + size) - l);  // first on ties
      l += size;
    }
}

void decode_action(std::span<const int> choice, const ControllerConfig& config, std::span<ModelControl> out) {
  const auto sizes = branch_sizes(config);
  if (choice.size() < out.size() * kBranches)
    throw Error(fmt::format("decode_action: {} choices for {} models, needs {}", choice.size(), out.size(),
                            out.size() * kBranches));
  static constexpr const char* kNames[kBranches] = {"batch", "wait", "lanes"};
  for (std::size_t m = 0; m < out.size(); ++m) {
    const int* c = choice.data() + m * kBranches;
    for (std::size_t b = 0; b < kBranches; ++b)
      if (c[b] < 0 || c[b] >= sizes[b])
        throw Error(fmt::format("decode_action: model {} branch '{}' choice {} is outside [0, {})", m, kNames[b], c[b], sizes[b]));
    out[m].max_batch = std::min(kBatchChoices[static_cast<std::size_t>(c[0])], std::max(1, config.max_batch));
    out[m].batch_wait = std::min(kWaitChoices[static_cast<std::size_t>(c[1])], std::max<Duration>(0, config.max_batch_wait));
    out[m].lanes = c[2] + 1;
  }
}

void encode_action(std::span<const ModelControl> controls, const ControllerConfig& config, std::span<int> choice) {
  if (choice.size() < controls.size() * kBranches)
    throw Error(fmt::format("encode_action: room for {} choices, needs {}", choice.size(), controls.size() * kBranches));
  const int lanes = std::max(1, config.lanes);
  for (std::size_t m = 0; m < controls.size(); ++m) {
    const ModelControl& c = controls[m];
    const int batch = c.max_batch > 0 ? c.max_batch : std::max(1, config.max_batch);
    int* out = choice.data() + m * kBranches;
    out[0] = out[1] = 0;
    for (std::size_t i = 1; i < kBatchChoices.size(); ++i)  // nearest, the smaller on ties
      if (std::abs(kBatchChoices[i] - batch) < std::abs(kBatchChoices[static_cast<std::size_t>(out[0])] - batch)) out[0] = static_cast<int>(i);
    for (std::size_t i = 1; i < kWaitChoices.size(); ++i)
      if (std::llabs(kWaitChoices[i] - c.batch_wait) < std::llabs(kWaitChoices[static_cast<std::size_t>(out[1])] - c.batch_wait))
        out[1] = static_cast<int>(i);
    out[2] = std::clamp(c.lanes > 0 ? c.lanes : lanes, 1, lanes) - 1;
  }
}

}  // namespace imprecise::control
