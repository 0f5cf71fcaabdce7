// OnlineProfile: ring buffers of measured stage times and their summary (nearest-rank percentiles).
#include "online_profile.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "imprecise/error.hpp"
#include "imprecise/nn/profiler.hpp"

namespace imprecise::runtime::detail {

OnlineProfile::OnlineProfile(const std::vector<Model>& models, const OnlineProfileConfig& config) : config_(config) {
  if (!config_.enabled) return;
  if (config_.window < 1 || config_.min_samples < 1 || config_.min_samples > config_.window || config_.every < 1)
    throw Error(fmt::format("engine: online_profile needs window >= 1, 1 <= min_samples <= window, every >= 1 "
                            "(got window {}, min_samples {}, every {})",
                            config_.window, config_.min_samples, config_.every));
  const auto window = static_cast<std::size_t>(config_.window);
  scratch_.resize(window);
  for (const Model& m : models) {
    const auto& sizes = m.profile.batch_sizes();
    std::vector<int> column(static_cast<std::size_t>(m.profile.max_batch()) + 1, -1);
    for (std::size_t c = 0; c < sizes.size(); ++c) column[static_cast<std::size_t>(sizes[c])] = static_cast<int>(c);
    column_of_batch_.push_back(std::move(column));
    std::vector<std::vector<Window>> stages(static_cast<std::size_t>(m.stages()));
    for (auto& columns : stages) {
      columns.resize(sizes.size());
      for (Window& w : columns) w.times.assign(window, 0);
    }
    windows_.push_back(std::move(stages));
  }
}

bool OnlineProfile::record(ModelId model, int stage, int batch, Duration took, std::size_t& column, StageTiming& timing) {
  if (!config_.enabled) return false;
  const auto& columns = column_of_batch_[static_cast<std::size_t>(model)];
  if (batch < 1 || static_cast<std::size_t>(batch) >= columns.size() || columns[static_cast<std::size_t>(batch)] < 0)
    return false;
  column = static_cast<std::size_t>(columns[static_cast<std::size_t>(batch)]);
  Window& w = windows_[static_cast<std::size_t>(model)][static_cast<std::size_t>(stage)][column];
  w.times[w.next] = std::max<Duration>(took, 1);
  w.next = (w.next + 1) % w.times.size();
  w.count = std::min(w.count + 1, w.times.size());
  ++w.since_update;
  if (w.count < static_cast<std::size_t>(config_.min_samples) || w.since_update < config_.every) return false;
  w.since_update = 0;
  std::copy(w.times.begin(), w.times.begin() + static_cast<std::ptrdiff_t>(w.count), scratch_.begin());
  timing = nn::summarize_times(std::span<Duration>(scratch_.data(), w.count));
  return true;
}

}  // namespace imprecise::runtime::detail
