// Profiler: measures every stage of a MultiExitModel per batch size and describes the model to the scheduler.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "imprecise/core/model.hpp"
#include "imprecise/core/profile.hpp"
#include "imprecise/nn/multi_exit_model.hpp"
#include "imprecise/graph/tensor.hpp"
#include "imprecise/core/time.hpp"
#include "imprecise/core/utility.hpp"

namespace imprecise::nn {

inline constexpr std::array<int, 6> kDefaultProfiledBatchSizes{1, 2, 4, 8, 16, 32};

struct ProfilerConfig {
  /// Batch sizes to measure (default 1, 2, 4, 8, 16, 32). Sizes above the model's max_batch() are dropped and max_batch() itself is
  /// added when missing (so every batch the model accepts has a timing); 1 is always measured.
  // Built from iterators, not an initializer list: GCC 12 warns (-Wdangling-pointer, a false positive)
  // about an initializer list in a default member initializer.
  std::vector<int> batch_sizes = std::vector<int>(kDefaultProfiledBatchSizes.begin(), kDefaultProfiledBatchSizes.end());
  int warmup = 3;        ///< untimed runs per batch size (caches, lazy buffers)
  int repetitions = 30;  ///< timed runs per batch size (>= 1); p99 is the nearest-rank percentile of these
  /// Before every stage run, write this many bytes of other memory (CacheEvictor), so that each stage
  /// starts on cold caches, as it does when a lane serves several models in turn. 0: back to back, on
  /// whatever the previous stage left in the caches. At most kMaxEvictBytes.
  std::size_t evict_bytes = 0;
  static constexpr std::size_t kMaxEvictBytes = std::size_t{1} << 32;
};

/// The sorted, clamped list of batch sizes profile_stages() measures for `model` (starts at 1).
std::vector<int> profiled_batch_sizes(const MultiExitModel& model, const ProfilerConfig& config = {});

/// Summary of raw stage times (nearest-rank percentiles; every figure >= 1 ns, so the result is a
/// valid StageTiming). `samples` is reordered. Throws Error when empty.
StageTiming summarize_times(std::span<Duration> samples);

/// Times every stage of `model` at every batch size: per batch size, `warmup` + `repetitions` runs of
/// all stages in order on fresh jobs (creating the jobs is not timed). `input` is one sample (or a batch
/// whose samples are cycled); without one, a deterministic synthetic input of the model's shape is used.
/// Throws Error for a bad config or input.
Profile profile_stages(MultiExitModel& model, const ProfilerConfig& config = {}, const Tensor* input = nullptr);
/// The same table at concurrency `lanes` (>= 2): `lanes` threads, each running its own
/// MultiExitModel::replica of `model`, measure together; every stage run of every (batch size,
/// repetition, stage) round starts at a barrier, so each time is that stage's time while `lanes`
/// instances run at once (the threads' times are pooled). What Model::concurrent[lanes - 2] holds
/// (`imprecise profile --concurrency N`). Throws Error for a bad config or input.
Profile profile_stages_concurrent(const MultiExitModel& model, int lanes, const ProfilerConfig& config = {},
                                  const Tensor* input = nullptr);

// Per-sample exit records and utility tables from a labelled set: data::evaluate (data/evaluation.hpp)
// and UtilityModel::calibrate, or data::calibrate for both with temperature scaling.

/// A utility model that knows only each exit's accuracy (accuracy[l-1] = R(l), in [0, 1]): the
/// confidence seen at an exit does not change the prediction. For a model not yet calibrated; with
/// no figures at all, default_exit_accuracy() is a neutral guess.
UtilityModel utility_from_accuracy(std::span<const double> accuracy);
/// l / exits for l = 1..exits: deeper is better, nothing more is known.
std::vector<double> default_exit_accuracy(int exits);

/// The scheduler's view of `model`: its stages (from `profile`, which must have model.stages() stages),
/// mandatory depth and utility (default: utility_from_accuracy(default_exit_accuracy(stages))).
/// `name` defaults to the file the model was loaded from. Throws Error on a stage-count mismatch.
/// (A profile's JSON form: sim::profile_to_json / sim::load_profile in sim/scenario.hpp.)
Model describe(const MultiExitModel& model, Profile profile, UtilityModel utility = {}, std::string name = "");

}  // namespace imprecise::nn
