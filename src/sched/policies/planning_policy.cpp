// PlanningPolicy: turns the pending jobs into a PlanProblem (EDF order) and applies the chosen plan.
#include "planning_policy.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

#include "../plan_support.hpp"

namespace imprecise::detail {

PlanningPolicy::PlanningPolicy(std::span<const Model> models, PolicyConfig config, RewardSource rewards)
    : PolicyBase(models, config, JobOrder::earliest_deadline),
      rewards_(rewards),
      lanes_shift_(std::has_single_bit(static_cast<unsigned>(std::max(1, config.lanes)))
                       ? std::countr_zero(static_cast<unsigned>(std::max(1, config.lanes)))
                       : -1) {
  rows_.reserve(256);
  window_.reserve(256);
  idle_.reserve(256);
  drop_heap_.reserve(256);
  keep_reward_rows();
}

void PlanningPolicy::plan(Time now) {
  reset_for_lanes(problem_, now);
  window_.clear();
  // The first `planning_window` idle jobs (EDF order) are planned; the ones after are deferred: their
  // mandatory part stays reserved, run back to back after the window. The window must then finish by
  // `reserve_from`, the latest start that still lets every deferred mandatory part meet its deadline.
  const std::size_t limit = window() > 0 ? static_cast<std::size_t>(window()) : jobs_.size();
  std::size_t idle = 0;
  idle_.clear();
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    PendingJob& p = jobs_[i];
    p.deferred = false;
    if (p.in_flight) continue;
    p.drop = false;
    idle_.push_back(static_cast<int>(i));
    if (idle++ < limit) {
      window_.push_back(static_cast<int>(i));
    } else {  // deferred: only its mandatory part is decided (reserve_after keeps its time)
      p.deferred = true;
      p.target = std::max(p.job.mandatory_depth, p.done);
    }
  }
  // Fewest drops over every idle job, window and deferred alike: Moore-Hodgson on the mandatory
  // parts in EDF order (O(n log n)), which sheds the largest mandatory part first. Its choice is
  // final: a shed job is not planned. Letting the planner choose which window jobs go (the most
  // reward kept at this decision) freed less time for the jobs still to come: in the real
  // edge-server run at load 2, yao-dp then shed 9.7 % of the jobs where density, whose planner sheds
  // by Moore-Hodgson too, shed 6.5 %.
  const bool defers = idle > limit;
  set_replan_on_leave(defers);
  if (!defers && config_.lanes <= 1 && plan_best_depths_if_all_fit(now)) {
    ++stats_.plans;
    return;
  }
  bool sheds = false;
  auto job = [&](int k) -> PendingJob& { return jobs_[static_cast<std::size_t>(idle_[static_cast<std::size_t>(k)])]; };
  detail::moore_hodgson(
      static_cast<int>(idle_.size()), now,
      [&](int k) { return shared(remaining_cost(job(k), std::max(job(k).job.mandatory_depth, job(k).done))); },
      [&](int k) { return job(k).job.deadline; }, [&](int k) { return job(k).done < job(k).job.mandatory_depth; },
      [&](int k) { return predicted_reward(job(k), std::max(job(k).job.mandatory_depth, job(k).done)); },
      [&](int k) {
        job(k).drop = true;
        sheds = true;
      },
      drop_heap_);
  const Time reserve_from = reserve_after(limit);
  // While Moore-Hodgson sheds a job, no job gets optional work at this decision: a shed job loses its
  // whole answer, an optional stage adds a few points, and the time it would take is what batching
  // may still need to serve the shed ones (simulated edge sweep, load 5: 18 jobs shed per run, 32 with
  // optional work planned around them).
  // Moore-Hodgson counts every stage at batch 1 and at its p99. When the mandatory parts all fit as
  // the batches the waiting jobs form (simulated edge sweep, loads 3-5: 0 / 0.2 / 0 jobs shed per run
  // instead of 0.4 / 0.8 / 6.4), or with the queue budgeted at the p99 of its sum rather than the sum of
  // its p99s (trained models at load 2: 4 jobs shed in 3 runs instead of 65-151 per run), nobody is
  // shed, every job is planned at its mandatory depth, and batch forming serves them; no miss either way.
  // Moore-Hodgson sheds only after the batch-1 queue overflowed, which is the `alone` costing's very
  // check (same costs, same order, same start) unless batch-aware costs stood in for batch 1: then
  // only the other two can still fit, and the third O(N) pass is skipped.
  const bool alone_overflowed = !config_.batch_aware;
  assert(!sheds || !alone_overflowed || !mandatory_parts_fit<QueueCosting::alone>(now, true));
  if (sheds && (alone_overflowed ? mandatory_parts_fit<QueueCosting::batched>(now, true) ||
                                       mandatory_parts_fit<QueueCosting::pooled>(now, true)
                                 : mandatory_parts_fit_somehow(now, /*with_shed=*/true))) {
    for (const int k : idle_) {
      PendingJob& p = jobs_[static_cast<std::size_t>(k)];
      p.drop = false;
      p.target = std::max(p.job.mandatory_depth, p.done);
    }
    ++stats_.plans;
    return;
  }

  add_rows(problem_, window_, reserve_from, sheds, rows_);
  const Plan& plan = solve(problem_);
  ++stats_.plans;
  if (plan.coarsened) ++stats_.coarsened_decisions;
  stats_.delta_used_max = std::max(stats_.delta_used_max, plan.delta_used);
  // A planner whose window is narrower than the policy's may have a companion plan the whole window
  // wide (yao-dp over several lanes: its DP plans 12 jobs, density all 32). Both are feasible; the one
  // with fewer drops, then more reward over the wide window's jobs, is kept.
  const std::size_t wide = wide_window() > 0 ? std::min(static_cast<std::size_t>(wide_window()), idle_.size()) : 0;
  if (!sheds && wide > limit) {
    const std::span<const int> wide_jobs = std::span<const int>(idle_).first(wide);
    reset_for_lanes(wide_problem_, now);
    add_rows(wide_problem_, wide_jobs, reserve_after(wide_jobs.size()), sheds, wide_rows_);
    const Plan& companion = solve_wide(wide_problem_);
    if (beats(companion, plan)) {
      for (const int i : wide_jobs) jobs_[static_cast<std::size_t>(i)].deferred = false;
      apply(companion, wide_rows_);
      return;
    }
  }
  apply(plan, rows_);
}

void PlanningPolicy::reset_for_lanes(PlanProblem& problem, Time now) {
  if (config_.lanes > 1) problem.reset(now, lane_free_times(now));
  else problem.reset(now);
}

Time PlanningPolicy::reserve_after(std::size_t planned) const {
  // Jobs after the first `planned` idle ones run their mandatory parts back to back after the planned
  // ones, in EDF order; the result is the latest the planned ones may end for all of them to meet
  // their deadlines.
  Time reserve_from = kNever;
  Duration tail = 0;
  for (std::size_t k = planned; k < idle_.size(); ++k) {
    const PendingJob& p = jobs_[static_cast<std::size_t>(idle_[k])];
    const Duration cost = remaining_cost(p, std::max(p.job.mandatory_depth, p.done));
    // A job with nothing left to do cannot be late (it is answered from what it has): no reserve.
    if (p.drop || cost == 0) continue;
    tail += shared(cost);
    reserve_from = std::min(reserve_from, p.job.deadline - tail);
  }
  return reserve_from;
}

void PlanningPolicy::add_rows(PlanProblem& problem, std::span<const int> planned, Time reserve_from, bool sheds,
                              std::vector<int>& rows) {
  rows.clear();
  for (const int i : planned) {
    PendingJob& p = jobs_[static_cast<std::size_t>(i)];
    if (p.drop) continue;
    const int stages = stages_of(p);
    const int lo = std::max(p.job.mandatory_depth, p.done);
    const int hi = sheds ? std::min(lo, stages) : stages;
    const PlanProblem::RowValues row = problem.add_row(std::min(p.job.deadline, reserve_from), p.done,
                                                       std::min(lo, stages), hi,
                                                       /*droppable=*/p.done < p.job.mandatory_depth);
    const double* reward = planned_rewards(p);
    Duration running = 0;  // 0 up to its current depth
    for (int l = 0; l <= hi; ++l) {
      if (l > p.done) running += job_cost(p, l - 1);
      row.cost[static_cast<std::size_t>(l)] = running;
      row.reward[static_cast<std::size_t>(l)] = reward[l];
    }
    rows.push_back(i);
  }
}

bool PlanningPolicy::beats(const Plan& companion, const Plan& narrow) const {
  // The narrow plan's rows are the first of the wide problem's (the same jobs in the same order); the
  // wide window's other jobs stay at their lowest depth under it.
  int narrow_drops = 0, wide_drops = 0;
  double narrow_reward = 0.0, wide_reward = 0.0;
  for (int row = 0; row < wide_problem_.size(); ++row) {
    const int narrow_depth = static_cast<std::size_t>(row) < rows_.size() ? narrow.depths[static_cast<std::size_t>(row)]
                                                                           : wide_problem_.lo(row);
    const int wide_depth = companion.depths[static_cast<std::size_t>(row)];
    narrow_drops += narrow_depth == 0 && wide_problem_.droppable(row) ? 1 : 0;
    wide_drops += wide_depth == 0 && wide_problem_.droppable(row) ? 1 : 0;
    narrow_reward += wide_problem_.reward(row, narrow_depth);
    wide_reward += wide_problem_.reward(row, wide_depth);
  }
  return wide_drops < narrow_drops || (wide_drops == narrow_drops && wide_reward > narrow_reward + 1e-12);
}

void PlanningPolicy::apply(const Plan& plan, const std::vector<int>& rows) {
  for (std::size_t row = 0; row < rows.size(); ++row) {
    PendingJob& p = jobs_[static_cast<std::size_t>(rows[row])];
    const int depth = plan.depths[row];
    p.drop = depth == 0 && p.done < p.job.mandatory_depth;
    p.target = std::max(depth, p.done);
  }
}

const double* PlanningPolicy::planned_rewards(PendingJob& p) {
  bool current = false;
  double* reward = reward_row(p, current);
  if (current) return reward;
  const int stages = stages_of(p);
  std::fill(reward, reward + stages + 1, 0.0);
  const int from = std::max(1, p.done);
  if (rewards_ == RewardSource::oracle) {
    for (int l = from; l <= stages; ++l)
      reward[l] = p.job.oracle.size() >= static_cast<std::size_t>(l) ? (p.job.oracle[l - 1].correct ? p.job.weight : 0.0)
                                                                     : predicted_reward(p, l);
  } else {
    predicted_rewards(p, from, stages, reward);
  }
  return reward;
}

bool PlanningPolicy::plan_best_depths_if_all_fit(Time now) {
  // Every planned job, run back to back in order at its deepest exit, meets its deadline: then no
  // choice of depths can miss, Moore-Hodgson sheds nobody (the mandatory parts are shorter), and
  // every planner answers each job's best depth alone, ties deeper (best_depths_plan_if_all_fit).
  // Decided here without building the problem: at light load that is nearly every decision
  // (simulated edge sweep at load 1: 98 % of the plans).
  Time t = now;
  for (const int i : window_) {
    const PendingJob& p = jobs_[static_cast<std::size_t>(i)];
    const Duration cost = remaining_cost(p, stages_of(p));
    if (cost > 0 && (t += cost) > p.job.deadline) return false;
  }
  for (const int i : window_) {
    PendingJob& p = jobs_[static_cast<std::size_t>(i)];
    const double* reward = planned_rewards(p);
    const int stages = stages_of(p);
    const int lo = std::min(std::max(p.job.mandatory_depth, p.done), stages);
    p.target = std::max(detail::best_depth_alone(lo, stages, [&](int l) { return reward[l]; }), p.done);
  }
  return true;
}

template <PlanningPolicy::QueueCosting costing>
bool PlanningPolicy::mandatory_parts_fit(Time from, bool with_shed) {
  if constexpr (costing == QueueCosting::batched) rank_batch_groups(with_shed);
  Time t = from;
  double margins_squared = 0.0;  // pooled: sum of the squared margins so far (ns^2)
  for (const PendingJob& p : jobs_) {
    if (!in_batch_group(p, with_shed)) continue;
    Duration cost = 0;
    if constexpr (costing == QueueCosting::pooled) {
      for (int s = p.done; s < p.job.mandatory_depth; ++s) {
        const PooledStage& stage = pooled_stage(p.job.model, s);
        cost += stage.median;
        margins_squared += stage.margin_squared;
      }
    } else if constexpr (costing == QueueCosting::batched) {
      cost = batched_stage_cost(p) + alone_cost(p, p.done + 1, p.job.mandatory_depth);
    } else {
      cost = alone_cost(p, p.done, p.job.mandatory_depth);
    }
    cost = shared(cost);
    t += cost;
    const Time finish = costing == QueueCosting::pooled ? t + shared(static_cast<Duration>(std::sqrt(margins_squared))) : t;
    // A later member of a batch (cost 0) ends with its batch, at or before its own deadline.
    if (cost > 0 && finish > p.job.deadline) return false;
  }
  return true;
}

bool PlanningPolicy::mandatory_parts_fit_somehow(Time from, bool with_shed) {
  return mandatory_parts_fit<QueueCosting::alone>(from, with_shed) ||
         mandatory_parts_fit<QueueCosting::batched>(from, with_shed) ||
         mandatory_parts_fit<QueueCosting::pooled>(from, with_shed);
}

int PlanningPolicy::first_at_mandatory_stage() const {
  for (std::size_t i = 0; i < jobs_.size(); ++i)
    if (waits_at_mandatory_stage(jobs_[i])) return static_cast<int>(i);
  return -1;
}

int PlanningPolicy::pick_head(Time now) {
  int head = PolicyBase::pick_head(now);
  if (head < 0 || config_.lanes > 1 || waits_at_mandatory_stage(jobs_[static_cast<std::size_t>(head)])) return head;
  if (config_.mandatory_first) head = mandatory_first_head(head, now);
  if (waits_at_mandatory_stage(jobs_[static_cast<std::size_t>(head)]) || optional_overrun_is_safe(head, now)) return head;
  const int mandatory = first_at_mandatory_stage();
  return mandatory >= 0 ? mandatory : head;
}

bool PlanningPolicy::optional_overrun_is_safe(int head, Time now) {
  // The plan budgets optional stages at their median, so an optional stage overruns its plan half
  // the time, and the plan is redone only when it ends: one that ran long left a mandatory part
  // ahead of it no time (simulated edge sweep, loads 3-5, 5 seeds: yao-dp's one shed job and two
  // of density's three, each behind an optional stage that overran its median; none with this check).
  // So it starts only when, at the mandatory figure, it still leaves every mandatory part its time;
  // else that work goes first.
  const PendingJob& h = jobs_[static_cast<std::size_t>(head)];
  const int batch = std::max(1, std::min(waiting_at(h.job.model, h.done), max_batch_of(h.job.model)));
  const Time from = now + planning_profile(h.job.model).planned(h.done, batch, config_.mandatory_figure);
  return mandatory_parts_fit_somehow(from, /*with_shed=*/false);
}

int PlanningPolicy::mandatory_first_head(int head, Time now) const {
  // The plan runs its jobs back to back in EDF order. Running the next stage (cost c) of a later job M
  // first delays every job before M by c and none after it: allowed while every planned finish before
  // M keeps c of slack. One lane only: over several, the list schedule's finishes do not shift by c.
  Time t = now;
  Duration least_slack = kNever;
  for (std::size_t i = static_cast<std::size_t>(head); i < jobs_.size(); ++i) {
    const PendingJob& p = jobs_[i];
    if (p.in_flight || p.drop) continue;
    if (waits_at_mandatory_stage(p)) {
      // Only a full batch goes early: one pulled ahead at a smaller batch than it would have formed
      // in its turn spends the device's batching (simulated edge sweep, load 5: -1.4 points).
      if (least_slack < job_cost(p, p.done) || waiting_at(p.job.model, p.done) < max_batch_of(p.job.model)) return head;
      return static_cast<int>(i);
    }
    const Duration rest = remaining_cost(p, p.target);
    if (rest == 0) continue;
    t += rest;
    least_slack = std::min(least_slack, p.job.deadline - t);
    if (least_slack <= 0) return head;
  }
  return head;
}

}  // namespace imprecise::detail
