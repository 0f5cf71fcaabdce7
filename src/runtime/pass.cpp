// Engine scheduling passes: what happened since the last pass goes to the PolicyHost, in the simulator's
// order; the host's decisions come back through the HostClient hooks (a batch to a lane thread, an answer
// to a promise or callback).
#include <algorithm>
#include <exception>

#include "engine_impl.hpp"

namespace imprecise::runtime {

void Engine::Impl::service() {
  bool stopping = false;
  StopMode mode = StopMode::cancel;
  {
    std::lock_guard lock(mu_);
    arrivals_.swap(inbox_);
    for (Lane& l : lanes_) l.poke = false;  // this pass takes the arrivals in
    for (Lane& l : lanes_)
      if (l.done) {
        l.done = false;
        l.collected = true;
      }
    stopping = stop_requested_;
    stop_seen_ = stop_seen_ || stopping;
    mode = stop_mode_;
  }
  const Time t = now();
  pass_start_ = t;
  // Same order as the simulator: completions (a stage that ends at a deadline counts), expiries,
  // arrivals, then decisions.
  for (std::size_t l = 0; l < lanes_.size(); ++l)
    if (lanes_[l].collected) complete(static_cast<int>(l), t);
  expire_due(t);
  for (const std::uint32_t index : arrivals_) release(index, t);
  arrivals_.clear();
  // A control interval that ended: the controller's settings apply from this pass's decisions on.
  if (control_ && t >= next_control_) next_control_ = control_->tick(t, *policy_);
  Time idle_until = kNever;
  if (stopping && mode == StopMode::cancel)
    cancel_all(t);
  else
    idle_until = host_->decide(t);

  const bool lanes_idle = !host_->any_lane_busy();
  const Time wake = std::min({deadlines_.empty() ? kNever : deadlines_.top_key(), idle_until, next_control_});
  bool wake_dispatcher = false;
  int poke_lane = -1;
  {
    std::lock_guard lock(mu_);
    for (const std::uint32_t index : freeing_) free_.give_back(index, slots_[index].shaped_for);
    freeing_.clear();
    wake_dispatcher = wake < wake_at_;  // a timer the sleeping dispatcher does not know about yet
    wake_at_ = wake;
    bool all_busy = true;
    for (std::size_t l = 0; l < lanes_.size(); ++l) {
      lanes_[l].idle = !host_->lane(static_cast<int>(l)).busy;
      all_busy = all_busy && !lanes_[l].idle;
    }
    lanes_busy_ = all_busy;
    // Arrivals that came in during this pass while lanes_busy_ still said "a lane will take them".
    if (!all_busy && !inbox_.empty()) poke_lane = poke_idle_lane();
    if (stop_requested_ && host_->live() == 0 && inbox_.empty() && lanes_idle && !finished_) {
      finished_ = true;
      wake_dispatcher = true;
    }
  }
  if (wake_dispatcher) cv_.notify_one();
  if (poke_lane >= 0) lanes_[static_cast<std::size_t>(poke_lane)].cv.notify_one();
}

int Engine::Impl::poke_idle_lane() {
  int idle = -1;
  for (std::size_t l = 0; l < lanes_.size(); ++l) {
    if (lanes_[l].poke) return -1;  // a pass is coming already: it takes every arrival in the inbox
    if (idle < 0 && lanes_[l].idle) idle = static_cast<int>(l);
  }
  if (idle >= 0) lanes_[static_cast<std::size_t>(idle)].poke = true;
  return idle;
}

void Engine::Impl::release(std::uint32_t index, Time now) {
  Slot& s = slots_[index];
  if (!warming_up_) deadlines_.push(index, s.job.deadline);
  host_->admit(s.job, now);
}

void Engine::Impl::complete(int lane_index, Time now) {
  Lane& lane = lanes_[static_cast<std::size_t>(lane_index)];
  lane.collected = false;
  for (std::size_t i = 0; i < lane.count; ++i) confidence_[i] = lane.results[i].confidence;
  host_->complete(lane_index, std::span<const double>(confidence_.data(), lane.count), lane.started, lane.ended,
                  lane.failed ? lane.error.c_str() : nullptr, now);
  std::size_t column = 0;
  StageTiming timing;
  // What the batch cost the schedule: the stage alone, or (by default) the whole cycle from the pass
  // that dispatched it to this one, so the engine's own overheads are planned for too.
  const Duration cost = config_.online_profile.include_overhead ? now - lane.cycle_start : lane.ended - lane.started;
  if (!lane.failed && online_.record(lane.model, lane.stage, static_cast<int>(lane.count), cost, column, timing)) {
    {
      std::lock_guard lock(profile_mu_);
      planned(lane.model).set_timing(lane.stage, column, timing);  // at the engine's concurrency (lanes)
    }
    const int batch = planned(lane.model).batch_sizes()[column];
    host_->notify([&](Observer& ob) { ob.on_profile_update(lane.model, lane.stage, batch, timing); });
  }
}

void Engine::Impl::expire_due(Time now) {
  while (!deadlines_.empty() && deadlines_.top_key() <= now) {
    const std::uint32_t slot = deadlines_.top();
    host_->expire(slot, now);
    if (deadlines_.contains(slot)) deadlines_.remove(slot);  // (ended already: deliver() removed it)
  }
}

void Engine::Impl::cancel_all(Time now) {
  while (!deadlines_.empty()) {
    const std::uint32_t slot = deadlines_.top();
    host_->cancel(slot, now, "cancelled: engine stopped before its mandatory part ran");
    if (deadlines_.contains(slot)) deadlines_.remove(slot);
  }
}

// --- HostClient ---

void Engine::Impl::start_lane(int lane_index, Time now) {
  const LaneBatch& batch = host_->lane(lane_index);
  Lane& lane = lanes_[static_cast<std::size_t>(lane_index)];
  lane.model = batch.model;
  lane.stage = batch.stage;
  lane.count = batch.jobs.size();
  for (std::size_t i = 0; i < lane.count; ++i) lane.states[i] = &slots_[host_->slot_of(batch.jobs[i])].state;
  lane.cycle_start = pass_start_;
  if (warming_up_) {  // warm_up_policy completes the batch itself, on simulated time
    const Profile& profile = planned(lane.model);
    const int size = std::clamp(static_cast<int>(lane.count), 1, profile.max_batch());
    lane.started = now;
    lane.ended = now + std::max<Duration>(profile.planned(lane.stage, size, config_.policy_config.figure), 1);
    return;
  }
  {
    std::lock_guard lock(mu_);
    lane.has_work = true;
    lane.idle = false;  // an arrival from now on pokes another lane (or none)
  }
  lane.cv.notify_one();
}

void Engine::Impl::on_stage_result(int lane, std::uint32_t slot, std::size_t index) {
  if (warming_up_) return;
  const nn::ExitResult& r = lanes_[static_cast<std::size_t>(lane)].results[index];
  const auto stage = static_cast<std::size_t>(host_->lane(lane).stage);
  slots_[slot].exits[stage] = ExitAnswer{r.prediction, r.confidence};
  if (config_.keep_logits) slots_[slot].logits[stage].assign(r.logits.begin(), r.logits.end());  // within capacity
}

void Engine::Impl::answer(std::uint32_t slot, int depth, Outcome& o) {
  const Slot& s = slots_[slot];
  int best = depth;
  if (config_.answer == AnswerRule::calibrated_best) {
    const UtilityModel& u = plan_models_[static_cast<std::size_t>(s.job.model)].utility;
    double best_r = -1.0;
    for (int l = 1; l <= depth; ++l) {
      const double r = u.expected(l, l, s.exits[static_cast<std::size_t>(l - 1)].confidence);
      if (r >= best_r) {
        best_r = r;
        best = l;
      }
    }
  }
  const ExitAnswer& a = s.exits[static_cast<std::size_t>(best - 1)];
  o.exit = best;
  o.prediction = a.prediction;
  o.confidence = a.confidence;
  if (config_.keep_logits) o.logits = s.logits[static_cast<std::size_t>(best - 1)];
}

void Engine::Impl::deliver(std::uint32_t slot, Outcome&& o) {
  Slot& s = slots_[slot];
  if (deadlines_.contains(slot)) deadlines_.remove(slot);
  if (s.promise) {
    s.promise->set_value(std::move(o));
    s.promise.reset();
  } else if (s.callback) {
    try {
      s.callback(std::move(o));
    } catch (...) {  // a caller's callback must not take the engine down
    }
    s.callback = nullptr;
  }
}

void Engine::Impl::on_slot_free(std::uint32_t slot) {
  if (!warming_up_) freeing_.push_back(slot);
}

}  // namespace imprecise::runtime
