// DensityPlanner over several lanes: the same greedy, every trial checked by re-running the list schedule.
#include <algorithm>

#include "imprecise/sched/density_planner.hpp"
#include "plan_support.hpp"

namespace imprecise {

namespace {

/// Sheds jobs until the mandatory parts fit the list schedule; false when nothing is left to shed.
/// Heuristic (exact fewest drops would need the DP's search): at the first job that misses, shed the
/// kept droppable job at or before it with the largest mandatory part (ties: least reward, then
/// earliest) — Moore-Hodgson's rule, which is exact with one lane; later jobs cannot change an earlier
/// finish, so only those can help. Then re-admit, in order, every shed job that fits again.
bool shed_until_mandatory_fits(const PlanProblem& problem, std::vector<int>& depth, detail::ListScheduleSlack& schedule) {
  for (int miss = problem.first_miss(depth); miss >= 0; miss = problem.first_miss(depth)) {
    int victim = -1;
    for (int j = 0; j <= miss; ++j) {
      if (depth[j] == 0 || !problem.droppable(j)) continue;
      const Duration c = problem.cost(j, depth[j]);
      if (c == 0) continue;
      if (victim < 0) {
        victim = j;
        continue;
      }
      const Duration cv = problem.cost(victim, depth[victim]);
      if (c > cv || (c == cv && problem.reward(j, depth[j]) < problem.reward(victim, depth[victim]))) victim = j;
    }
    if (victim < 0) return false;
    depth[victim] = 0;
  }
  schedule.build(problem, depth);
  for (int j = 0; j < problem.size(); ++j) {
    if (depth[j] != 0 || problem.lo(j) == 0 || !schedule.fits(problem, depth, j, problem.lo(j))) continue;
    depth[j] = problem.lo(j);
    schedule.update(problem, depth, j);
  }
  return true;
}

}  // namespace

const Plan& DensityPlanner::solve_lanes(const PlanProblem& problem) {
  const int n = problem.size();
  std::vector<int>& depth = plan_.depths;
  for (int i = 0; i < n; ++i) depth[i] = problem.lo(i);
  if (!problem.mandatory_fits() && !shed_until_mandatory_fits(problem, depth, slack_.schedule)) {
    detail::lowest_depth_plan(problem, plan_);
    return plan_;
  }

  // Best extension of job i that keeps the list schedule feasible, by marginal reward per unit of
  // planned time. A deeper depth never finishes anything earlier, so the first misfit ends the scan.
  // Trials read the schedule's stored states and slacks (ListScheduleSlack) instead of re-running it.
  slack_.schedule.build(problem, depth);
  auto best_extension = [&](int i, Candidate& out) {
    const int cur = depth[i];
    const Duration c0 = problem.cost(i, cur);
    const double r0 = problem.reward(i, cur);
    bool found = false;
    for (int l = cur + 1; l <= problem.hi(i); ++l) {
      if (!slack_.schedule.fits(problem, depth, i, l)) break;
      const double dr = problem.reward(i, l) - r0;
      if (dr <= 0.0) continue;
      const Duration dc = problem.cost(i, l) - c0;
      const double density = dc <= 0 ? 1e300 : dr / static_cast<double>(dc);
      if (!found || density > out.density) {
        out = Candidate{density, i, l};
        found = true;
      }
    }
    return found;
  };
  auto by_density = [](const Candidate& a, const Candidate& b) { return a.density < b.density; };

  heap_.clear();
  for (int i = 0; i < n; ++i) {
    if (depth[i] == 0) continue;
    Candidate c{};
    if (best_extension(i, c)) heap_.push_back(c);
  }
  std::make_heap(heap_.begin(), heap_.end(), by_density);
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), by_density);
    const Candidate c = heap_.back();
    heap_.pop_back();
    const int i = c.job;
    if (slack_.schedule.fits(problem, depth, i, c.depth)) {  // else others took the time since it was offered
      depth[i] = c.depth;
      slack_.schedule.update(problem, depth, i);
    }
    // Either way, offer the job's next best extension that still fits.
    Candidate next{};
    if (best_extension(i, next)) {
      heap_.push_back(next);
      std::push_heap(heap_.begin(), heap_.end(), by_density);
    }
  }
  detail::spend_leftover_slack(problem, plan_.depths, slack_);
  detail::finish_plan(problem, plan_);
  return plan_;
}

}  // namespace imprecise
