// The sac controller's observation and action encoding: the one definition the C++ actor and the
// Python training environment (through pybind11) both use. Free functions on plain spans.
#pragma once

#include <array>
#include <span>

#include "imprecise/core/model.hpp"
#include "imprecise/core/time.hpp"
#include "imprecise/sched/controller.hpp"
#include "imprecise/sched/model_control.hpp"

namespace imprecise::control {

/// Features per model, in this order (every one clipped to [0, kFeatureClip]):
///   0 arrival rate / the model's batch-1 capacity (1 / its mandatory stages' p50 at batch 1 in the
///     table for config.lanes lanes busy, Model::profile_at: the one the host plans with)
///   1 served fraction      completed / answered (0 when nothing was answered)
///   2 violation fraction   (missed + rejected + failed) / answered
///   3 latency_mean / slo   4 latency_p99 / slo   (0 when the window released nothing)
///   5 pending / (config.max_batch x config.lanes)
///   6 current max batch / config.max_batch  (0, "the policy's", reads as config.max_batch)
///   7 current batch wait / config.max_batch_wait (0 when that is 0)
///   8 current lanes / config.lanes (0, "all", reads as config.lanes)
///   9 mean batch / config.max_batch
/// then one global feature: busy_fraction.
inline constexpr int kFeaturesPerModel = 10;
/// ONNX metadata_props key of a trained actor: the names of the models it was trained for, comma-separated,
/// in the order of its features and logits (scripts/train_sac.py writes it). The controller matches the
/// host's models to them by name, so a host that lists its models in another order (a model repository
/// reads its folders alphabetically) still gives each model its own features and action. An actor
/// without it is taken to list the host's models in the host's order.
inline constexpr const char* kMetaSacModels = "imprecise.sac.models";
inline constexpr float kFeatureClip = 10.0f;
/// kFeaturesPerModel x models + 1.
int observation_size(int models);
/// Writes the observation of `observation` (its models and current settings, `models` their profiles)
/// into out[0, observation_size). Throws Error when `out` is too short or the counts disagree.
/// Allocates nothing.
void encode_observation(const ControlObservation& observation, std::span<const Model> models,
                        const ControllerConfig& config, std::span<float> out);

/// The action: per model three branches, each a categorical choice:
///   batch: max batch in kBatchChoices (clamped to config.max_batch)
///   wait:  batch wait in kWaitChoices (clamped to config.max_batch_wait)
///   lanes: 1..config.lanes
/// The actor's output is the logits of every branch concatenated, model by model:
///   [model 0: batch (4) | wait (5) | lanes (L)] [model 1: ...] ..., L = config.lanes;
/// at serving time each branch takes its argmax (first on ties).
inline constexpr std::array<int, 4> kBatchChoices{1, 2, 4, 8};
inline constexpr std::array<Duration, 5> kWaitChoices{0, 500'000, 1'000'000, 2'000'000, 5'000'000};
inline constexpr int kBranches = 3;
/// Sizes of one model's three branches: {4, 5, config.lanes}.
std::array<int, kBranches> branch_sizes(const ControllerConfig& config);
/// Logits per model: 4 + 5 + config.lanes.
int action_logits_per_model(const ControllerConfig& config);
/// action_logits_per_model x models.
int action_size(int models, const ControllerConfig& config);
/// choice[3 m + k] = argmax of model m's branch k in `logits` (action_size long). Allocates nothing.
void argmax_action(std::span<const float> logits, const ControllerConfig& config, std::span<int> choice);
/// Model m's setting from choice[3 m .. 3 m + 2]; throws Error naming the branch for an index out of range.
void decode_action(std::span<const int> choice, const ControllerConfig& config, std::span<ModelControl> out);
/// The inverse (nearest choice per branch), for imitation targets and tests.
void encode_action(std::span<const ModelControl> controls, const ControllerConfig& config, std::span<int> choice);

}  // namespace imprecise::control
