// PlanProblem (one decision point) and the leftover-slack pass every planner ends with.
#include "imprecise/sched/plan_problem.hpp"

#include <algorithm>
#include <cassert>

#include "imprecise/error.hpp"
#include "plan_support.hpp"

namespace imprecise {

namespace {

using detail::kInfinity;

}  // namespace

void PlanProblem::reset(Time now) {
  // The common case (one lane, every decision): no sort, no reallocation.
  now_ = now;
  lane_free_.assign(1, now);
  sorted_lane_free_.assign(1, now);
  rows_.clear();
  values_used_ = 0;
}

void PlanProblem::reset(Time now, std::span<const Time> lane_free) {
  assert(!lane_free.empty());
  now_ = now;
  lane_free_.resize(lane_free.size());
  for (std::size_t k = 0; k < lane_free.size(); ++k) lane_free_[k] = std::max(now, lane_free[k]);
  sorted_lane_free_.assign(lane_free_.begin(), lane_free_.end());
  std::sort(sorted_lane_free_.begin(), sorted_lane_free_.end());
  rows_.clear();
  values_used_ = 0;
}

void PlanProblem::add(Time deadline, int done, int lo, int hi, std::span<const Duration> cost,
                      std::span<const double> reward, bool droppable) {
  assert(cost.size() > static_cast<std::size_t>(hi) && reward.size() > static_cast<std::size_t>(hi));
  const RowValues row = add_row(deadline, done, lo, hi, droppable);
  // Depths below `done` are already paid for.
  for (int l = 0; l <= hi; ++l) row.cost[static_cast<std::size_t>(l)] = l < done ? 0 : cost[static_cast<std::size_t>(l)];
  std::copy(reward.begin(), reward.begin() + hi + 1, row.reward.begin());
}

void PlanProblem::grow_values() {
  values_cost_.resize(std::max(values_used_, 2 * values_cost_.size()));
  values_reward_.resize(values_cost_.size());
}

template <class DepthOf>
int PlanProblem::first_miss_at(DepthOf depth_of) const {
  schedule_.reset(lane_free_);
  for (int i = 0; i < size(); ++i) {
    const int l = depth_of(i);
    if (l == 0 && droppable(i)) continue;
    if (l < lo(i) || l > hi(i)) return i;
    const Duration c = cost(i, l);
    if (c > 0 && schedule_.run(c) > deadline(i)) return i;
  }
  return -1;
}

int PlanProblem::first_miss(std::span<const int> depths) const {
  return first_miss_at([&](int i) { return depths[i]; });
}

bool PlanProblem::feasible(std::span<const int> depths) const { return first_miss(depths) < 0; }

bool PlanProblem::mandatory_fits() const {
  return first_miss_at([&](int i) { return lo(i); }) < 0;
}

bool PlanProblem::deepest_fits() const {
  return first_miss_at([&](int i) { return hi(i); }) < 0;
}

namespace detail {

namespace {

/// Several lanes: a deeper depth is kept only when the whole list schedule stays feasible. A longer job
/// never makes a later finish earlier (each placement is componentwise monotone), so the first depth
/// that does not fit ends the search, as with one lane. Trials read ListScheduleSlack: O(1) where the
/// later slack proves them, else a re-run from the job on.
void spend_leftover_slack_lanes(const PlanProblem& problem, std::vector<int>& depth, ListScheduleSlack& schedule) {
  schedule.build(problem, depth);
  for (int i = 0; i < problem.size(); ++i) {
    if (depth[i] == 0) continue;
    const int chosen = depth[i];
    int best = chosen;
    for (int l = chosen + 1; l <= problem.hi(i); ++l) {
      if (!schedule.fits(problem, depth, i, l)) break;
      // Ties go deeper, as with one lane.
      if (problem.reward(i, l) >= problem.reward(i, best)) best = l;
    }
    if (best == chosen) continue;
    depth[i] = best;
    schedule.update(problem, depth, i);
  }
}

}  // namespace

void spend_leftover_slack(const PlanProblem& problem, std::vector<int>& depth, SlackScratch& scratch) {
  if (problem.lanes() > 1) {
    spend_leftover_slack_lanes(problem, depth, scratch.schedule);
    return;
  }
  // Gains smaller than delta quantize to nothing, and the DP then prefers the shallower (earlier
  // finishing) depth. Hand the slack the plan leaves unused to such gains (and to flat ones), in
  // EDF order. Every
  // extension is checked against the slack of its own and all later jobs, so the plan stays
  // feasible, and real reward only grows, so the (1 - eps) bound still holds.
  const int n = problem.size();
  scratch.slack_suffix.resize(n + 1);
  scratch.prefix_finish.resize(n);
  Time t = problem.lane_free(0);
  for (int i = 0; i < n; ++i) {
    const Duration c = depth[i] == 0 ? 0 : problem.cost(i, depth[i]);
    t += c;
    scratch.prefix_finish[i] = t;
  }
  scratch.slack_suffix[n] = kInfinity;
  for (int i = n - 1; i >= 0; --i) {
    const bool works = depth[i] > 0 && problem.cost(i, depth[i]) > 0;
    scratch.slack_suffix[i] = std::min(scratch.slack_suffix[i + 1], works ? problem.deadline(i) - scratch.prefix_finish[i] : kInfinity);
  }
  Duration consumed = 0;  // extra time given to earlier jobs: shifts every later finish alike
  for (int i = 0; i < n; ++i) {
    if (depth[i] == 0) continue;
    const Duration later_room = scratch.slack_suffix[i + 1] == kInfinity ? kInfinity : scratch.slack_suffix[i + 1] - consumed;
    const Duration own_room = problem.deadline(i) - (scratch.prefix_finish[i] + consumed);
    const Duration room = std::min(later_room, own_room);
    const Duration c0 = problem.cost(i, depth[i]);
    int best = depth[i];
    for (int l = depth[i] + 1; l <= problem.hi(i); ++l) {
      if (problem.cost(i, l) - c0 > room) break;
      // Ties go deeper: the time is free, and a flat estimate is no reason to answer early.
      if (problem.reward(i, l) >= problem.reward(i, best)) best = l;
    }
    consumed += problem.cost(i, best) - c0;
    depth[i] = best;
  }
}

}  // namespace detail

}  // namespace imprecise
