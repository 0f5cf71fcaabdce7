// ServedProfileAverager: averages the online profile updates of a run.
#include "served_profile.hpp"

#include <algorithm>
#include <cmath>

namespace edge_server {

void ServedProfileAverager::on_profile_update(imprecise::ModelId model, int stage, int batch,
                                              const imprecise::StageTiming& timing) {
  std::lock_guard lock(mu_);
  Sum& s = sums_[{model, stage, batch}];
  s.mean += static_cast<double>(timing.mean);
  s.p50 += static_cast<double>(timing.p50);
  s.p99 += static_cast<double>(timing.p99);
  s.max += static_cast<double>(timing.max);
  ++s.count;
}

imprecise::Profile ServedProfileAverager::averaged(imprecise::ModelId model, const imprecise::Profile& offline) const {
  std::lock_guard lock(mu_);
  imprecise::Profile profile = offline;
  const std::vector<int>& batches = profile.batch_sizes();
  for (const auto& [key, s] : sums_) {
    const auto& [m, stage, batch] = key;
    if (m != model || s.count == 0) continue;
    const auto it = std::find(batches.begin(), batches.end(), batch);
    if (it == batches.end() || stage < 0 || stage >= profile.stages()) continue;
    const auto avg = [&](double total) { return static_cast<imprecise::Duration>(std::llround(total / s.count)); };
    // Averages of ordered figures stay ordered (p50 <= p99 <= max), as set_timing requires.
    profile.set_timing(stage, static_cast<std::size_t>(it - batches.begin()),
                       imprecise::StageTiming{avg(s.mean), avg(s.p50), avg(s.p99), avg(s.max)});
  }
  return profile;
}

}  // namespace edge_server
