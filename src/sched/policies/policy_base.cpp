// PolicyBase: pending set in order, one plan per event, Finish/Drop emission and batching that
// never makes a job late that the plan had on time.
#include "policy_base.hpp"

#include <algorithm>
#include <cassert>

namespace imprecise::detail {

PolicyBase::PolicyBase(std::span<const Model> models, PolicyConfig config, JobOrder order)
    : models_(models),
      config_(config),
      order_(order),
      stage_costs_(max_stages(models)),
      reward_rows_(max_stages(models) + 1),
      prefix_stride_(max_stages(models) + 1) {
  jobs_.reserve(256);
  batch_.reserve(64);
  owed_.reserve(64);
  if (config_.batch_aware) stage_costs_.reserve(256);
  alone_prefix_.assign(models_.size() * static_cast<std::size_t>(prefix_stride_), 0);
  for (const Model& model : models_) {
    runs_.emplace_back(model.stages(), 0);
    rank_.emplace_back(model.stages(), 0);
    pooled_stages_.emplace_back(static_cast<std::size_t>(model.stages()));
  }
  group_limit_.assign(models_.size(), 1);
  refresh_model_costs();
  const std::size_t lanes = static_cast<std::size_t>(std::max(1, config_.lanes));
  lane_model_.assign(lanes, -1);
  lane_until_.assign(lanes, 0);
  lane_free_.assign(lanes, 0);
  lanes_in_use_.assign(models_.size(), 0);
  controls_.assign(models_.size(), ModelControl{});
}

int PolicyBase::max_stages(std::span<const Model> models) {
  int most = 1;
  for (const Model& model : models) most = std::max(most, model.stages());
  return most;
}

int PolicyBase::max_batch_of(ModelId model) const {
  const auto m = static_cast<std::size_t>(model);
  const ModelControl control = m < controls_.size() ? controls_[m] : ModelControl{};  // none yet while constructing
  const int asked = control.max_batch > 0 ? std::min(control.max_batch, config_.max_batch) : config_.max_batch;
  return std::max(1, std::min(asked, planning_profile(models_[m]).max_batch()));
}

int PolicyBase::waiting_at(ModelId model, int stage) const {
  int waiting = 0;
  for (const PendingJob& p : jobs_) waiting += needs_stage(p) && p.job.model == model && p.done == stage ? 1 : 0;
  return waiting;
}

PlanningFigure PolicyBase::figure_of(ModelId model, int stage) const {
  return stage < models_[static_cast<std::size_t>(model)].mandatory_depth ? config_.mandatory_figure : config_.figure;
}

Duration PolicyBase::planned_time(ModelId model, int stage, int batch) const {
  return planning_profile(model).planned(stage, batch, figure_of(model, stage));
}

void PolicyBase::set_control(ModelId model, const ModelControl& control) {
  if (model < 0 || static_cast<std::size_t>(model) >= models_.size()) return;
  if (controls_[static_cast<std::size_t>(model)] == control) return;
  controls_[static_cast<std::size_t>(model)] = control;
  costed_revision_[static_cast<std::size_t>(model)] = ~std::uint64_t{0};  // its longest dispatch may change
  dirty_ = true;
}

int PolicyBase::free_lane() const {
  for (std::size_t l = 0; l < lane_model_.size(); ++l)
    if (lane_model_[l] < 0) return static_cast<int>(l);
  return -1;
}

bool PolicyBase::under_lane_limit(ModelId model) const {
  const int limit = controls_[static_cast<std::size_t>(model)].lanes;
  return limit <= 0 || lanes_in_use_[static_cast<std::size_t>(model)] < limit;
}

void PolicyBase::take_lane(int lane, ModelId model, int stage, Time now) {
  if (lane < 0) return;
  int busy = 1;
  for (const ModelId m : lane_model_) busy += m >= 0 ? 1 : 0;
  lane_model_[static_cast<std::size_t>(lane)] = model;
  lane_until_[static_cast<std::size_t>(lane)] =
      now + models_[model].profile_at(busy).planned(stage, static_cast<int>(batch_.size()), figure_of(model, stage));
  ++lanes_in_use_[static_cast<std::size_t>(model)];
}

void PolicyBase::on_lane_free(int lane, Time) {
  if (lane < 0 || static_cast<std::size_t>(lane) >= lane_model_.size()) return;
  ModelId& model = lane_model_[static_cast<std::size_t>(lane)];
  if (model >= 0) --lanes_in_use_[static_cast<std::size_t>(model)];
  model = -1;
  if (lane_model_.size() > 1) dirty_ = true;  // plans over several lanes start from their free times
}

std::span<const Time> PolicyBase::lane_free_times(Time now) {
  for (std::size_t l = 0; l < lane_model_.size(); ++l)
    lane_free_[l] = lane_model_[l] < 0 ? now : std::max(now, lane_until_[l]);
  return lane_free_;
}

void PolicyBase::refresh_model_costs() {
  // The profile may be re-measured while serving (the runtime's online profile): follow it, but only
  // recompute a model whose table changed since (in the simulator, never after the first plan).
  costed_revision_.resize(models_.size(), ~std::uint64_t{0});
  model_longest_dispatch_.resize(models_.size(), 0);
  longest_dispatch_ = 0;
  for (std::size_t m = 0; m < models_.size(); ++m) {
    const Model& model = models_[m];
    const Profile& profile = planning_profile(model);
    if (costed_revision_[m] != profile.revision()) {
      costed_revision_[m] = profile.revision();
      Duration* prefix = alone_prefix_.data() + m * static_cast<std::size_t>(prefix_stride_);
      const int batch = max_batch_of(static_cast<ModelId>(m));
      Duration longest = 0;
      for (int s = 0; s < model.stages(); ++s) {
        prefix[s + 1] = prefix[s] + planned_time(static_cast<ModelId>(m), s, 1);
        longest = std::max(longest, planned_time(static_cast<ModelId>(m), s, batch));
        const Duration median = profile.planned(s, 1, config_.figure);
        const auto margin = static_cast<double>(std::max<Duration>(0, profile.planned(s, 1, config_.mandatory_figure) - median));
        pooled_stages_[m][static_cast<std::size_t>(s)] = PooledStage{median, margin * margin};
      }
      std::fill(prefix + model.stages() + 1, prefix + prefix_stride_, prefix[model.stages()]);
      model_longest_dispatch_[m] = longest;
    }
    longest_dispatch_ = std::max(longest_dispatch_, model_longest_dispatch_[m]);
  }
}

void PolicyBase::refresh_job_costs() {
  refresh_model_costs();
  if (!config_.batch_aware) return;  // every stage at batch 1: the per-model prefix sums say it all
  // Jobs waiting now at their mandatory stage are planned as the batches they form (batched_stage_cost);
  // optional stages, and jobs that are not waiting at the stage yet, at batch 1.
  rank_batch_groups(/*with_shed=*/false);
  for (PendingJob& p : jobs_) {
    const Model& model = model_of(p);
    Duration* cost = stage_costs_.row(p.cost_slot);
    const Duration* prefix = alone_prefix(p.job.model);
    for (int s = 0; s < model.stages(); ++s) cost[s] = prefix[s + 1] - prefix[s];
    if (waits_at_mandatory_stage(p)) cost[p.done] = batched_stage_cost(p);
  }
}

void PolicyBase::rank_batch_groups(bool with_shed) {
  for (auto& row : runs_) std::fill(row.begin(), row.end(), 0);
  for (auto& row : rank_) std::fill(row.begin(), row.end(), 0);
  // Taken once per ranking: batched_stage_cost asks it per job.
  for (std::size_t m = 0; m < models_.size(); ++m) group_limit_[m] = max_batch_of(static_cast<ModelId>(m));
  for (const PendingJob& p : jobs_)
    if (in_batch_group(p, with_shed)) ++runs_[p.job.model][p.done];
}

Duration PolicyBase::batched_stage_cost(const PendingJob& job) {
  // The jobs waiting at one (model, mandatory stage) run, in order, as batches of the largest size
  // allowed (the last one smaller). The first member of each batch is planned at the whole batch's
  // measured cost and the others at nothing: the first finishes exactly when the batch does, and the
  // others (later deadlines) no later than planned, so the plan stays conservative. Sharing the cost
  // equally instead made early members look done before their batch was: in the simulated sweep that
  // produced misses at loads 3 and 5.
  const int s = job.done;
  const int rank = rank_[job.job.model][s]++;
  const int limit = group_limit_[static_cast<std::size_t>(job.job.model)];
  const int first = rank - rank % limit;
  const int size = std::min(limit, runs_[job.job.model][s] - first);
  return rank == first ? planned_time(job.job.model, s, size) : 0;
}

void PolicyBase::replan(Time now) {
  refresh_job_costs();
  plan(now);
  shed_known_ = false;
  plan_current_ = true;
  settle_due_ = true;
}

Decision PolicyBase::take_out_leaving(bool as_drop) {
  // One compaction for every job marked `leaving`, in order, instead of an erase (a move of every later
  // job) per decision: at a deep backlog a pass settles or sheds several jobs, and those erases were a
  // large part of it. scan_from_ keeps pointing at the same job.
  const std::size_t scan_from = scan_from_;
  auto kept = jobs_.begin();
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
    if (it->leaving) {
      owed_.push_back(Owed{it->job.id, as_drop});
      if (static_cast<std::size_t>(it - jobs_.begin()) < scan_from) --scan_from_;
      release_rows(*it);
      continue;
    }
    if (kept != it) *kept = std::move(*it);
    ++kept;
  }
  jobs_.erase(kept, jobs_.end());
  plan_current_ = false;
  return owed_decision();
}

Decision PolicyBase::owed_decision() {
  const Owed o = owed_[owed_next_++];
  if (o.drop) return Drop{o.job};
  return Finish{o.job};
}

void PolicyBase::release_rows(const PendingJob& job) {
  if (job.cost_slot >= 0) stage_costs_.release(job.cost_slot);
  if (job.reward_slot >= 0) reward_rows_.release(job.reward_slot);
}

void PolicyBase::erase_job(std::size_t index) {
  if (index < scan_from_) --scan_from_;  // keeps the over-limit scan's cursor on the same job
  release_rows(jobs_[index]);
  jobs_.erase(jobs_.begin() + static_cast<std::ptrdiff_t>(index));
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
  if (config_.batch_aware) p.cost_slot = stage_costs_.acquire();  // rows only batch-aware plans use
  if (keeps_reward_rows_) p.reward_slot = reward_rows_.acquire();
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
  p.rewards_current = false;
  p.in_flight = false;
  dirty_ = true;
}

void PolicyBase::on_expire(JobId id, Time) {
  // A job whose Finish or Drop is still owed (a host that ends jobs between two next() calls): its
  // outcome is the host's now.
  const auto owed = std::find_if(owed_.begin() + static_cast<std::ptrdiff_t>(owed_next_), owed_.end(),
                                 [id](const Owed& o) { return o.job == id; });
  if (owed != owed_.end()) {
    owed_.erase(owed);
    return;
  }
  const int i = find(id);
  if (i < 0) return;
  erase_job(static_cast<std::size_t>(i));
  dirty_ = true;
}

void PolicyBase::refresh_shed() {
  // After a plan: how many jobs the plan sheds are pending, how many of them are beyond the pending
  // limit (the earliest deadlines go first), and when the next one falls due.
  shed_ = 0;
  next_due_ = kNever;
  for (const PendingJob& p : jobs_) {
    if (p.in_flight || !p.drop || p.in_batch) continue;
    ++shed_;
    next_due_ = std::min(next_due_, latest_start(p) - longest_dispatch_);
  }
  const int limit = config_.shed_pending_limit;
  over_limit_ = limit >= 0 && shed_ > limit ? shed_ - limit : 0;
  scan_from_ = 0;
  shed_known_ = true;
}

int PolicyBase::mark_over_limit_drops(bool just_one) {
  if (!shed_known_) refresh_shed();
  int marked = 0;
  for (; over_limit_ > 0 && scan_from_ < jobs_.size(); ++scan_from_) {
    PendingJob& p = jobs_[scan_from_];
    if (p.in_flight || !p.drop) continue;
    p.leaving = true;
    --over_limit_;
    --shed_;
    if (++marked == 1 && just_one) {
      ++scan_from_;
      return marked;
    }
  }
  over_limit_ = 0;
  return marked;
}

int PolicyBase::mark_due_drops(Time now, Duration next_dispatch, Time& wake, bool just_one) {
  if (!shed_known_) refresh_shed();
  if (now < next_due_) {
    wake = next_due_;
    return 0;
  }
  // Some may be due: mark them (rare, so a scan), and find the next due time among the others.
  wake = kNever;
  Time earliest = kNever;
  int marked = 0;
  for (PendingJob& p : jobs_) {
    if (p.in_flight || !p.drop || p.in_batch) continue;
    const Time start_by = latest_start(p);
    if (now >= start_by - next_dispatch && (marked == 0 || !just_one)) {
      p.leaving = true;
      ++marked;
      continue;
    }
    wake = std::min(wake, start_by - next_dispatch);
    earliest = std::min(earliest, start_by - longest_dispatch_);
  }
  next_due_ = earliest;
  shed_ -= marked;
  return marked;
}

Time PolicyBase::latest_start(const PendingJob& job) const {
  return job.job.deadline - alone_cost(job, std::max(job.job.mandatory_depth, job.done));
}

double PolicyBase::predicted_reward(const PendingJob& job, int depth) const {
  return job.job.weight * model_of(job).utility.expected(depth, job.done, job.confidence);
}

void PolicyBase::predicted_rewards(const PendingJob& job, int from, int to, double* reward) const {
  // predicted_reward() for each depth in [from, to], with one confidence-bin lookup.
  const std::span<const double> row = model_of(job).utility.row(job.done, job.confidence);
  for (int l = from; l <= to; ++l) reward[l] = job.job.weight * UtilityModel::at(row, l, job.done);
}

int PolicyBase::pick_head(Time) {
  for (std::size_t i = 0; i < jobs_.size(); ++i)
    if (needs_stage(jobs_[i])) return static_cast<int>(i);
  return -1;
}

Decision PolicyBase::next(Time now) {
  if (dirty_) {
    replan(now);
    dirty_ = false;
  }
  // Jobs found leaving together (settled, or shed for good) are answered one per call, in order; nothing
  // they leave behind changes in between, so these are the decisions taking them one at a time gives.
  if (owed_next_ < owed_.size()) return owed_decision();
  owed_.clear();
  owed_next_ = 0;
  // Settle what the plan decided before dispatching anything. A job the plan sheds stays pending
  // (and is re-planned at every event) until its deadline proves the Drop. Only a plan sets targets,
  // so jobs_ is scanned for settled jobs once per plan.
  if (settle_due_) {
    settle_due_ = false;
    bool any = false;
    for (PendingJob& p : jobs_) {
      p.leaving = settled(p);
      any = any || p.leaving;
    }
    if (any) return take_out_leaving(/*as_drop=*/false);
  }
  const int head = first_dispatchable(now);
  if (head < 0 && replan_on_leave_ && !plan_current_) {
    // Jobs left the window since it was planned and nothing planned is left to run: plan the
    // deferred jobs that moved up (re-planning at every Finish instead would cost a DP per answer).
    replan(now);
    return next(now);
  }
  // With nothing to dispatch and a window to refill, the next call re-plans after a Drop: Drops then go
  // one per call, as that re-plan must see them.
  const bool one_drop = head < 0 && replan_on_leave_;
  // Beyond the pending limit, jobs the plan sheds go at once (no batch is formed only to be undone).
  if (mark_over_limit_drops(one_drop) > 0) return take_out_leaving(/*as_drop=*/true);
  batch_.clear();
  if (head >= 0) {
    PendingJob& h = jobs_[head];
    batch_.push_back(h.job.id);
    h.in_batch = true;
    if (max_batch_of(h.job.model) > 1) form_batch(head, now);
  }
  // Due drops go first (the lane is then busy until the batch ends), except those the batch carries.
  Time drop_wake = kNever;
  const Duration dispatch =
      head < 0 ? 0 : planned_time(jobs_[head].job.model, jobs_[head].done, static_cast<int>(batch_.size()));
  if (mark_due_drops(now, dispatch, drop_wake, one_drop) > 0) {
    for (PendingJob& p : jobs_) p.in_batch = false;
    // Not a re-plan per Drop (under overload many fall due together); the next event re-plans.
    return take_out_leaving(/*as_drop=*/true);
  }
  if (head < 0) return Idle{drop_wake};
  if (const Time hold = hold_until(head, now); hold > now) {  // a batching wait: let the batch fill
    for (PendingJob& p : jobs_) p.in_batch = false;
    return Idle{std::min(hold, drop_wake)};
  }
  const int model = jobs_[head].job.model, stage = jobs_[head].done;
  for (PendingJob& p : jobs_) {
    if (p.in_batch) p.in_flight = true;
    p.in_batch = false;
  }
  const int lane = free_lane();
  take_lane(lane, model, stage, now);
  return Dispatch{model, stage, std::span<const JobId>(batch_), lane};
}

int PolicyBase::first_dispatchable(Time now) {
  const int head = pick_head(now);
  if (head < 0 || under_lane_limit(jobs_[static_cast<std::size_t>(head)].job.model)) return head;
  // The head's model holds every lane it may: the first job (in order) of a model that may take one.
  for (std::size_t i = 0; i < jobs_.size(); ++i)
    if (needs_stage(jobs_[i]) && under_lane_limit(jobs_[i].job.model)) return static_cast<int>(i);
  return -1;
}

Time PolicyBase::hold_until(int head, Time now) const {
  const PendingJob& lead = jobs_[static_cast<std::size_t>(head)];
  const Duration wait = controls_[static_cast<std::size_t>(lead.job.model)].batch_wait;
  if (wait <= 0 || static_cast<int>(batch_.size()) >= max_batch_of(lead.job.model)) return now;
  Time oldest = kNever;
  for (const PendingJob& p : jobs_)
    if (p.in_batch) oldest = std::min(oldest, p.job.release);
  if (oldest == kNever || oldest + wait <= now) return now;
  // Never past what keeps the plan on time: the batch runs first, then every job's remaining planned
  // work back to back in order (as batch forming checks it); the wait may use the least slack left.
  Duration room = oldest + wait - now;
  Time t = now + planned_time(lead.job.model, lead.done, static_cast<int>(batch_.size()));
  for (const PendingJob& p : jobs_) {
    if (p.in_flight || p.drop) continue;
    const Duration rest = alone_cost(p, p.done + (p.in_batch ? 1 : 0), guarded_depth(p));
    if (rest == 0 && !p.in_batch) continue;
    t += rest;
    if (t <= p.job.deadline) room = std::min(room, p.job.deadline - t);  // one already late stays late
  }
  return now + room;
}

}  // namespace imprecise::detail
