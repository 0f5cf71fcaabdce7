// Random planner instances for the planner tests: jobs of random stage counts, stage times and rewards,
// some partly run, and copying one instance's jobs into another.
#pragma once

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "imprecise/sched/plan_problem.hpp"

namespace imprecise::testing {

/// One random job: prefix sums of cost (0 up to `done`) and reward per depth 0..hi, the mandatory part
/// up to `lo`, and a deadline the caller sets.
struct RandomJob {
  int done = 0, lo = 0, hi = 0;
  std::vector<Duration> cost;
  std::vector<double> reward;
  Time deadline = 0;
};

struct RandomJobs {
  std::vector<RandomJob> jobs;
  Duration mandatory_total = 0;  ///< the remaining mandatory time of them all
};

/// `count` jobs of 2..max_stages stages, each stage 1-6 long, each step in reward 0-5 (+1 at depth 1)
/// with `integer_rewards`, else 0-0.3. `depths(rng, stages)` draws a job's {mandatory depth, stages
/// done} right after its stage count. The tests' seeds stand for this order of draws: keep it.
template <class Depths>
RandomJobs random_jobs(std::mt19937_64& rng, int count, int max_stages, bool integer_rewards, Depths&& depths) {
  std::uniform_int_distribution<int> stage_time(1, 6), stages(2, max_stages), reward_step(0, 5);
  std::uniform_real_distribution<double> real_step(0.0, 0.3);
  RandomJobs out;
  for (int i = 0; i < count; ++i) {
    RandomJob job;
    const int L = stages(rng);
    const std::pair<int, int> m_done = depths(rng, L);
    job.done = m_done.second;
    job.lo = std::max(m_done.first, job.done);
    job.hi = L;
    job.cost.assign(L + 1, 0);
    job.reward.assign(L + 1, 0.0);
    for (int l = 1; l <= L; ++l) {
      job.cost[l] = l <= job.done ? 0 : job.cost[l - 1] + stage_time(rng);
      job.reward[l] = job.reward[l - 1] + (integer_rewards ? reward_step(rng) + (l == 1 ? 1 : 0) : real_step(rng));
    }
    out.mandatory_total += job.cost[job.lo];
    out.jobs.push_back(std::move(job));
  }
  return out;
}

inline void sort_by_deadline(std::vector<RandomJob>& jobs) {
  std::sort(jobs.begin(), jobs.end(), [](const RandomJob& a, const RandomJob& b) { return a.deadline < b.deadline; });
}

/// Adds `jobs` in their order, droppable while mandatory work remains: what the planning policy passes.
inline void add_jobs(PlanProblem& problem, const std::vector<RandomJob>& jobs) {
  for (const RandomJob& job : jobs)
    problem.add(job.deadline, job.done, job.lo, job.hi, job.cost, job.reward, /*droppable=*/job.done < job.lo);
}

/// Adds every job of `from` to `to` as it stands there (deadline, done, depths, cost, reward, droppable).
inline void add_jobs_of(PlanProblem& to, const PlanProblem& from) {
  for (int i = 0; i < from.size(); ++i) {
    std::vector<Duration> cost(from.hi(i) + 1);
    std::vector<double> reward(from.hi(i) + 1);
    for (int l = 0; l <= from.hi(i); ++l) {
      cost[l] = from.cost(i, l);
      reward[l] = from.reward(i, l);
    }
    to.add(from.deadline(i), from.done(i), from.lo(i), from.hi(i), cost, reward, from.droppable(i));
  }
}

}  // namespace imprecise::testing
