// Engine warm-up: the real PolicyHost and policy driven through max_pending synthetic jobs on simulated time.
#include <algorithm>

#include "engine_impl.hpp"

namespace imprecise::runtime {

// Policies (and the host) grow their buffers to the largest pending set they have planned for. Drive
// them once, before serving, through max_pending synthetic jobs (simulated time, no network runs) so
// those buffers start at their working size and no engine thread allocates when a burst first fills
// the queue. Every job is expired at the end: the policy starts serving with nothing pending.
void Engine::Impl::warm_up_policy() {
  warming_up_ = true;
  const std::size_t n = config_.max_pending;
  Time now = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto m = static_cast<ModelId>(i % plan_models_.size());
    const Model& model = plan_models_[static_cast<std::size_t>(m)];
    const Profile& profile = planned(m);
    Job& j = slots_[i].job;
    j = Job{};
    j.id = static_cast<JobId>(i);  // slot i, generation 0
    j.model = m;
    j.mandatory_depth = model.mandatory_depth;
    // Deadlines from tight to loose, so the plans mix drops, mandatory-only and full-depth jobs.
    j.deadline = static_cast<Time>(i + 1) *
                 std::max<Duration>(profile.planned_span(0, model.stages(), config_.policy_config.figure), 1) / 2;
    release(static_cast<std::uint32_t>(i), now);
  }
  std::fill(confidence_.begin(), confidence_.end(), 0.5);
  for (std::size_t step = 0; step < 4 * n * static_cast<std::size_t>(max_stages_) + 16; ++step) {
    host_->decide(now);
    // The busy lane whose batch ends first (start_lane set its simulated times); none: Idle, done.
    int next = -1;
    for (int l = 0; l < host_->lanes(); ++l)
      if (host_->lane(l).busy && (next < 0 || lanes_[static_cast<std::size_t>(l)].ended <
                                                  lanes_[static_cast<std::size_t>(next)].ended))
        next = l;
    if (next < 0) break;
    const Lane& lane = lanes_[static_cast<std::size_t>(next)];
    now = std::max(now, lane.ended);
    host_->complete(next, std::span<const double>(confidence_.data(), host_->lane(next).jobs.size()), lane.started,
                    lane.ended, nullptr, now);
  }
  for (std::size_t i = 0; i < n; ++i) host_->expire(static_cast<std::uint32_t>(i), now);
  warming_up_ = false;
}

}  // namespace imprecise::runtime
