// PolicyHost: admission, completions, expiries and the decision loop of the Policy protocol (one copy).
#include "imprecise/sched/policy_host.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <chrono>
#include <variant>

#include <fmt/format.h>

#include "imprecise/error.hpp"

namespace imprecise {

namespace {

DecisionKind kind_of(const Decision& d) {
  if (std::holds_alternative<Dispatch>(d)) return DecisionKind::dispatch;
  if (std::holds_alternative<Finish>(d)) return DecisionKind::finish;
  if (std::holds_alternative<Drop>(d)) return DecisionKind::drop;
  return DecisionKind::idle;
}

constexpr const char* kShed = "shed by the policy under overload";

}  // namespace

PolicyHost::PolicyHost(Policy& policy, std::span<const Model> models, PolicyHostConfig config, HostClient& client)
    : policy_(policy), models_(models), config_(std::move(config)), client_(client) {
  if (config_.slots < 1) throw Error("policy host: slots must be >= 1");
  if (config_.lanes < 1) throw Error("policy host: lanes must be >= 1");
  if (config_.max_batch.size() != models_.size())
    throw Error(fmt::format("policy host: max_batch has {} entries for {} models", config_.max_batch.size(), models_.size()));
  int widest = 1;
  for (const int b : config_.max_batch) {
    if (b < 1) throw Error("policy host: every model's max_batch must be >= 1");
    widest = std::max(widest, b);
  }
  slot_bits_ = std::max(1u, static_cast<unsigned>(std::bit_width(config_.slots - 1)));
  slot_mask_ = slot_bits_ >= 32 ? 0xffffffffu : (1u << slot_bits_) - 1u;
  jobs_.resize(config_.slots);
  lanes_.resize(static_cast<std::size_t>(config_.lanes));
  for (LaneBatch& l : lanes_) l.jobs.reserve(static_cast<std::size_t>(widest));
  infos_.reserve(static_cast<std::size_t>(widest));
  rejected_.reserve(static_cast<std::size_t>(widest));
}

void PolicyHost::set_observers(std::vector<std::shared_ptr<Observer>> observers) {
  for (const auto& o : observers)
    if (!o) throw Error("observers holds a null pointer");
  observers_ = std::move(observers);
}

bool PolicyHost::any_lane_busy() const {
  return std::any_of(lanes_.begin(), lanes_.end(), [](const LaneBatch& l) { return l.busy; });
}

JobInfo PolicyHost::info_of(const HostJob& j) const {
  return JobInfo{j.job.id, j.job.model, j.job.release, j.job.deadline, j.job.weight, j.depth};
}

void PolicyHost::fill_infos(const LaneBatch& lane) {
  infos_.clear();
  for (const JobId id : lane.jobs) infos_.push_back(info_of(jobs_[slot_of(id)]));
}

bool PolicyHost::idle_job(JobId id) const {
  const std::uint32_t slot = slot_of(id);
  if (slot >= jobs_.size()) return false;
  const HostJob& j = jobs_[slot];
  return j.live && !j.in_flight && j.job.id == id;
}

// The one outcome rule: a job answered from what it has is completed once its mandatory part is done.
OutcomeStatus PolicyHost::status_from_depth(const HostJob& j) const {
  return j.depth >= j.job.mandatory_depth ? OutcomeStatus::completed : OutcomeStatus::missed;
}

bool PolicyHost::admit(const Job& job, Time now) {
  const std::uint32_t slot = slot_of(job.id);
  if (slot >= jobs_.size()) throw Error(fmt::format("policy host: job {} names slot {} of {}", job.id, slot, jobs_.size()));
  HostJob& j = jobs_[slot];
  assert(!j.live && !j.in_flight);
  j = HostJob{job, 0, true, false, kNever, 0};
  ++live_;
  if (job.deadline <= now) {  // it expired before it could be admitted: never worth running
    end_job(slot, OutcomeStatus::missed, now);
    return false;
  }
  const JobInfo info = info_of(j);
  notify([&](Observer& ob) { ob.on_admit(info, now); });
  policy_.on_release(job, now);
  return true;
}

void PolicyHost::expire(std::uint32_t slot, Time now) {
  HostJob& j = jobs_[slot];
  if (!j.live) return;
  policy_.on_expire(j.job.id, now);
  end_job(slot, status_from_depth(j), now);
}

void PolicyHost::cancel(std::uint32_t slot, Time now, const char* message) {
  HostJob& j = jobs_[slot];
  if (!j.live) return;
  policy_.on_expire(j.job.id, now);
  const OutcomeStatus status = status_from_depth(j);
  end_job(slot, status == OutcomeStatus::completed ? status : OutcomeStatus::rejected, now,
          status == OutcomeStatus::completed ? "" : message);
}

void PolicyHost::abandon(std::uint32_t slot, Time now, const char* message) {
  if (!jobs_[slot].live) return;
  ++violations_;
  end_job(slot, OutcomeStatus::failed, now, message);
}

void PolicyHost::end_job(std::uint32_t slot, OutcomeStatus status, Time now, const char* message) {
  HostJob& j = jobs_[slot];
  assert(j.live);
  j.live = false;
  --live_;
  Outcome o;
  o.job = j.job.id;
  o.status = status;
  o.depth = j.depth;
  o.finish = now;
  o.model = j.job.model;
  o.release = j.job.release;
  o.deadline = j.job.deadline;
  o.start = j.start;
  o.run = j.run;
  if (message[0] != '\0') o.message = message;
  if (status == OutcomeStatus::completed && j.depth > 0) client_.answer(slot, j.depth, o);
  notify([&](Observer& ob) { ob.on_outcome(o); });
  if (!j.in_flight) client_.on_slot_free(slot);
  client_.deliver(slot, std::move(o));
}

void PolicyHost::fail_job(JobId id, Time now, const char* what) {
  if (!idle_job(id)) return;
  policy_.on_expire(id, now);
  const std::string message = fmt::format("policy protocol violation: {}", what);
  end_job(slot_of(id), OutcomeStatus::failed, now, message.c_str());
}

std::size_t PolicyHost::complete(int lane_index, std::span<const double> confidence, Time started, Time ended,
                                 const char* error, Time now) {
  LaneBatch& lane = lanes_[static_cast<std::size_t>(lane_index)];
  assert(lane.busy && confidence.size() >= lane.jobs.size());
  lane.busy = false;
  if (!observers_.empty()) {
    fill_infos(lane);
    notify([&](Observer& ob) { ob.on_stage_done(lane_index, lane.model, lane.stage, infos_, started, ended, error != nullptr); });
  }
  std::size_t wasted = 0;
  for (std::size_t i = 0; i < lane.jobs.size(); ++i) {
    const JobId id = lane.jobs[i];
    const std::uint32_t slot = slot_of(id);
    HostJob& j = jobs_[slot];
    j.in_flight = false;
    j.run += ended - started;
    if (!j.live) {  // answered while its stage ran (deadline or stop): the work is wasted
      ++wasted;
      client_.on_slot_free(slot);
      continue;
    }
    if (error != nullptr) {
      policy_.on_expire(id, now);
      end_job(slot, OutcomeStatus::failed, now, error);
      continue;
    }
    j.depth = lane.stage + 1;
    client_.on_stage_result(lane_index, slot, i);
    policy_.on_stage_done(id, j.depth, confidence[i], now);
  }
  policy_.on_lane_free(lane_index, now);
  return wasted;
}

Time PolicyHost::decide(Time now) {
  const auto free_lane = [&] {
    // The first free lane: the one a Dispatch without a lane runs on.
    for (std::size_t l = 0; l < lanes_.size(); ++l)
      if (!lanes_[l].busy) return static_cast<int>(l);
    return -1;
  };
  int lane = free_lane();
  if (lane < 0) return kNever;
  // Every valid Finish/Drop ends a job, so more rounds than live jobs means a stuck policy.
  std::size_t guard = live_ + 8;
  while (guard-- > 0) {
    const auto t0 = std::chrono::steady_clock::now();
    const Decision d = policy_.next(now);
    const Duration took =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    if (!observers_.empty()) notify([&](Observer& ob) { ob.on_decision(now, took, kind_of(d)); });
    if (const auto* f = std::get_if<Finish>(&d)) {
      if (!idle_job(f->job)) {
        ++violations_;
        continue;
      }
      const std::uint32_t slot = slot_of(f->job);
      end_job(slot, status_from_depth(jobs_[slot]), now);
    } else if (const auto* r = std::get_if<Drop>(&d)) {
      if (!idle_job(r->job)) {
        ++violations_;
        continue;
      }
      const std::uint32_t slot = slot_of(r->job);
      const JobInfo info = info_of(jobs_[slot]);
      notify([&](Observer& ob) { ob.on_drop(info, now); });
      end_job(slot, OutcomeStatus::rejected, now, kShed);
    } else if (const auto* idle = std::get_if<Idle>(&d)) {
      return idle->until > now ? idle->until : kNever;
    } else if (start(std::get<Dispatch>(d).lane < 0 ? lane : std::get<Dispatch>(d).lane, std::get<Dispatch>(d), now)) {
      lane = free_lane();
      if (lane < 0) return kNever;
      guard = live_ + 8;
    }
  }
  ++violations_;  // stuck: wait for the next event
  return kNever;
}

bool PolicyHost::reject_dispatch(int lane_index, const Dispatch& d, Time now, const char* what) {
  ++violations_;
  rejected_.assign(d.jobs.begin(), d.jobs.end());  // on_expire ends the span's validity
  for (const JobId id : rejected_) fail_job(id, now, what);
  if (lane_index >= 0 && lane_index < lanes() && !lanes_[static_cast<std::size_t>(lane_index)].busy)
    policy_.on_lane_free(lane_index, now);  // the policy took that lane as busy: it never ran
  return false;
}

bool PolicyHost::start(int lane_index, const Dispatch& d, Time now) {
  const auto reject_dispatch = [&](const Dispatch& bad, Time at, const char* what) {
    return this->reject_dispatch(lane_index, bad, at, what);
  };
  if (lane_index < 0 || lane_index >= lanes() || lanes_[static_cast<std::size_t>(lane_index)].busy)
    return reject_dispatch(d, now, fmt::format("dispatch to lane {}, which is not a free lane", d.lane).c_str());
  if (d.model < 0 || static_cast<std::size_t>(d.model) >= models_.size())
    return reject_dispatch(d, now, fmt::format("dispatch of unknown model {}", d.model).c_str());
  const Model& model = models_[static_cast<std::size_t>(d.model)];
  if (d.jobs.empty()) return reject_dispatch(d, now, "empty dispatch");
  if (d.stage < 0 || d.stage >= model.stages())
    return reject_dispatch(d, now, fmt::format("dispatch of stage {} of '{}'", d.stage, model.name).c_str());
  const int limit = config_.max_batch[static_cast<std::size_t>(d.model)];
  if (static_cast<int>(d.jobs.size()) > limit)
    return reject_dispatch(d, now, fmt::format("batch of {} exceeds the limit {}", d.jobs.size(), limit).c_str());
  for (std::size_t i = 0; i < d.jobs.size(); ++i) {
    const JobId id = d.jobs[i];
    const auto seen = d.jobs.begin() + static_cast<std::ptrdiff_t>(i);
    const bool ok = idle_job(id) && jobs_[slot_of(id)].job.model == d.model && jobs_[slot_of(id)].depth == d.stage &&
                    std::find(d.jobs.begin(), seen, id) == seen;
    if (!ok)
      return reject_dispatch(d, now, fmt::format("job {} cannot run stage {} of '{}' now", id, d.stage, model.name).c_str());
  }
  // Work that can no longer help: if even the profile's median says this stage ends after a job's
  // deadline, answer the job now (from what it has) rather than run it.
  int busy = 1;  // lanes running once this one starts: instances running together slow each other
  for (const LaneBatch& l : lanes_) busy += l.busy ? 1 : 0;
  const Time end_estimate =
      now + model.profile_at(busy).planned(d.stage, static_cast<int>(d.jobs.size()), PlanningFigure::p50);
  LaneBatch& lane = lanes_[static_cast<std::size_t>(lane_index)];
  lane.jobs.assign(d.jobs.begin(), d.jobs.end());  // copied first: on_expire ends the span's validity
  std::size_t kept = 0;
  for (const JobId id : lane.jobs) {
    const std::uint32_t slot = slot_of(id);
    if (end_estimate > jobs_[slot].job.deadline) {
      policy_.on_expire(id, now);
      end_job(slot, status_from_depth(jobs_[slot]), now);
      continue;
    }
    lane.jobs[kept++] = id;
  }
  lane.jobs.resize(kept);
  if (kept == 0) {
    policy_.on_lane_free(lane_index, now);  // nothing of the batch runs: the lane stays free
    return false;
  }
  for (const JobId id : lane.jobs) {
    HostJob& j = jobs_[slot_of(id)];
    j.in_flight = true;
    if (j.start == kNever) j.start = now;
  }
  lane.busy = true;
  lane.model = d.model;
  lane.stage = d.stage;
  lane.dispatched = now;
  if (!observers_.empty()) {
    fill_infos(lane);
    notify([&](Observer& ob) { ob.on_dispatch(lane_index, d.model, d.stage, infos_, now); });
  }
  client_.start_lane(lane_index, now);
  return true;
}

}  // namespace imprecise
