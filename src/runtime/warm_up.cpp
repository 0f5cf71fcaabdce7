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
    Job& j = slots_[i].job;
    j = Job{};
    j.id = static_cast<JobId>(i);  // slot i, generation 0
    j.model = m;
    j.mandatory_depth = model.mandatory_depth;
    // Deadlines from tight to loose, so the plans mix drops, mandatory-only and full-depth jobs.
    j.deadline = static_cast<Time>(i + 1) *
                 std::max<Duration>(model.profile.planned_span(0, model.stages(), config_.policy_config.figure), 1) / 2;
    release(static_cast<std::uint32_t>(i), now);
  }
  std::fill(confidence_.begin(), confidence_.end(), 0.5);
  for (std::size_t step = 0; step < 4 * n * static_cast<std::size_t>(max_stages_) + 16; ++step) {
    host_->decide(now);
    const LaneBatch& batch = host_->lane(0);
    if (!batch.busy) break;  // Idle: nothing left to do
    const Profile& profile = plan_models_[static_cast<std::size_t>(batch.model)].profile;
    const int size = std::clamp(static_cast<int>(batch.jobs.size()), 1, profile.max_batch());
    const Time started = now;
    now += std::max<Duration>(profile.planned(batch.stage, size, config_.policy_config.figure), 1);
    host_->complete(0, std::span<const double>(confidence_.data(), batch.jobs.size()), started, now, nullptr, now);
  }
  for (std::size_t i = 0; i < n; ++i) host_->expire(static_cast<std::uint32_t>(i), now);
  warming_up_ = false;
}

}  // namespace imprecise::runtime
