// PolicyBase: pending set in order, one plan per event, Finish/Drop emission and batching that
// never makes a job late that the plan had on time.
#include "policy_base.hpp"

#include <algorithm>
#include <cassert>

namespace imprecise::detail {

PolicyBase::PolicyBase(std::span<const Model> models, PolicyConfig config, JobOrder order)
    : models_(models), config_(config), order_(order) {
  jobs_.reserve(256);
  batch_.reserve(64);
}

int PolicyBase::find(JobId id) const {
  for (std::size_t i = 0; i < jobs_.size(); ++i)
    if (jobs_[i].job.id == id) return static_cast<int>(i);
  return -1;
}

void PolicyBase::on_release(const Job& job, Time) {
  PendingJob p;
  p.job = job;
  p.target = job.mandatory_depth;
  auto before = [this](const PendingJob& a, const PendingJob& b) {
    if (order_ == JobOrder::earliest_deadline && a.job.deadline != b.job.deadline) return a.job.deadline < b.job.deadline;
    if (a.job.release != b.job.release) return a.job.release < b.job.release;
    return a.job.id < b.job.id;
  };
  jobs_.insert(std::upper_bound(jobs_.begin(), jobs_.end(), p, before), p);
  dirty_ = true;
}

void PolicyBase::on_stage_done(JobId id, int depth, double confidence, Time) {
  const int i = find(id);
  if (i < 0) return;
  PendingJob& p = jobs_[i];
  p.done = depth;
  p.confidence = confidence;
  p.in_flight = false;
  dirty_ = true;
}

void PolicyBase::on_expire(JobId id, Time) {
  const int i = find(id);
  if (i < 0) return;
  jobs_.erase(jobs_.begin() + i);
  dirty_ = true;
}

Duration PolicyBase::remaining_cost(const PendingJob& job, int depth) const {
  const Profile& profile = model_of(job).profile;
  Duration total = 0;
  for (int s = job.done; s < depth; ++s) total += profile.planned(s, 1, config_.figure);
  return total;
}

double PolicyBase::predicted_reward(const PendingJob& job, int depth) const {
  return job.job.weight * model_of(job).utility.expected(depth, job.done, job.confidence);
}

int PolicyBase::pick_head() const {
  for (std::size_t i = 0; i < jobs_.size(); ++i)
    if (needs_stage(jobs_[i])) return static_cast<int>(i);
  return -1;
}

void PolicyBase::mark_late(Time now, int model, int stage, int batch_size, std::vector<std::uint8_t>& late) const {
  // The batch runs first, then every job's remaining planned work back to back in order.
  late.assign(jobs_.size(), 0);
  const Time batch_end = now + models_[model].profile.planned(stage, batch_size, config_.figure);
  Time t = batch_end;
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    const PendingJob& p = jobs_[i];
    if (p.in_flight || p.drop) continue;
    // The depth this job must still reach for the batch to be acceptable.
    const int guarded = config_.batch_guard == BatchGuard::planned_depth
                            ? p.target
                            : std::min(p.target, std::max(p.job.mandatory_depth, p.done));
    Duration rest;
    if (p.in_batch) {
      PendingJob advanced = p;
      advanced.done = p.done + 1;
      rest = remaining_cost(advanced, guarded);
      if (batch_end > p.job.deadline) late[i] = 1;
    } else {
      rest = remaining_cost(p, guarded);
    }
    if (rest > 0) {
      t += rest;
      if (t > p.job.deadline) late[i] = 1;
    }
  }
}

bool PolicyBase::batch_keeps_plan(int model, int stage, int batch_size, Time now) const {
  mark_late(now, model, stage, batch_size, late_trial_);
  for (std::size_t i = 0; i < jobs_.size(); ++i)
    if (late_trial_[i] && !late_base_[i]) return false;
  return true;
}

Decision PolicyBase::next(Time now) {
  if (dirty_) {
    plan(now);
    dirty_ = false;
    plan_current_ = true;
  }
  // Settle what the plan decided before dispatching anything.
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    PendingJob& p = jobs_[i];
    if (p.in_flight) continue;
    if (p.drop) {
      const JobId id = p.job.id;
      jobs_.erase(jobs_.begin() + static_cast<std::ptrdiff_t>(i));
      plan_current_ = false;
      return Drop{id};
    }
    if (!p.deferred && p.done >= p.target && p.done >= p.job.mandatory_depth) {
      const JobId id = p.job.id;
      jobs_.erase(jobs_.begin() + static_cast<std::ptrdiff_t>(i));
      plan_current_ = false;
      return Finish{id};
    }
  }
  const int head = pick_head();
  if (head < 0 && replan_on_leave_ && !plan_current_) {
    // Jobs left the window since it was planned and nothing planned is left to run: plan the
    // deferred jobs that moved up (re-planning at every Finish instead would cost a DP per answer).
    plan(now);
    plan_current_ = true;
    return next(now);
  }
  if (head < 0) return Idle{kNever};

  PendingJob& h = jobs_[head];
  const int model = h.job.model, stage = h.done;
  const int max_batch = std::min(config_.max_batch, models_[model].profile.max_batch());
  batch_.clear();
  batch_.push_back(h.job.id);
  h.in_batch = true;
  if (max_batch > 1) {
    mark_late(now, model, stage, 1, late_base_);
    // Each trial costs a pass over the pending jobs: stop after a few refusals (the earliest
    // candidates are the ones EDF wants anyway), so a decision stays linear in the pending set.
    int refusals = 0;
    for (std::size_t i = 0; i < jobs_.size() && static_cast<int>(batch_.size()) < max_batch && refusals < max_batch; ++i) {
      PendingJob& c = jobs_[i];
      if (c.in_batch || !needs_stage(c) || c.job.model != model || c.done != stage) continue;
      c.in_batch = true;
      if (batch_keeps_plan(model, stage, static_cast<int>(batch_.size()) + 1, now)) {
        batch_.push_back(c.job.id);
      } else {
        c.in_batch = false;
        ++refusals;
      }
    }
  }
  for (PendingJob& p : jobs_) {
    if (p.in_batch) p.in_flight = true;
    p.in_batch = false;
  }
  return Dispatch{model, stage, std::span<const JobId>(batch_)};
}

}  // namespace imprecise::detail
