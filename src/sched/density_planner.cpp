// DensityPlanner: greedy by marginal reward per unit of planned time over the prefix slack (SuffixSlack).
#include "imprecise/sched/density_planner.hpp"

#include <algorithm>
#include <cassert>

#include "imprecise/error.hpp"
#include "plan_support.hpp"

namespace imprecise {

namespace {

using detail::begin_plan;
using detail::finish_plan;
using detail::lowest_depth_plan;

}  // namespace

const Plan& DensityPlanner::solve(const PlanProblem& problem) {
  const int n = problem.size();
  if (begin_plan(problem, plan_)) return plan_;
  if (detail::best_depths_plan_if_all_fit(problem, plan_)) return plan_;  // where the greedy would end
  if (problem.lanes() > 1) return solve_lanes(problem);
  std::vector<int>& depth = plan_.depths;
  for (int i = 0; i < n; ++i) depth[i] = problem.lo(i);

  // Slack of every prefix at the current depths. Jobs with no work yet carry a large offset so they
  // never bind until they get work (then the offset is removed from their own leaf). Negative where a
  // job with work misses at its lowest depth: the mandatory parts do not all fit.
  constexpr Duration kIdleOffset = Duration{1} << 61;
  base_slack_.resize(n);
  auto take_base_slack = [&] {
    Time t = problem.lane_free(0);
    Duration least = kIdleOffset;
    for (int i = 0; i < n; ++i) {
      const Duration c = depth[i] == 0 ? 0 : problem.cost(i, depth[i]);
      t += c;
      base_slack_[i] = problem.deadline(i) - t + (c > 0 ? 0 : kIdleOffset);
      least = std::min(least, base_slack_[i]);
    }
    return least;
  };

  // Overload: Moore-Hodgson gives the fewest drops; among equal-cost victims shed the least reward.
  if (take_base_slack() < 0) {
    const bool ok = detail::moore_hodgson(
        n, problem.lane_free(0), [&](int i) { return problem.cost(i, problem.lo(i)); },
        [&](int i) { return problem.deadline(i); }, [&](int i) { return problem.droppable(i); },
        [&](int i) { return problem.reward(i, problem.lo(i)); }, [&](int i) { depth[i] = 0; }, drop_heap_);
    if (!ok) {
      lowest_depth_plan(problem, plan_);
      return plan_;
    }
    take_base_slack();
  }
  prefix_slack_.reset(base_slack_);

  auto has_work = [&](int i) { return depth[i] > 0 && problem.cost(i, depth[i]) > 0; };
  // Whether some job could deepen at no gain. Only such a job can take leftover slack at the end:
  // every gaining extension that fits is offered here, and room only shrinks.
  bool flat_fit_seen = false;
  // Best extension of job i that fits in `room`, by marginal reward per unit of planned time.
  auto best_extension = [&](int i, Duration room, Candidate& out) {
    const int cur = depth[i];
    const Duration c0 = problem.cost(i, cur);
    const double r0 = problem.reward(i, cur);
    bool found = false;
    for (int l = cur + 1; l <= problem.hi(i); ++l) {
      const Duration dc = problem.cost(i, l) - c0;
      if (dc > room) break;
      const double dr = problem.reward(i, l) - r0;
      if (dr <= 0.0) {
        flat_fit_seen = true;
        continue;
      }
      const double density = dc <= 0 ? 1e300 : dr / static_cast<double>(dc);
      if (!found || density > out.density) {
        out = Candidate{density, i, l};
        found = true;
      }
    }
    return found;
  };
  auto room_of = [&](int i) {
    Duration room = prefix_slack_.min_from(i);
    if (!has_work(i)) room = std::min(room, prefix_slack_.at(i) - kIdleOffset);
    return room;
  };
  auto by_density = [](const Candidate& a, const Candidate& b) { return a.density < b.density; };

  heap_.clear();
  for (int i = 0; i < n; ++i) {
    if (depth[i] == 0) continue;
    Candidate c{};
    if (best_extension(i, room_of(i), c)) heap_.push_back(c);
  }
  std::make_heap(heap_.begin(), heap_.end(), by_density);
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), by_density);
    const Candidate c = heap_.back();
    heap_.pop_back();
    const int i = c.job;
    Duration room = room_of(i);
    const Duration dc = problem.cost(i, c.depth) - problem.cost(i, depth[i]);
    if (dc <= room) {
      if (!has_work(i) && dc > 0) prefix_slack_.add_at(i, -kIdleOffset);
      if (dc > 0) prefix_slack_.add_from(i, -dc);
      depth[i] = c.depth;
      room -= dc;  // its own slack and every later job's shrink by exactly dc
    }
    // Either way, offer the job's next best extension that still fits.
    Candidate next{};
    if (best_extension(i, room, next)) {
      heap_.push_back(next);
      std::push_heap(heap_.begin(), heap_.end(), by_density);
    }
  }
  if (flat_fit_seen) detail::spend_leftover_slack(problem, plan_.depths, slack_);
  finish_plan(problem, plan_);
  return plan_;
}

}  // namespace imprecise
