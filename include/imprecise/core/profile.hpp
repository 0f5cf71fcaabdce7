// Profile: measured execution time of every stage of a model, per batch size (mean, p50, p99, max).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "imprecise/core/time.hpp"

namespace imprecise {

struct StageTiming {
  Duration mean = 0;
  Duration p50 = 0;
  Duration p99 = 0;
  Duration max = 0;
};

/// Which figure of a StageTiming a planner budgets with (PolicyConfig::figure; the default is p50).
enum class PlanningFigure { mean, p50, p99, max };

PlanningFigure parse_planning_figure(const std::string& name);  // throws Error naming the value
const char* to_string(PlanningFigure figure);

Duration figure_of(const StageTiming& timing, PlanningFigure figure);

class Profile {
 public:
  Profile() = default;
  /// batch_sizes: strictly increasing, starting at 1. per_stage[s][i] = timing of stage s at batch_sizes[i].
  /// Throws Error (naming `where`) if the table is inconsistent.
  Profile(std::vector<int> batch_sizes, std::vector<std::vector<StageTiming>> per_stage,
          const std::string& where = "profile");

  int stages() const { return static_cast<int>(per_stage_.size()); }
  int max_batch() const { return batch_sizes_.empty() ? 0 : batch_sizes_.back(); }
  const std::vector<int>& batch_sizes() const { return batch_sizes_; }

  /// Timing of `stage` (0-based) for a batch of `batch` jobs: the smallest measured batch size >= batch
  /// (conservative; batch must be in [1, max_batch()]).
  const StageTiming& timing(int stage, int batch) const {
    return per_stage_[stage][batch_index_[batch]];
  }
  Duration planned(int stage, int batch, PlanningFigure figure) const {
    return figure_of(timing(stage, batch), figure);
  }
  /// Planned time of stages [from, to) at batch 1.
  Duration planned_span(int from, int to, PlanningFigure figure) const;

  const std::vector<std::vector<StageTiming>>& table() const { return per_stage_; }

  /// Replaces the timing measured at batch_sizes()[column] for `stage` (online re-profiling). Does not
  /// allocate. Throws Error if the indices are out of range or the figures are not ordered as the
  /// constructor requires (p50 <= p99 <= max, mean <= max, none negative).
  void set_timing(int stage, std::size_t column, const StageTiming& timing);
  /// Changes whenever the table does (construction, set_timing) and is unique across profiles, so that
  /// what is derived from a table is recomputed only when it changed. A copy keeps its source's.
  std::uint64_t revision() const { return revision_; }

 private:
  std::vector<int> batch_sizes_;
  std::vector<std::vector<StageTiming>> per_stage_;
  std::vector<int> batch_index_;  // batch size -> column of per_stage_
  std::uint64_t revision_ = next_revision();
  static std::uint64_t next_revision();
};

}  // namespace imprecise
