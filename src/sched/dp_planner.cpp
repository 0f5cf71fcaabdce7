// DpPlanner: the Yao et al. DP over (jobs in order) x (quantized reward), earliest finish per state.
#include "imprecise/sched/dp_planner.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "imprecise/error.hpp"
#include "plan_support.hpp"

namespace imprecise {

namespace {

using detail::begin_plan;
using detail::finish_plan;
using detail::kInfinity;
using detail::lowest_depth_plan;

/// Most DP states one yao-dp decision may visit (see DpPlanner::solve): about a millisecond's work.
constexpr double kMaxStates = 1 << 18;

/// Quantized reward, clamped at 0 so a deeper-but-worse depth never moves the DP index backwards.
int quantize(double reward, double delta) {
  if (!(reward > 0.0)) return 0;
  return static_cast<int>(std::floor(reward / delta + 1e-9));
}

}  // namespace

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
    if (states > kMaxStates) {
      delta *= states / kMaxStates;
      plan_.coarsened = true;
    }
  }
  plan_.delta_used = delta;
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

}  // namespace imprecise
