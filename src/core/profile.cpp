// Profile: validation of a timing table, the batch-size lookup and the planning figures.
#include "imprecise/core/profile.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <utility>

#include "imprecise/error.hpp"

namespace imprecise {

Duration figure_of(const StageTiming& timing, PlanningFigure figure) {
  switch (figure) {
    case PlanningFigure::mean: return timing.mean;
    case PlanningFigure::p50: return timing.p50;
    case PlanningFigure::p99: return timing.p99;
    case PlanningFigure::max: return timing.max;
  }
  return timing.max;  // unreachable for a valid enum; the conservative choice otherwise
}

PlanningFigure parse_planning_figure(const std::string& name) {
  if (name == "mean") return PlanningFigure::mean;
  if (name == "p50") return PlanningFigure::p50;
  if (name == "p99") return PlanningFigure::p99;
  if (name == "max") return PlanningFigure::max;
  throw Error(fmt::format("unknown planning figure '{}' (expected mean, p50, p99 or max)", name));
}

const char* to_string(PlanningFigure figure) {
  switch (figure) {
    case PlanningFigure::mean: return "mean";
    case PlanningFigure::p50: return "p50";
    case PlanningFigure::p99: return "p99";
    case PlanningFigure::max: return "max";
  }
  return "?";
}

Profile::Profile(std::vector<int> batch_sizes, std::vector<std::vector<StageTiming>> per_stage,
                 const std::string& where)
    : batch_sizes_(std::move(batch_sizes)), per_stage_(std::move(per_stage)) {
  if (batch_sizes_.empty()) throw Error(fmt::format("{}: batch_sizes is empty", where));
  if (batch_sizes_.front() != 1)
    throw Error(fmt::format("{}: batch_sizes[0] is {}, must be 1", where, batch_sizes_.front()));
  for (std::size_t i = 1; i < batch_sizes_.size(); ++i) {
    if (batch_sizes_[i] <= batch_sizes_[i - 1])
      throw Error(fmt::format("{}: batch_sizes[{}] = {} is not larger than batch_sizes[{}] = {} (must be strictly increasing)",
                              where, i, batch_sizes_[i], i - 1, batch_sizes_[i - 1]));
  }
  if (per_stage_.empty()) throw Error(fmt::format("{}: per_stage is empty (no stages)", where));
  for (std::size_t s = 0; s < per_stage_.size(); ++s) {
    const auto& row = per_stage_[s];
    if (row.size() != batch_sizes_.size())
      throw Error(fmt::format("{}: stage {} has {} timings, expected one per batch size ({})", where, s,
                              row.size(), batch_sizes_.size()));
    for (std::size_t i = 0; i < row.size(); ++i) {
      const StageTiming& t = row[i];
      // The planner budgets with p99 by default and the simulator samples up to max, so the
      // figures must be ordered; the mean of a skewed distribution may sit anywhere below max.
      if (t.mean < 0 || t.p50 < 0 || t.p99 < 0 || t.max < 0)
        throw Error(fmt::format("{}: stage {} batch {} (batch_sizes[{}]) has a negative timing", where, s,
                                batch_sizes_[i], i));
      if (t.p50 > t.p99 || t.p99 > t.max)
        throw Error(fmt::format("{}: stage {} batch {} (batch_sizes[{}]) needs p50 <= p99 <= max, got {} / {} / {} ns",
                                where, s, batch_sizes_[i], i, t.p50, t.p99, t.max));
      if (t.mean > t.max)
        throw Error(fmt::format("{}: stage {} batch {} (batch_sizes[{}]) has mean {} ns above max {} ns", where, s,
                                batch_sizes_[i], i, t.mean, t.max));
    }
  }
  // Unmeasured batch sizes are budgeted at the next measured one up: never optimistic.
  batch_index_.assign(static_cast<std::size_t>(batch_sizes_.back()) + 1, 0);
  std::size_t column = 0;
  for (int b = 1; b <= batch_sizes_.back(); ++b) {
    while (batch_sizes_[column] < b) ++column;
    batch_index_[static_cast<std::size_t>(b)] = static_cast<int>(column);
  }
}

void Profile::set_timing(int stage, std::size_t column, const StageTiming& t) {
  if (stage < 0 || stage >= stages() || column >= batch_sizes_.size())
    throw Error(fmt::format("profile: set_timing of stage {} column {} outside {} stages x {} batch sizes", stage,
                            column, stages(), batch_sizes_.size()));
  if (t.mean < 0 || t.p50 < 0 || t.p50 > t.p99 || t.p99 > t.max || t.mean > t.max)
    throw Error(fmt::format("profile: set_timing of stage {} batch {} needs 0 <= p50 <= p99 <= max and mean <= max, "
                            "got mean {} / p50 {} / p99 {} / max {} ns",
                            stage, batch_sizes_[column], t.mean, t.p50, t.p99, t.max));
  per_stage_[static_cast<std::size_t>(stage)][column] = t;
  revision_ = next_revision();
}

std::uint64_t Profile::next_revision() {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

Duration Profile::planned_span(int from, int to, PlanningFigure figure) const {
  Duration total = 0;
  for (int s = from; s < to; ++s) total += planned(s, 1, figure);
  return total;
}

}  // namespace imprecise
