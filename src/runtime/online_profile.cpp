// OnlineProfile: one decayed histogram per (model, stage, measured batch size) and when to publish its summary.
#include "online_profile.hpp"

#include <fmt/format.h>

#include "imprecise/error.hpp"

namespace imprecise::runtime::detail {

OnlineProfile::OnlineProfile(const std::vector<Model>& models, const OnlineProfileConfig& config) : config_(config) {
  if (!config_.enabled) return;
  if (config_.half_life < 1 || config_.min_samples < 1 || config_.every < 1)
    throw Error(fmt::format("engine: online_profile needs half_life >= 1, min_samples >= 1, every >= 1 "
                            "(got half_life {}, min_samples {}, every {})",
                            config_.half_life, config_.min_samples, config_.every));
  for (const Model& m : models) {
    const auto& sizes = m.profile.batch_sizes();
    std::vector<int> column(static_cast<std::size_t>(m.profile.max_batch()) + 1, -1);
    for (std::size_t c = 0; c < sizes.size(); ++c) column[static_cast<std::size_t>(sizes[c])] = static_cast<int>(c);
    column_of_batch_.push_back(std::move(column));
    columns_.emplace_back(static_cast<std::size_t>(m.stages()),
                          std::vector<Column>(sizes.size(), Column{DecayedHistogram(config_.half_life)}));
  }
}

bool OnlineProfile::record(ModelId model, int stage, int batch, Duration took, std::size_t& column, StageTiming& timing) {
  if (!config_.enabled || took < 0) return false;
  const auto& columns = column_of_batch_[static_cast<std::size_t>(model)];
  if (batch < 1 || static_cast<std::size_t>(batch) >= columns.size() || columns[static_cast<std::size_t>(batch)] < 0)
    return false;
  column = static_cast<std::size_t>(columns[static_cast<std::size_t>(batch)]);
  Column& c = columns_[static_cast<std::size_t>(model)][static_cast<std::size_t>(stage)][column];
  c.times.add(took);
  ++c.since_update;
  if (c.times.count() < config_.min_samples || c.since_update < config_.every) return false;
  c.since_update = 0;
  timing = c.times.summary();
  return true;
}

}  // namespace imprecise::runtime::detail
