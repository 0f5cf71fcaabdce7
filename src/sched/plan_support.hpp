// Internal to the planners: the helpers every planner's solve() shares (plan totals, fallbacks, leftover slack).
#pragma once

#include <algorithm>
#include <vector>

#include "imprecise/sched/plan_problem.hpp"

namespace imprecise::detail {

inline constexpr Time kInfinity = kNever;

/// Fills plan totals from its depths.
inline void finish_plan(const PlanProblem& problem, Plan& plan) {
  plan.total_reward = 0.0;
  plan.dropped = 0;
  for (int i = 0; i < problem.size(); ++i) {
    if (plan.depths[i] == 0 && problem.lo(i) > 0) ++plan.dropped;
    plan.total_reward += problem.reward(i, plan.depths[i]);
  }
}

/// Resets `plan` for `problem` (every depth 0, feasible); true when there is nothing to plan.
inline bool begin_plan(const PlanProblem& problem, Plan& plan) {
  plan.depths.assign(problem.size(), 0);
  plan.feasible = true;
  plan.delta_used = 0.0;
  plan.coarsened = false;
  if (problem.size() > 0) return false;
  finish_plan(problem, plan);
  return true;
}

/// A job's depth in [lo, hi] with the most reward, ties deeper: its plan when nothing binds.
template <class Reward>
int best_depth_alone(int lo, int hi, Reward reward) {
  int best = lo;
  for (int l = lo + 1; l <= hi; ++l)
    if (reward(l) >= reward(best)) best = l;
  return best;
}

/// When every job fits at its highest depth, the exact optimum needs no search: each job at its best
/// reward in [lo, hi], ties deeper (what any planner's leftover-slack pass would end with). Returns
/// false, leaving `plan` as it was, when some job does not fit at its highest depth.
inline bool best_depths_plan_if_all_fit(const PlanProblem& problem, Plan& plan) {
  if (!problem.deepest_fits()) return false;
  plan.depths.resize(problem.size());
  for (int i = 0; i < problem.size(); ++i)
    plan.depths[i] = best_depth_alone(problem.lo(i), problem.hi(i), [&](int l) { return problem.reward(i, l); });
  finish_plan(problem, plan);
  return true;
}

/// Fallback when nothing can make the problem feasible: everyone at the lowest depth.
inline void lowest_depth_plan(const PlanProblem& problem, Plan& plan) {
  plan.depths.resize(problem.size());
  for (int i = 0; i < problem.size(); ++i) plan.depths[i] = problem.lo(i);
  plan.feasible = false;
  finish_plan(problem, plan);
}

/// Moore-Hodgson over mandatory parts, jobs given in run (EDF) order: job i needs `cost(i)` by
/// `deadline(i)`; whenever the running total passes a deadline, the kept droppable job with the
/// largest cost (ties: least reward, then earliest) is shed. O(n log n). Gives the fewest drops
/// whenever every job with work is droppable (true of the planning policies; a PlanProblem with
/// undroppable work uses the DP's exact count instead). Calls `drop(i)` for each job shed; returns
/// false when an overflow finds nothing left to shed. `heap` is scratch, so nothing is allocated
/// after warm-up.
template <class Cost, class Deadline, class Droppable, class Reward, class Drop>
bool moore_hodgson(int n, Time now, Cost cost, Deadline deadline, Droppable droppable, Reward reward, Drop drop,
                   std::vector<DropCandidate>& heap) {
  // Max-heap on "worst to keep": larger cost, then smaller reward, then earlier.
  auto keep_before = [](const DropCandidate& a, const DropCandidate& b) {
    if (a.cost != b.cost) return a.cost < b.cost;
    if (a.reward != b.reward) return a.reward > b.reward;
    return a.index > b.index;
  };
  heap.clear();
  // Most decisions need no drop: one pass without the heap says so.
  Time t = now;
  bool overflows = false;
  for (int i = 0; i < n && !overflows; ++i) {
    const Duration c = cost(i);
    t += c;
    overflows = c > 0 && t > deadline(i);
  }
  if (!overflows) return true;
  bool ok = true;
  t = now;
  for (int i = 0; i < n; ++i) {
    const Duration c = cost(i);
    if (c == 0) continue;
    t += c;
    if (droppable(i)) {
      heap.push_back(DropCandidate{c, reward(i), i});
      std::push_heap(heap.begin(), heap.end(), keep_before);
    }
    while (t > deadline(i)) {
      if (heap.empty()) {
        ok = false;
        break;
      }
      std::pop_heap(heap.begin(), heap.end(), keep_before);
      const DropCandidate victim = heap.back();
      heap.pop_back();
      t -= victim.cost;
      drop(victim.index);
    }
  }
  return ok;
}

/// Deepens jobs, in order, into the slack a feasible plan leaves, wherever the reward does not fall.
void spend_leftover_slack(const PlanProblem& problem, std::vector<int>& depths, SlackScratch& scratch);

}  // namespace imprecise::detail
