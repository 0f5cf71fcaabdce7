// Planners for one decision point: the Yao et al. DP, the density greedy and the exhaustive reference.
#include "imprecise/planner.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <functional>

#include "imprecise/error.hpp"

namespace imprecise {

namespace {

constexpr Time kInfinity = kNever;
/// Most DP states one yao-dp decision may visit (see DpPlanner::solve): about a millisecond's work.
constexpr double kMaxStates = 1 << 18;

/// Quantized reward, clamped at 0 so a deeper-but-worse depth never moves the DP index backwards.
int quantize(double reward, double delta) {
  if (!(reward > 0.0)) return 0;
  return static_cast<int>(std::floor(reward / delta + 1e-9));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PlanProblem

void PlanProblem::reset(Time now) {
  now_ = now;
  deadline_.clear();
  done_.clear();
  lo_.clear();
  hi_.clear();
  offset_.clear();
  droppable_.clear();
  values_cost_.clear();
  values_reward_.clear();
}

void PlanProblem::add(Time deadline, int done, int lo, int hi, std::span<const Duration> cost,
                      std::span<const double> reward, bool droppable) {
  assert(done >= 0 && lo >= done && hi >= lo);
  assert(cost.size() > static_cast<std::size_t>(hi) && reward.size() > static_cast<std::size_t>(hi));
  deadline_.push_back(deadline);
  done_.push_back(done);
  lo_.push_back(lo);
  hi_.push_back(hi);
  offset_.push_back(static_cast<int>(values_cost_.size()));
  droppable_.push_back(droppable ? 1 : 0);
  values_cost_.insert(values_cost_.end(), cost.begin(), cost.begin() + hi + 1);
  values_reward_.insert(values_reward_.end(), reward.begin(), reward.begin() + hi + 1);
  // Depths below `done` are already paid for.
  for (int l = 0; l < done; ++l) values_cost_[offset_.back() + l] = 0;
}

bool PlanProblem::feasible(std::span<const int> depths) const {
  Time t = now_;
  for (int i = 0; i < size(); ++i) {
    const int l = depths[i];
    if (l == 0 && done_[i] == 0) {
      if (!droppable(i)) return false;
      continue;
    }
    if (l < lo_[i] || l > hi_[i]) return false;
    const Duration c = cost(i, l);
    if (c > 0) {
      t += c;
      if (t > deadline_[i]) return false;
    }
  }
  return true;
}

bool PlanProblem::mandatory_fits() const {
  Time t = now_;
  for (int i = 0; i < size(); ++i) {
    const Duration c = cost(i, lo_[i]);
    if (c > 0) {
      t += c;
      if (t > deadline_[i]) return false;
    }
  }
  return true;
}

namespace {

/// Fills plan totals from its depths.
void finish_plan(const PlanProblem& problem, Plan& plan) {
  plan.total_reward = 0.0;
  plan.dropped = 0;
  for (int i = 0; i < problem.size(); ++i) {
    if (plan.depths[i] == 0 && problem.lo(i) > 0) ++plan.dropped;
    plan.total_reward += problem.reward(i, plan.depths[i]);
  }
}

/// Resets `plan` for `problem` (every depth 0, feasible); true when there is nothing to plan.
bool begin_plan(const PlanProblem& problem, Plan& plan) {
  plan.depths.assign(problem.size(), 0);
  plan.feasible = true;
  if (problem.size() > 0) return false;
  finish_plan(problem, plan);
  return true;
}

/// Fallback when nothing can make the problem feasible: everyone at the lowest depth.
void lowest_depth_plan(const PlanProblem& problem, Plan& plan) {
  plan.depths.resize(problem.size());
  for (int i = 0; i < problem.size(); ++i) plan.depths[i] = problem.lo(i);
  plan.feasible = false;
  finish_plan(problem, plan);
}

}  // namespace

namespace detail {

void spend_leftover_slack(const PlanProblem& problem, std::vector<int>& depth, SlackScratch& scratch) {
  // Gains smaller than delta quantize to nothing, and the DP then prefers the shallower (earlier
  // finishing) depth. Hand the slack the plan leaves unused to such gains (and to flat ones), in
  // EDF order. Every
  // extension is checked against the slack of its own and all later jobs, so the plan stays
  // feasible, and real reward only grows, so the (1 - eps) bound still holds.
  const int n = problem.size();
  scratch.slack_suffix.resize(n + 1);
  scratch.prefix_finish.resize(n);
  Time t = problem.now();
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

// ---------------------------------------------------------------------------------------------
// DpPlanner

int DpPlanner::min_drops(const PlanProblem& problem) {
  // G[k] = earliest finish of the prefix with k drops, every served job at its lowest depth.
  const int n = problem.size();
  drop_finish_.assign(n + 1, kInfinity);
  drop_next_.assign(n + 1, kInfinity);
  drop_finish_[0] = problem.now();
  for (int i = 0; i < n; ++i) {
    std::fill(drop_next_.begin(), drop_next_.end(), kInfinity);
    const Duration c = problem.cost(i, problem.lo(i));
    for (int k = 0; k <= i; ++k) {
      const Time f = drop_finish_[k];
      if (f == kInfinity) continue;
      const Time t = f + c;
      if (c == 0 || t <= problem.deadline(i)) drop_next_[k] = std::min(drop_next_[k], t);
      if (problem.droppable(i)) drop_next_[k + 1] = std::min(drop_next_[k + 1], f);
    }
    std::swap(drop_finish_, drop_next_);
  }
  for (int k = 0; k <= n; ++k)
    if (drop_finish_[k] != kInfinity) return k;
  return -1;
}

const Plan& DpPlanner::solve(const PlanProblem& problem, double delta) {
  assert(delta > 0.0);
  const int n = problem.size();
  if (begin_plan(problem, plan_)) return plan_;
  int drops = 0;
  if (!problem.mandatory_fits()) {
    drops = min_drops(problem);
    if (drops < 0) {
      lowest_depth_plan(problem, plan_);
      return plan_;
    }
  }
  // Quantized reward per (job, depth). Without drops every job earns at least its lowest-depth
  // reward, so only the increments above it are quantized (finer for the same table size); with
  // drops the lowest-depth reward is part of what a served job earns and is quantized too.
  quant_offset_.resize(n + 1);
  reach_.resize(n + 1);
  quant_.clear();
  reach_[0] = 0;
  // The table has n x (drops + 1) x (total quanta) states. Under overload (many drops, the lowest-
  // depth rewards quantized too) that reaches millions: coarsen the quantum so it stays within
  // kMaxStates, trading reward resolution for a bounded decision time (delta is an FPTAS knob anyway).
  {
    double total = 0.0;
    for (int i = 0; i < n; ++i) {
      const double base = drops > 0 ? 0.0 : problem.reward(i, problem.lo(i));
      double best = 0.0;
      for (int l = problem.lo(i); l <= problem.hi(i); ++l) best = std::max(best, problem.reward(i, l) - base);
      total += best;
    }
    const double states = static_cast<double>(n) * (drops + 1) * (total / delta);
    if (states > kMaxStates) delta *= states / kMaxStates;
  }
  for (int i = 0; i < n; ++i) {
    quant_offset_[i] = static_cast<int>(quant_.size());
    const int lo = problem.lo(i);
    const double base = problem.reward(i, lo);
    const int base_q = drops > 0 ? quantize(base, delta) : 0;
    int best = 0;
    for (int l = lo; l <= problem.hi(i); ++l) {
      const int q = base_q + quantize(problem.reward(i, l) - base, delta);
      quant_.push_back(q);
      best = std::max(best, q);
    }
    reach_[i + 1] = reach_[i] + best;
  }
  // Branch and bound: the density plan is feasible with the same (fewest) drops, so its quantized
  // reward is reachable; a state that cannot reach it even if every later job earned its most can
  // never be on the best path, and is not expanded. On the benchmark's instances this skips most states.
  int bound = 0;
  const Plan& greedy = bound_.solve(problem);
  if (greedy.feasible && greedy.dropped == drops) {
    for (int i = 0; i < n; ++i)
      if (greedy.depths[i] > 0) bound += quant_[quant_offset_[i] + greedy.depths[i] - problem.lo(i)];
  }
  const int width = reach_[n] + 1;
  const int layers = drops + 1;
  finish_.assign(static_cast<std::size_t>(layers) * width, kInfinity);
  next_finish_.assign(static_cast<std::size_t>(layers) * width, kInfinity);
  choice_.resize(static_cast<std::size_t>(n) * layers * width);
  finish_[0] = problem.now();

  for (int i = 0; i < n; ++i) {
    const int lo = problem.lo(i), hi = problem.hi(i);
    const Time deadline = problem.deadline(i);
    const bool droppable = problem.droppable(i) && drops > 0;
    const int* q = quant_.data() + quant_offset_[i];
    const Duration* costs = &problem.cost(i, 0);
    const int prev_reach = reach_[i], cur_reach = reach_[i + 1];
    const int lowest = std::max(0, bound - (reach_[n] - reach_[i]));  // sources below cannot win
    std::int16_t* choice_i = choice_.data() + static_cast<std::size_t>(i) * layers * width;
    for (int k = 0; k < layers; ++k)
      std::fill_n(next_finish_.begin() + static_cast<std::ptrdiff_t>(k) * width, cur_reach + 1, kInfinity);
    for (int k = 0; k < layers; ++k) {
      // A reward level that finishes no earlier than some higher level is dominated: whatever it
      // can still reach, the higher level reaches with more reward. Skipping it keeps the answer.
      Time* source = finish_.data() + static_cast<std::size_t>(k) * width;
      Time best_later = kInfinity;
      for (int r = prev_reach; r >= lowest; --r) {
        if (source[r] >= best_later) source[r] = kInfinity;
        else best_later = source[r];
      }
    }
    for (int k = 0; k < layers; ++k) {
      const Time* row = finish_.data() + static_cast<std::size_t>(k) * width;
      Time* out = next_finish_.data() + static_cast<std::size_t>(k) * width;
      std::int16_t* choice_row = choice_i + static_cast<std::size_t>(k) * width;
      for (int r = lowest; r <= prev_reach; ++r) {
        const Time f = row[r];
        if (f == kInfinity) continue;
        if (droppable && k + 1 < layers) {
          Time* drop_out = out + width;
          if (f < drop_out[r]) {
            drop_out[r] = f;
            choice_row[width + r] = -1;
          }
        }
        for (int l = lo; l <= hi; ++l) {
          const Duration c = costs[l];
          const Time t = f + c;
          if (c > 0 && t > deadline) break;  // costs only grow with depth
          const int nr = r + q[l - lo];
          if (t < out[nr]) {
            out[nr] = t;
            choice_row[nr] = static_cast<std::int16_t>(l);
          }
        }
      }
    }
    std::swap(finish_, next_finish_);
  }

  const Time* last = finish_.data() + static_cast<std::size_t>(drops) * width;
  int best_r = -1;
  for (int r = reach_[n]; r >= 0; --r)
    if (last[r] != kInfinity) {
      best_r = r;
      break;
    }
  if (best_r < 0) {  // cannot happen when min_drops found a plan; keep a defined answer anyway
    lowest_depth_plan(problem, plan_);
    return plan_;
  }
  int k = drops, r = best_r;
  for (int i = n - 1; i >= 0; --i) {
    const int l = choice_[(static_cast<std::size_t>(i) * layers + k) * width + r];
    if (l < 0) {
      plan_.depths[i] = 0;
      --k;
    } else {
      plan_.depths[i] = l;
      r -= quant_[quant_offset_[i] + l - problem.lo(i)];
    }
  }
  assert(k == 0 && r == 0);
  detail::spend_leftover_slack(problem, plan_.depths, slack_);
  finish_plan(problem, plan_);
  return plan_;
}

// ---------------------------------------------------------------------------------------------
// DensityPlanner

// Bottom-up segment tree over prefix slack: range add and range minimum without recursion (an
// inner node's pending add is folded into its minimum, so updates need no push-down).
void DensityPlanner::tree_reset(std::span<const Duration> leaves) {
  tree_leaves_ = 1;
  while (tree_leaves_ < static_cast<int>(leaves.size())) tree_leaves_ *= 2;
  tree_min_.assign(2 * static_cast<std::size_t>(tree_leaves_), kInfinity);
  tree_add_.assign(static_cast<std::size_t>(tree_leaves_), 0);
  std::copy(leaves.begin(), leaves.end(), tree_min_.begin() + tree_leaves_);
  for (int p = tree_leaves_ - 1; p >= 1; --p) tree_min_[p] = std::min(tree_min_[2 * p], tree_min_[2 * p + 1]);
}

void DensityPlanner::tree_apply(int p, Duration value) {
  if (tree_min_[p] != kInfinity) tree_min_[p] += value;
  if (p < tree_leaves_) tree_add_[p] += value;
}

void DensityPlanner::tree_rebuild_above(int p) {
  for (p /= 2; p >= 1; p /= 2) {
    const Duration m = std::min(tree_min_[2 * p], tree_min_[2 * p + 1]);
    tree_min_[p] = m == kInfinity ? m : m + tree_add_[p];
  }
}

void DensityPlanner::tree_add(int from, int to, Duration value) {  // [from, to)
  int l = from + tree_leaves_, r = to + tree_leaves_;
  const int first = l, last = r - 1;
  for (; l < r; l /= 2, r /= 2) {
    if (l & 1) tree_apply(l++, value);
    if (r & 1) tree_apply(--r, value);
  }
  tree_rebuild_above(first);
  tree_rebuild_above(last);
}

Duration DensityPlanner::tree_min(int from, int to) const {  // [from, to)
  // Minimum over the canonical nodes, each plus the pending adds of its ancestors.
  auto pending_above = [this](int p) {
    Duration sum = 0;
    for (p /= 2; p >= 1; p /= 2) sum += tree_add_[p];
    return sum;
  };
  Duration best = kInfinity;
  int l = from + tree_leaves_, r = to + tree_leaves_;
  for (; l < r; l /= 2, r /= 2) {
    if (l & 1) {
      if (tree_min_[l] != kInfinity) best = std::min(best, tree_min_[l] + pending_above(l));
      ++l;
    }
    if (r & 1) {
      --r;
      if (tree_min_[r] != kInfinity) best = std::min(best, tree_min_[r] + pending_above(r));
    }
  }
  return best;
}

const Plan& DensityPlanner::solve(const PlanProblem& problem) {
  const int n = problem.size();
  if (begin_plan(problem, plan_)) return plan_;
  std::vector<int>& depth = plan_.depths;
  for (int i = 0; i < n; ++i) depth[i] = problem.lo(i);

  // Overload: Moore-Hodgson gives the fewest drops; among equal-cost victims shed the least reward.
  if (!problem.mandatory_fits()) {
    Time t = problem.now();
    for (int i = 0; i < n; ++i) {
      const Duration c = problem.cost(i, problem.lo(i));
      if (c == 0) continue;
      t += c;
      while (t > problem.deadline(i)) {
        int victim = -1;
        for (int j = 0; j <= i; ++j) {
          if (depth[j] == 0 || !problem.droppable(j) || problem.cost(j, problem.lo(j)) == 0) continue;
          if (victim < 0) {
            victim = j;
            continue;
          }
          const Duration cj = problem.cost(j, problem.lo(j)), cv = problem.cost(victim, problem.lo(victim));
          if (cj > cv || (cj == cv && problem.reward(j, problem.lo(j)) < problem.reward(victim, problem.lo(victim))))
            victim = j;
        }
        if (victim < 0) {
          lowest_depth_plan(problem, plan_);
          return plan_;
        }
        t -= problem.cost(victim, problem.lo(victim));
        depth[victim] = 0;
      }
    }
  }

  // Slack of every prefix at the lowest depths. Jobs with no work yet carry a large offset so they
  // never bind until they get work (then the offset is removed from their own leaf).
  constexpr Duration kIdleOffset = Duration{1} << 61;
  base_slack_.resize(n);
  Time t = problem.now();
  for (int i = 0; i < n; ++i) {
    const Duration c = depth[i] == 0 ? 0 : problem.cost(i, depth[i]);
    t += c;
    base_slack_[i] = problem.deadline(i) - t + (c > 0 ? 0 : kIdleOffset);
  }
  tree_reset(base_slack_);

  auto has_work = [&](int i) { return depth[i] > 0 && problem.cost(i, depth[i]) > 0; };
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
      if (dr <= 0.0) continue;
      const double density = dc <= 0 ? 1e300 : dr / static_cast<double>(dc);
      if (!found || density > out.density) {
        out = Candidate{density, i, l};
        found = true;
      }
    }
    return found;
  };
  auto room_of = [&](int i) {
    Duration room = tree_min(i, n);
    if (!has_work(i)) room = std::min(room, tree_min(i, i + 1) - kIdleOffset);
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
      if (!has_work(i) && dc > 0) tree_add(i, i + 1, -kIdleOffset);
      if (dc > 0) tree_add(i, n, -dc);
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
  detail::spend_leftover_slack(problem, plan_.depths, slack_);
  finish_plan(problem, plan_);
  return plan_;
}

// ---------------------------------------------------------------------------------------------
// Exhaustive reference

Plan solve_exhaustive(const PlanProblem& problem) {
  const int n = problem.size();
  if (n > 10) throw Error("exhaustive planner: " + std::to_string(n) + " jobs is too many (at most 10)");
  Plan best;
  best.feasible = false;
  best.dropped = n + 1;
  std::vector<int> depths(n, 0);
  std::function<void(int, Time, int, double)> visit = [&](int i, Time t, int dropped, double reward) {
    if (dropped > best.dropped) return;
    if (i == n) {
      if (!best.feasible || dropped < best.dropped || (dropped == best.dropped && reward > best.total_reward + 1e-9)) {
        best.feasible = true;
        best.dropped = dropped;
        best.total_reward = reward;
        best.depths = depths;
      }
      return;
    }
    if (problem.droppable(i) && problem.lo(i) > 0 && problem.done(i) == 0) {
      depths[i] = 0;
      visit(i + 1, t, dropped + 1, reward);
    }
    for (int l = problem.lo(i); l <= problem.hi(i); ++l) {
      const Duration c = problem.cost(i, l);
      if (c > 0 && t + c > problem.deadline(i)) break;
      depths[i] = l;
      visit(i + 1, t + c, dropped, reward + problem.reward(i, l));
    }
  };
  visit(0, problem.now(), 0, 0.0);
  if (!best.feasible) {
    lowest_depth_plan(problem, best);
    return best;
  }
  return best;
}

}  // namespace imprecise
